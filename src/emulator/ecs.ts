/**
 * Stand-ins for the two ECS agent endpoints a task reaches at 169.254.170.2 (plain HTTP, as in production): task
 * metadata v4 (`ECS_CONTAINER_METADATA_URI_V4`: `GET /v4/<container>` for the container, `GET /v4/<container>/task`
 * for the task, whose TaskARN names the Region) and the container credentials endpoint
 * (`AWS_CONTAINER_CREDENTIALS_RELATIVE_URI`: `GET /v2/credentials/<id>`, the task role's temporary credentials).
 * The emulator serves them on their own listener ({@link MeteringEmulatorOptions.ecs}) and records each request in
 * its `calls` as `EcsContainerMetadata`, `EcsTaskMetadata` or `EcsContainerCredentials`.
 *
 * @example
 * const emulator = await startMeteringEmulator({ ecs: { region: 'eu-west-1' } });
 * const env = emulator.ecs!.environment; // ECS_CONTAINER_METADATA_URI_V4, AWS_CONTAINER_CREDENTIALS_FULL_URI
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { listen } from '../common/listen.js';
import type { RoleCredentials } from './types.js';

/** The ECS stand-ins' settings: where they listen, the task's Region, and who may fetch credentials. */
export interface EcsStandInOptions {
  /** The task's Region: its TaskARN is `arn:aws:ecs:<region>:123456789012:task/...`. */
  region: string;
  /** Default 127.0.0.1; production's agent answers on 169.254.170.2. */
  host?: string;
  /** Default 0 (any free port); production's agent answers on 80. */
  port?: number;
  /**
   * When given, the credentials endpoint answers only requests whose `Authorization` header is this token (what
   * the SDK sends from `AWS_CONTAINER_AUTHORIZATION_TOKEN`, as EKS Pod Identity and ECS Anywhere use); 401 otherwise.
   * Default: no token, as for `AWS_CONTAINER_CREDENTIALS_RELATIVE_URI` in an ECS task.
   */
  authorizationToken?: string;
}

/** The running ECS stand-ins. */
export interface EcsStandIns {
  /** Base URL, e.g. `http://169.254.170.2:80`. */
  url: string;
  /** The container's metadata v4 URI: the value of `ECS_CONTAINER_METADATA_URI_V4`. */
  metadataUri: string;
  /**
   * The credentials path: the value of `AWS_CONTAINER_CREDENTIALS_RELATIVE_URI` (the SDK prefixes
   * http://169.254.170.2).
   */
  credentialsRelativeUri: string;
  /** The task ARN the metadata names. */
  taskArn: string;
  /**
   * What the ECS agent would set in the task, pointing at these stand-ins: `ECS_CONTAINER_METADATA_URI_V4` and
   * the credentials URI (`AWS_CONTAINER_CREDENTIALS_RELATIVE_URI` when served on 169.254.170.2:80, where the SDK
   * looks for it; `AWS_CONTAINER_CREDENTIALS_FULL_URI` anywhere else), plus `AWS_CONTAINER_AUTHORIZATION_TOKEN`
   * when one is required.
   */
  environment: Record<string, string>;
  /** Stops the listener and closes its connections. */
  close(): Promise<void>;
}

/** One request an ECS stand-in answered, for the emulator's `calls`. */
export interface EcsRequestRecord {
  operation: 'EcsTaskMetadata' | 'EcsContainerMetadata' | 'EcsContainerCredentials' | 'EcsUnknownPath';
  path: string;
  statusCode: number;
  host: string | undefined;
}

/** The ids in the paths: fixed, so the environment a test gives a task is known before the stand-ins start. */
export const ECS_CONTAINER_ID = '0123456789abcdef0123456789abcdef-1234567890';
export const ECS_CREDENTIALS_ID = '5f3d1c2e-0a4b-4c6d-8e9f-0123456789ab';
const ECS_TASK_ID = '0123456789abcdef0123456789abcdef';
const ACCOUNT_ID = '123456789012';
/** Where the ECS agent answers in a task, and where the SDK sends `AWS_CONTAINER_CREDENTIALS_RELATIVE_URI`. */
export const ECS_AGENT_ADDRESS = '169.254.170.2';

