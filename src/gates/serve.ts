/**
 * The entitlement sidecar (`marketplace-entitlement serve`): listens at once, answering 503 on `/healthz`
 * until the pod is entitled (a Kubernetes startupProbe holds the main containers back until then), registers from
 * this process at every start (a file already there is never served), writes the entitlement file, then serves:
 * - `GET /healthz`: the entitlement gate (200 entitled, 503 not, JSON status);
 * - `GET /entitlement`: the public fields as JSON (always 200; `entitled` says the verdict);
 * - `GET /metrics`: Prometheus text: the entitlement, and the usage meter's sent, lost and pending usage when it runs;
 * - `POST /usage`: the usage meter for apps in other languages in the pod (loopback only), when `usageMeter`
 *   is given; 404 otherwise, 503 while the meter is still starting (it starts once the pod is entitled).
 *
 * @example
 * const service = await serveEntitlement({
 *   productCode,
 *   publicKey,
 *   entitlementFile: '/shared/entitlement.jwt',
 *   port: 8080
 * });
 * // ... on SIGTERM:
 * await service.close();
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { EntitlementFileOutcome } from '../entitlement-file/ensure-entitlement-file.js';
import { createEntitlementGate, statusHandler, type EntitlementGate, type EntitlementGateStatus } from './gate.js';
import { resolveInstanceId } from '../platform/instance-id.js';
import { listen } from '../common/listen.js';
import { DEFAULT_SERVE_HOST, DEFAULT_SERVE_PORT } from './serve-defaults.js';
import { handleUsageRequest, USAGE_PATH } from '../metering/usage-endpoint.js';
import type { UsageMeter } from '../metering/usage-meter.js';
import { usageMeterMetrics } from '../metering/usage-metrics.js';
import { holdEntitlement, type ContractPricing, type CustomPricing, type HeldEntitlement } from '../pricing/pricing.js';
import { formatMetrics, PROMETHEUS_CONTENT_TYPE, type Metric } from './prometheus.js';
import { DEFAULT_PUBLIC_KEY_VERSION } from '../registration/public-key-version.js';
import type { EnsureEntitledOptions } from '../registration/types.js';
import { applyHardenedProfile } from '../hardening/process-guards.js';

/** Hourly pricing (the default): RegisterUsage and the entitlement file, gated on the file. */
export interface ServeEntitlementOptions extends EnsureEntitledOptions, ServeOptions {
  /**
   * The pricing model; `'hourly'` or absent selects these options (`'custom'` and `'contract'` take
   * {@link ServeHeldEntitlementOptions}).
   */
  pricing?: 'hourly';
  entitlementFile: string;
}

/**
 * Custom or contract pricing: the entitlement is held in memory (src/pricing/pricing.ts) and `/healthz` reflects it.
 */
export type ServeHeldEntitlementOptions = (CustomPricing | ContractPricing) & ServeOptions;

/** What the server itself takes, whatever the pricing model. */
export interface ServeOptions {
  /** Default 8080. 0 picks a free port. */
  port?: number;
  /** Default 127.0.0.1: only the pod's own containers (and the kubelet's probes via the pod IP if you say so). */
  host?: string;
  /** Called once the server listens, before registering. */
  onListening?: (url: string) => void;
  /**
   * Starts the usage meter behind `POST /usage`, once entitled (e.g. `() => createUsageMeter({...})`); its
   * failure, such as a refused DryRun, fails `serveEntitlement`. Without it `/usage` answers 404.
   */
  usageMeter?: () => Promise<UsageMeter>;
}

/** A running sidecar from {@link serveEntitlement}. */
export interface EntitlementService {
  /** Where it listens, e.g. `http://127.0.0.1:8080`. */
  url: string;
  /** Hourly: the registration this process made and the file it wrote. */
  outcome: EntitlementFileOutcome | undefined;
  /** Custom and contract: the entitlement held (closed, so a licence is checked in, by `close()`). */
  held: HeldEntitlement | undefined;
  /** The meter behind `POST /usage`, when `usageMeter` was given. */
  usageMeter: UsageMeter | undefined;
  /**
   * Closes the usage meter (it sends what is due; call `usageMeter.close(options)` first to choose what),
   * then the server.
   */
  close(): Promise<void>;
}

/** The meter behind `POST /usage`: `enabled` once configured, `meter` once started. */
interface UsageRoute {
  enabled: boolean;
  meter?: UsageMeter;
}

