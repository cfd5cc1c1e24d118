/**
 * The entitlement sidecar (`marketplace-entitlement serve`): listens at once, answering 503 on `/healthz`
 * until the pod is entitled (a Kubernetes startupProbe holds the main containers back until then), registers
 * unless a valid file for this instance already exists, then serves:
 * - `GET /healthz`: the entitlement gate (200 entitled, 503 not, JSON status);
 * - `GET /entitlement`: the public fields as JSON (always 200; `entitled` says the verdict);
 * - `GET /metrics`: Prometheus text.
 *
 * @example
 * const service = await serveEntitlement({ productCode, publicKey, entitlementFile: '/shared/entitlement.jwt', port: 8080 });
 * // ... on SIGTERM:
 * await service.close();
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ensureEntitlementFile, type EntitlementFileOutcome } from './ensure-entitlement-file.js';
import { ConfigurationError } from './errors.js';
import { createEntitlementGate, type EntitlementGate, type EntitlementGateStatus } from './gate.js';
import { resolveInstanceId } from './instance-id.js';
import { formatMetrics, PROMETHEUS_CONTENT_TYPE } from './prometheus.js';
import type { EnsureEntitledOptions } from './register.js';

export interface ServeEntitlementOptions extends EnsureEntitledOptions {
  entitlementFile: string;
  /** Default 8080. 0 picks a free port. */
  port?: number;
  /** Default 127.0.0.1: only the pod's own containers (and the kubelet's probes via the pod IP if you say so). */
  host?: string;
  /** Called once the server listens, before registering. */
  onListening?: (url: string) => void;
}

export interface EntitlementService {
  url: string;
  /** How the file came to be: reused or freshly registered. */
  outcome: EntitlementFileOutcome;
  close(): Promise<void>;
}

export async function serveEntitlement(options: ServeEntitlementOptions): Promise<EntitlementService> {
  const instance = await resolveInstanceId({ instanceId: options.instanceId, env: options.env });
  const gate = createEntitlementGate({
    file: options.entitlementFile,
    publicKey: options.publicKey,
    productCode: options.productCode,
    publicKeyVersion: options.publicKeyVersion ?? 1,
    ...(instance && { instanceId: instance.instance }),
  });
  const metrics = { attempts: 0, errors: new Map<string, number>() };
  const observe = (status: EntitlementGateStatus) => {
    if (!status.entitled) metrics.errors.set(status.code ?? 'UNKNOWN', (metrics.errors.get(status.code ?? 'UNKNOWN') ?? 0) + 1);
    return status;
  };
  const server = createServer((req, res) => route(req, res, gate, observe, metrics));
  const url = await listen(server, options.port ?? 8080, options.host ?? '127.0.0.1');
  const close = () => new Promise<void>((resolve) => server.close(() => resolve()).closeAllConnections());
  options.onListening?.(url);
  try {
    const outcome = await ensureEntitlementFile({ ...options, ...(instance && { instanceId: instance.instance }) });
    metrics.attempts = outcome.attempts;
    return { url, outcome, close };
  } catch (err) {
    await close();
    throw err;
  }
}

function route(
  req: IncomingMessage,
  res: ServerResponse,
  gate: EntitlementGate,
  observe: (status: EntitlementGateStatus) => EntitlementGateStatus,
  metrics: { attempts: number; errors: Map<string, number> },
): void {
  const path = (req.url ?? '/').split('?')[0];
  if (path === '/healthz') {
    // The gate answers; the verdict is also counted for /metrics (concurrent status() calls share one verification).
    void gate.status().then(observe);
    return gate.handler(req, res);
  }
  if (req.method !== 'GET' && req.method !== 'HEAD') return void res.writeHead(405, { allow: 'GET, HEAD' }).end();
  if (path === '/entitlement') {
    void gate.status().then((status) => send(res, 200, 'application/json; charset=utf-8', JSON.stringify(observe(status))));
    return;
  }
  if (path === '/metrics') {
    void gate.status().then((status) => {
      observe(status);
      const { verifications, lastVerificationAt } = gate.stats();
      const body = formatMetrics([
        { name: 'marketplace_entitlement_valid', help: '1 when the entitlement file verifies, else 0.', type: 'gauge', samples: [{ value: status.entitled ? 1 : 0 }] },
        {
          name: 'marketplace_entitlement_registration_attempts_total',
          help: 'RegisterUsage calls made by this process (0 when a valid file was reused).',
          type: 'counter',
          samples: [{ value: metrics.attempts }],
        },
        { name: 'marketplace_entitlement_verifications_total', help: 'Full verifications of the file (cache misses).', type: 'counter', samples: [{ value: verifications }] },
        {
          name: 'marketplace_entitlement_last_verification_timestamp_seconds',
          help: 'When the file was last fully verified (0 before the first time).',
          type: 'gauge',
          samples: [{ value: lastVerificationAt ? lastVerificationAt.getTime() / 1000 : 0 }],
        },
        {
          name: 'marketplace_entitlement_errors_total',
          help: 'Failed entitlement checks seen, by error code.',
          type: 'counter',
          samples: [...metrics.errors].map(([code, value]) => ({ labels: { code }, value })),
        },
      ]);
      send(res, 200, PROMETHEUS_CONTENT_TYPE, body);
    });
    return;
  }
  send(res, 404, 'application/json; charset=utf-8', JSON.stringify({ error: 'not found', paths: ['/healthz', '/entitlement', '/metrics'] }));
}

function send(res: ServerResponse, status: number, contentType: string, body: string): void {
  res.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store' }).end(body);
}

function listen(server: ReturnType<typeof createServer>, port: number, host: string): Promise<string> {
  return new Promise((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(new ConfigurationError('LISTEN_FAILED', `Cannot listen on ${host}:${port} (${err.code ?? err.message}); choose another --port or --host.`, { cause: err })),
    );
    server.listen(port, host, () => {
      const address = server.address() as AddressInfo;
      resolve(`http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`);
    });
  });
}
