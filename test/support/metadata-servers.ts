/**
 * Local stand-ins for metadata services, so tests never send traffic to a real metadata address (169.254.x.x):
 * EC2 IMDSv2, and `startStubServer()` for a misbehaving endpoint. Each records the requests it saw. (ECS task
 * metadata and credentials are emulator features: `startMeteringEmulator({ ecs })`.)
 *
 * @example
 * const imds = await startImdsServer('ap-southeast-2');
 * await resolveRegion({ env: { AWS_EC2_METADATA_SERVICE_ENDPOINT: imds.url } });
 * await imds.close();
 */
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface StubRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

export interface StubReply {
  status: number;
  body: string | object;
  /** Default: text/plain for a string body, application/json otherwise. */
  contentType?: string;
}

export interface StubServer {
  url: string;
  /** Every request received, in order. */
  requests: StubRequest[];
  close(): Promise<void>;
}

/** An HTTP server on 127.0.0.1 answering `"METHOD /path"` routes; anything else is a 404. */
export async function startStubServer(
  routes: Record<string, (request: StubRequest) => StubReply>,
): Promise<StubServer> {
  const requests: StubRequest[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      const request = { method: req.method ?? 'GET', path: req.url ?? '/', headers: req.headers, body };
      requests.push(request);
      const route = routes[`${request.method} ${request.path}`];
      const reply = route ? route(request) : { status: 404, body: 'not found' };
      const isText = typeof reply.body === 'string';
      res.writeHead(reply.status, {
        'content-type': reply.contentType ?? (isText ? 'text/plain' : 'application/json'),
      });
      res.end(isText ? reply.body : JSON.stringify(reply.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** The session token the IMDSv2 stand-in hands out. */
export const IMDS_TOKEN = 'imds-stand-in-token';

/**
 * EC2 IMDSv2 (`AWS_EC2_METADATA_SERVICE_ENDPOINT`): a token from `PUT /latest/api/token` (TTL header required),
 * then `GET /latest/meta-data/placement/region` with that token answers `region` (401 without it).
 */
export function startImdsServer(region: string): Promise<StubServer> {
  return startStubServer({
    'PUT /latest/api/token': ({ headers }) =>
      headers['x-aws-ec2-metadata-token-ttl-seconds']
        ? { status: 200, body: IMDS_TOKEN }
        : { status: 400, body: 'missing TTL' },
    'GET /latest/meta-data/placement/region': ({ headers }) =>
      headers['x-aws-ec2-metadata-token'] === IMDS_TOKEN
        ? { status: 200, body: region }
        : { status: 401, body: 'unauthorized' },
  });
}