/**
 * Starts the entitlement sidecar: listens at once (503 until entitled), holds the entitlement for the pricing model
 * (hourly: keeps or registers the entitlement file), then serves `/healthz`, `/entitlement`, `/metrics` and, with
 * `usageMeter`, `POST /usage`.
 *
 * @example
 * const service = await serveEntitlement({
 *   productCode,
 *   publicKey,
 *   entitlementFile: '/shared/entitlement.jwt',
 *   port: 8080
 * });
 * process.once('SIGTERM', () => void service.close());
 */
export async function serveEntitlement(
  given: ServeEntitlementOptions | ServeHeldEntitlementOptions,
): Promise<EntitlementService> {
  // Before the first await: the SIGUSR1 guard must be in place from the start.
  const options = applyHardenedProfile(given, 'serveEntitlement', { reachesAws: true });
  const source =
    options.pricing === 'custom' || options.pricing === 'contract' ? heldSource(options) : await fileSource(options);
  const metrics = { attempts: 0, errors: new Map<string, number>(), extra: () => source.held?.metrics() ?? [] };
  const observe = (status: EntitlementGateStatus) => {
    if (!status.entitled)
      metrics.errors.set(status.code ?? 'UNKNOWN', (metrics.errors.get(status.code ?? 'UNKNOWN') ?? 0) + 1);
    return status;
  };
  // Every verdict served is also counted for /metrics; one status() per request (concurrent calls share one
  // verification).
  const status = () => source.gate.status().then(observe);
  const verdicts: Verdicts = { stats: () => source.gate.stats(), status, healthz: statusHandler(status) };
  const usage: UsageRoute = { enabled: options.usageMeter !== undefined };
  const server = createServer((req, res) => route(req, res, verdicts, metrics, usage));
  const url = await listen(server, options.port ?? DEFAULT_SERVE_PORT, options.host ?? DEFAULT_SERVE_HOST);
  const close = async () => {
    try {
      await usage.meter?.close();
      await source.held?.close();
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()).closeAllConnections());
    }
  };
  options.onListening?.(url);
  try {
    const outcome = await source.obtain();
    metrics.attempts = outcome?.attempts ?? 0;
    if (options.usageMeter) usage.meter = await startUnlessAborted(options.usageMeter, options.signal);
    return { url, outcome, held: source.held, usageMeter: usage.meter, close };
  } catch (err) {
    await close();
    throw err;
  }
}

/** Where `/healthz` gets its verdict, and how the entitlement is obtained once the server listens. */
interface EntitlementSource {
  /** What serve asks (replaced once entitled): the verdict, and the verification counters for /metrics. */
  gate: Pick<EntitlementGate, 'status' | 'stats'>;
  /** Resolves with the file's outcome (hourly) or undefined (held); sets `held` for custom and contract. */
  obtain(): Promise<EntitlementFileOutcome | undefined>;
  held?: HeldEntitlement;
}

/**
 * Hourly: `NOT_YET_ENTITLED` until this process has registered and written the file (a file already there, from a
 * previous start or from anyone else, is never served); from then on the gate over that file, requiring the nonce
 * this process registered, so a file replaced afterwards answers `REGISTRATION_NOT_OURS`.
 */
async function fileSource(options: ServeEntitlementOptions): Promise<EntitlementSource> {
  const instance = await resolveInstanceId({
    instanceId: options.instanceId,
    env: options.env,
    binding: options.instanceBinding,
  });
  const source: EntitlementSource = {
    gate: notYetEntitled,
    obtain: async () => {
      // Loaded only here, once the server listens: an app that imports the gates for the in-process gate or
      // formatMetrics does not pay at boot for RegisterUsage and the Metering SDK (docs/benchmarks.md, "Importing
      // the package"). A failure to load rejects like a failed registration: the server closes, serve rejects.
      const { ensureEntitlementFile } = await import('../entitlement-file/ensure-entitlement-file.js');
      const outcome = await ensureEntitlementFile({
        ...options,
        ...(instance && { instanceId: instance.instance }),
        reuseExistingFile: false,
      });
      source.gate = createEntitlementGate({
        file: options.entitlementFile,
        publicKey: options.publicKey,
        productCode: options.productCode,
        publicKeyVersion: options.publicKeyVersion ?? DEFAULT_PUBLIC_KEY_VERSION,
        nonce: outcome.claims.nonce,
        ...(instance && { instanceId: instance.instance }),
        ...(options.env && { env: options.env }),
      });
      return outcome;
    },
  };
  return source;
}

