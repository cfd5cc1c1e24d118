/**
 * The in-process entitlement gate: a readiness check the main container answers itself, from the signed
 * entitlement file the init container wrote (docs/gate.md).
 *
 * A probe every second must cost microseconds, yet a replaced, tampered or deleted file must be noticed on
 * the very next call. So each call makes one synchronous `stat` (a few microseconds for a local file; the
 * asynchronous one costs a round trip through libuv's thread pool, about ten times that), and the full verification
 * (one Ed25519 and one PS256 signature check) runs only when the file's identity (device, inode, size, mtime and ctime
 * in nanoseconds) differs from the last verified one, or when a verdict expires (`maxAgeSec`). The key and the
 * expectations are fixed for the life of the gate. Calls that arrive while a verification is running share it.
 *
 * @example
 * import { createServer } from 'node:http';
 * const gate = createEntitlementGate({
 *   file: '/var/run/marketplace-entitlement/entitlement.jwt',
 *   publicKey: productPublicKeyPem,
 *   productCode: 'abc123example', // in a pod, the file must name the pod UID the kubelet's mounts name
 * });
 * createServer(gate.handler).listen(8081); // readinessProbe: httpGet :8081/
 * console.log(await gate.status());
 * // { entitled: true, productCode: 'abc123example', registeredAt: '...', instance: '...' }
 */
import { statSync, type BigIntStats } from 'node:fs';
import { entitlementFilePath } from '../entitlement-file/entitlement-file-path.js';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { resolve } from 'node:path';
import {
  entitlementFileExpiry,
  fileTimeBounds,
  verifyEntitlementFile,
  type VerifyEntitlementFileOptions,
} from '../entitlement-file/entitlement-file.js';
import { ConfigurationError, EntitlementError, VerificationError } from '../common/errors.js';
import { resolveInstanceId, type InstanceBinding } from '../platform/instance-id.js';
import type { ProcessGuardOptions } from '../hardening/integrity.js';
import { applyHardenedProfile, checkProcessIntegrity } from '../hardening/process-guards.js';
import { loadProductPublicKey } from '../registration/public-key.js';

/**
 * What {@link createEntitlementGate} verifies: the file, the product key, and optionally the product code and instance.
 */
export interface EntitlementGateOptions extends Omit<VerifyEntitlementFileOptions, 'now'>, ProcessGuardOptions {
  /**
   * The entitlement file the init container (`marketplace-entitlement register`) writes. Default:
   * `MARKETPLACE_ENTITLEMENT_FILE` (of `env` when given), else /var/run/marketplace-entitlement/entitlement.jwt.
   */
  file?: string;
  /**
   * Where the platform names the instance (Kubernetes pod UID, ECS task ARN) the file must name it, with or
   * without this option; a differing `instanceId` makes every answer `INSTANCE_CONFLICT`. Off any platform the
   * file must name `instanceId` when given, and any instance when not.
   */
  instanceId?: string;
  /** Answer `INSTANCE_UNKNOWN` unless this platform names the instance. Default `none`. */
  instanceBinding?: InstanceBinding;
}

/** The gate's answer; also the JSON body of the handler's response. */
export interface EntitlementGateStatus {
  /** True when the file verifies for this product and instance. */
  entitled: boolean;
  /** Why not entitled, and what to do about it. */
  reason?: string;
  /**
   * Stable code of the failed check, e.g. `FILE_SIGNATURE_INVALID`, `INSTANCE_MISMATCH`, `ENTITLEMENT_FILE_MISSING`.
   */
  code?: string;
  /** The product the file is for. */
  productCode?: string;
  /** When AWS signed the registration (ISO 8601). */
  registeredAt?: string;
  /** The pod UID or ECS task ARN the file was made for, when it names one. */
  instance?: string;
}