/** Starts the task metadata v4 and container credentials stand-ins; `record` is told of every request. */
export async function startEcsStandIns(
  options: EcsStandInOptions,
  credentials: () => RoleCredentials,
  now: () => Date,
  record: (request: EcsRequestRecord) => void,
): Promise<EcsStandIns> {
  const metadataPath = `/v4/${ECS_CONTAINER_ID}`;
  const credentialsPath = `/v2/credentials/${ECS_CREDENTIALS_ID}`;
  const cluster = `arn:aws:ecs:${options.region}:${ACCOUNT_ID}:cluster/emulated-cluster`;
  const taskArn = `arn:aws:ecs:${options.region}:${ACCOUNT_ID}:task/emulated-cluster/${ECS_TASK_ID}`;
  const container = {
    DockerId: ECS_CONTAINER_ID,
    Name: 'product',
    DockerName: 'ecs-product-1-product',
    Image: 'product:latest',
    Labels: {
      'com.amazonaws.ecs.cluster': cluster,
      'com.amazonaws.ecs.container-name': 'product',
      'com.amazonaws.ecs.task-arn': taskArn,
      'com.amazonaws.ecs.task-definition-family': 'product',
      'com.amazonaws.ecs.task-definition-version': '1',
    },
    DesiredStatus: 'RUNNING',
    KnownStatus: 'RUNNING',
    Type: 'NORMAL',
    ContainerARN:
      `arn:aws:ecs:${options.region}:${ACCOUNT_ID}:container/` + `emulated-cluster/${ECS_TASK_ID}/${ECS_CONTAINER_ID}`,
  };
  const task = {
    Cluster: cluster,
    TaskARN: taskArn,
    Family: 'product',
    Revision: '1',
    DesiredStatus: 'RUNNING',
    KnownStatus: 'RUNNING',
    AvailabilityZone: `${options.region}a`,
    LaunchType: 'FARGATE',
    Containers: [container],
  };

  function answer(req: IncomingMessage, res: ServerResponse): void {
    const path = (req.url ?? '/').replace(/\?.*$/, '');
    const reply = (operation: EcsRequestRecord['operation'], statusCode: number, body: object): void => {
      record({ operation, path, statusCode, host: req.headers.host });
      res.writeHead(statusCode, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    };
    if (req.method === 'GET' && path === metadataPath) return void reply('EcsContainerMetadata', 200, container);
    if (req.method === 'GET' && path === `${metadataPath}/task`) return void reply('EcsTaskMetadata', 200, task);
    if (req.method === 'GET' && path === credentialsPath) {
      if (options.authorizationToken !== undefined && req.headers.authorization !== options.authorizationToken) {
        return void reply('EcsContainerCredentials', 401, {
          code: 'Unauthorized',
          message: "The Authorization header is not the task's token.",
        });
      }
      const role = credentials();
      return void reply('EcsContainerCredentials', 200, {
        AccessKeyId: role.accessKeyId,
        SecretAccessKey: role.secretAccessKey,
        Token: role.sessionToken,
        Expiration: new Date(now().getTime() + 60 * 60 * 1000).toISOString(),
        RoleArn: `arn:aws:iam::${ACCOUNT_ID}:role/product-task-role`,
      });
    }
    reply('EcsUnknownPath', 404, { code: 'NotFound', message: `No ECS agent endpoint at ${req.method} ${path}.` });
  }

  const sockets = new Set<Socket>();
  const server = createServer((req, res) => {
    req.resume(); // GET requests: any body is ignored
    req.on('end', () => answer(req, res));
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  const url = await listen(server, options.port ?? 0, options.host ?? '127.0.0.1');
  const onAgentAddress = url === `http://${ECS_AGENT_ADDRESS}:80`;
  return {
    url,
    metadataUri: `${url}${metadataPath}`,
    credentialsRelativeUri: credentialsPath,
    taskArn,
    environment: {
      ECS_CONTAINER_METADATA_URI_V4: onAgentAddress
        ? `http://${ECS_AGENT_ADDRESS}${metadataPath}`
        : `${url}${metadataPath}`,
      ...(onAgentAddress
        ? { AWS_CONTAINER_CREDENTIALS_RELATIVE_URI: credentialsPath }
        : { AWS_CONTAINER_CREDENTIALS_FULL_URI: `${url}${credentialsPath}` }),
      ...(options.authorizationToken !== undefined && {
        AWS_CONTAINER_AUTHORIZATION_TOKEN: options.authorizationToken,
      }),
    },
    close() {
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())));
    },
  };
}