const NOT_YET = Object.freeze({
  entitled: false,
  code: 'NOT_YET_ENTITLED',
  reason: 'The entitlement check has not succeeded yet.',
});
const notYetEntitled: EntitlementSource['gate'] = {
  status: async () => NOT_YET,
  stats: () => ({ verifications: 0, lastVerificationAt: undefined }),
};

function heldSource(options: ServeHeldEntitlementOptions): EntitlementSource {
  const source: EntitlementSource = {
    gate: {
      status: async () => source.held?.status() ?? NOT_YET,
      stats: notYetEntitled.stats,
    },
    obtain: async () => {
      source.held = await holdEntitlement(options);
      return undefined;
    },
  };
  return source;
}

/**
 * Starts the meter, but gives up waiting on `signal` (a SIGTERM while a DryRun retries). The meter itself never
 * gets the signal: its `close()` must still send on shutdown. One that starts after all is closed at once.
 */
async function startUnlessAborted(
  start: () => Promise<UsageMeter>,
  signal: AbortSignal | undefined,
): Promise<UsageMeter> {
  signal?.throwIfAborted();
  const starting = start();
  if (!signal) return starting;
  return new Promise<UsageMeter>((resolve, reject) => {
    const onAbort = () => {
      reject(signal.reason as Error);
      void starting.then((meter) => meter.close()).catch(() => undefined);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    void starting.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/** The gate, its status counted for /metrics, and the /healthz handler over that status. */
interface Verdicts {
  stats: EntitlementSource['gate']['stats'];
  status: () => Promise<EntitlementGateStatus>;
  healthz: (req: IncomingMessage, res: ServerResponse) => void;
}

function route(
  req: IncomingMessage,
  res: ServerResponse,
  verdicts: Verdicts,
  metrics: { attempts: number; errors: Map<string, number>; extra: () => Metric[] },
  usage: UsageRoute,
): void {
  const path = (req.url ?? '/').split('?')[0];
  if (path === USAGE_PATH) return void routeUsage(req, res, usage);
  if (path === '/healthz') return void verdicts.healthz(req, res);
  if (req.method !== 'GET' && req.method !== 'HEAD') return void res.writeHead(405, { allow: 'GET, HEAD' }).end();
  if (path === '/entitlement') {
    void verdicts.status().then((status) => send(res, 200, 'application/json; charset=utf-8', JSON.stringify(status)));
    return;
  }
  if (path === '/metrics') {
    void verdicts.status().then((status) => {
      const { verifications, lastVerificationAt } = verdicts.stats();
      const body = formatMetrics([
        {
          name: 'marketplace_entitlement_valid',
          help: '1 when the entitlement file verifies, else 0.',
          type: 'gauge',
          samples: [{ value: status.entitled ? 1 : 0 }],
        },
        {
          name: 'marketplace_entitlement_registration_attempts_total',
          help: 'RegisterUsage calls made by this process.',
          type: 'counter',
          samples: [{ value: metrics.attempts }],
        },
        {
          name: 'marketplace_entitlement_verifications_total',
          help: 'Full verifications of the file (cache misses).',
          type: 'counter',
          samples: [{ value: verifications }],
        },
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
        ...metrics.extra(),
        ...(usage.meter ? usageMeterMetrics(usage.meter.stats()) : []),
      ]);
      send(res, 200, PROMETHEUS_CONTENT_TYPE, body);
    });
    return;
  }
  const paths = ['/healthz', '/entitlement', '/metrics', ...(usage.enabled ? [USAGE_PATH] : [])];
  send(res, 404, 'application/json; charset=utf-8', JSON.stringify({ error: 'not found', paths }));
}

function routeUsage(req: IncomingMessage, res: ServerResponse, usage: UsageRoute): void {
  if (!usage.enabled) {
    const message =
      'Usage metering is off: start serve with --meter-dimensions ' +
      '(MARKETPLACE_METER_DIMENSIONS) to accept POST /usage.';
    return void send(
      res,
      404,
      'application/json; charset=utf-8',
      JSON.stringify({ error: 'METERING_DISABLED', message }),
    );
  }
  if (!usage.meter) {
    const message = 'The usage meter starts once this pod or task is entitled; retry shortly.';
    res.setHeader('retry-after', '1');
    return void send(res, 503, 'application/json; charset=utf-8', JSON.stringify({ error: 'METER_STARTING', message }));
  }
  void handleUsageRequest(usage.meter, req, res);
}

function send(res: ServerResponse, status: number, contentType: string, body: string): void {
  res
    .writeHead(status, {
      'content-type': contentType,
      'content-length': Buffer.byteLength(body),
      'cache-control': 'no-store',
    })
    .end(body);
}