/** How often the gate really verified the file, for tests and metrics. */
export interface EntitlementGateStats {
  /** Full verifications run (cache misses): reading and checking the file. */
  verifications: number;
  /** When the last one started; undefined before the first. */
  lastVerificationAt: Date | undefined;
}

/** A readiness gate over the entitlement file: `handler` for an HTTP route, `status()` for your own. */
export interface EntitlementGate {
  /** The current verdict. Never rejects: every failure is `{ entitled: false, code, reason }`. */
  status(): Promise<EntitlementGateStatus>;
  /**
   * A Node request listener: 200 with the status as JSON when entitled, 503 when not; GET and HEAD
   * (others 405); `Cache-Control: no-store`. Fits `http.createServer`, Express, and Fastify through
   * `reply.hijack()` and the raw objects.
   */
  handler(req: IncomingMessage, res: ServerResponse): void;
  /** How often the file was really verified. */
  stats(): EntitlementGateStats;
}

/** The identity of one version of the file: any replacement or in-place write changes it. */
type FileVersion = Pick<BigIntStats, 'dev' | 'ino' | 'size' | 'mtimeNs' | 'ctimeNs'>;

interface Verdict {
  status: EntitlementGateStatus;
  /** `Date.now()` after which this verdict must be recomputed even for the same file version. */
  validUntilMs: number;
}

interface CacheEntry {
  version: FileVersion;
  verdict: Promise<Verdict>;
  /** `verdict`'s status: what every call on this version returns (one promise, not one per call). */
  status: Promise<EntitlementGateStatus>;
  /** Set once `verdict` has resolved. */
  settled?: Verdict;
}

/** Verdicts that are not a property of the file's content: the same file may pass later (a clock catching up). */
const CLOCK_DEPENDENT_CODES = new Set(['FILE_IAT_IN_FUTURE']);

/** Recompute on the next call. */
const RECHECK_NEXT_CALL = 0;

/**
 * Creates a gate over an entitlement file. The key is loaded and the options are checked now, so a
 * misconfigured gate fails at start-up ({@link ConfigurationError}) instead of answering 503 forever.
 *
 * @example
 * // the file: MARKETPLACE_ENTITLEMENT_FILE, else the default path
 * const gate = createEntitlementGate({ publicKey, maxAgeSec: 86_400 });
 * app.get('/readyz', gate.handler); // Express
 */
export function createEntitlementGate(given: EntitlementGateOptions): EntitlementGate {
  const options = applyHardenedProfile(given, 'createEntitlementGate', { reachesAws: false });
  const {
    file: givenFile = entitlementFilePath(options.env),
    hardened: _applied,
    codeInjection,
    allowedPreloads,
    mountedCode,
    env,
    instanceBinding,
    ...expectations
  } = options;
  if (typeof givenFile !== 'string' || givenFile === '') {
    throw new ConfigurationError(
      'INVALID_OPTION',
      'createEntitlementGate needs `file`: the path of the entitlement file the init container writes.',
    );
  }
  const { maxAgeSec } = fileTimeBounds(expectations);
  checkProcessIntegrity({ codeInjection, allowedPreloads, mountedCode, env });
  // Resolved once (the platform's answer does not change); a refusal becomes every verdict's reason.
  const instance = resolveInstanceId({ instanceId: expectations.instanceId, env, binding: instanceBinding });
  instance.catch(() => undefined);
  // Resolved once: a later process.chdir() must not move the gate to another file.
  const file = resolve(givenFile);
  const verifyOptions = Object.freeze({ ...expectations, publicKey: loadProductPublicKey(expectations.publicKey) });
  let cache: CacheEntry | undefined;
  let verifications = 0;
  let lastVerificationAt: Date | undefined;

  async function verify(nowMs: number): Promise<Verdict> {
    verifications += 1;
    lastVerificationAt = new Date(nowMs);
    try {
      // Judged at the same instant the expiry was, so the verification agrees with it.
      const instanceId = (await instance)?.instance;
      const claims = await verifyEntitlementFile(file, { ...verifyOptions, instanceId, now: new Date(nowMs) });
      const status: EntitlementGateStatus = {
        entitled: true,
        productCode: claims.productCode,
        registeredAt: claims.registeredAt.toISOString(),
        ...(claims.instance !== undefined && { instance: claims.instance }),
      };
      const validUntilMs = maxAgeSec === undefined ? Infinity : entitlementFileExpiry(claims, maxAgeSec);
      return { status: Object.freeze(status), validUntilMs };
    } catch (err) {
      return refusal(err);
    }
  }

  function startVerification(version: FileVersion, nowMs: number): CacheEntry {
    const verdict = verify(nowMs);
    const entry: CacheEntry = {
      version,
      verdict,
      status: verdict.then((settled) => {
        entry.settled = settled;
        return settled.status;
      }),
    };
    return entry;
  }

  // Not async: the cached path returns the cached promise itself, with no extra promise or microtask per call.
  function status(): Promise<EntitlementGateStatus> {
    // A failed stat (deleted file, unreadable directory) is reported by the read inside verify(), in its words.
    const version = currentVersion(file);
    const nowMs = Date.now();
    if (version === undefined) return verify(nowMs).then((verdict) => verdict.status);
    if (!cache || !sameVersion(cache.version, version) || (cache.settled && nowMs > cache.settled.validUntilMs)) {
      cache = startVerification(version, nowMs);
    }
    return cache.status;
  }

  return { status, handler: statusHandler(status), stats: () => ({ verifications, lastVerificationAt }) };
}

/**
 * A readiness handler over any verdict: 200 with the status as JSON when entitled, 503 when not; GET and HEAD
 * (others 405); `Cache-Control: no-store`. The gate's, and the one `serve` answers for a licence lease.
 *
 * @example createServer(statusHandler(async () => lease.status())).listen(8081);
 */
export function statusHandler(
  status: () => Promise<{ entitled: boolean }>,
): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'cache-control': 'no-store' }).end();
      return;
    }
    void status()
      .then((current) => {
        const body = JSON.stringify(current);
        res.writeHead(current.entitled ? 200 : 503, {
          'content-type': 'application/json; charset=utf-8',
          'content-length': Buffer.byteLength(body),
          'cache-control': 'no-store',
        });
        res.end(body); // node:http sends no body for HEAD
      })
      .catch(() => res.destroy()); // e.g. headers already sent by other middleware: never an unhandled rejection
  };
}

/**
 * A failed verification as a verdict. A failed check is a property of the file's bytes and stays until the
 * file changes; a read failure (EMFILE, EIO) or an unexpected error may be transient, so it is retried.
 */
function refusal(err: unknown): Verdict {
  if (err instanceof EntitlementError) {
    const final = err instanceof VerificationError && !CLOCK_DEPENDENT_CODES.has(err.code);
    return {
      status: Object.freeze({ entitled: false, code: err.code, reason: err.message }),
      validUntilMs: final ? Infinity : RECHECK_NEXT_CALL,
    };
  }
  return {
    status: Object.freeze({
      entitled: false,
      code: 'GATE_INTERNAL_ERROR',
      reason: `Verifying the entitlement file failed unexpectedly: ${(err as Error)?.message ?? String(err)}`,
    }),
    validUntilMs: RECHECK_NEXT_CALL,
  };
}

/** The file's identity now; undefined when it cannot be stat'ed (missing, or an unreadable directory). */
function currentVersion(file: string): FileVersion | undefined {
  try {
    return statSync(file, { bigint: true, throwIfNoEntry: false });
  } catch {
    return undefined;
  }
}

function sameVersion(a: FileVersion, b: FileVersion): boolean {
  return a.ino === b.ino && a.mtimeNs === b.mtimeNs && a.ctimeNs === b.ctimeNs && a.size === b.size && a.dev === b.dev;
}
