/**
 * Typed errors. Every error this library throws is an {@link EntitlementError} with a stable `code`
 * (for programs and logs) and the `exitCode` the CLI exits with (BSD sysexits, so operators can tell
 * "not subscribed" from "misconfigured" from "AWS unreachable" without reading logs).
 *
 * @example
 * try {
 *   await ensureEntitled({ productCode, publicKey });
 * } catch (err) {
 *   if (err instanceof NotEntitledError) process.exit(err.exitCode); // 77
 *   throw err;
 * }
 */

/** Process exit codes used by the CLI, one per failure class. */
export const ExitCode = {
  OK: 0,
  USAGE: 64,
  VERIFICATION_FAILED: 65,
  NO_INPUT: 66,
  SERVICE_UNAVAILABLE: 69,
  CANNOT_WRITE: 73,
  UNTRUSTED_SERVER: 76,
  NOT_ENTITLED: 77,
  CONFIGURATION: 78,
} as const;

export interface EntitlementErrorOptions {
  cause?: unknown;
}

/** Base class: never thrown directly, catch it to handle every failure of this library. */
export class EntitlementError extends Error {
  /** Stable identifier of the failure, e.g. `NONCE_MISMATCH`. */
  readonly code: string;
  /** The exit code the CLI uses for this failure. */
  readonly exitCode: number;

  constructor(code: string, exitCode: number, message: string, options: EntitlementErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.exitCode = exitCode;
  }
}

/** AWS says the buyer has no subscription to this product (`CustomerNotEntitledException`). Exit 77. */
export class NotEntitledError extends EntitlementError {
  constructor(message: string, options?: EntitlementErrorOptions) {
    super('CUSTOMER_NOT_ENTITLED', ExitCode.NOT_ENTITLED, message, options);
  }
}

/**
 * Something about the deployment or the options is wrong and retrying will not help: a bad or refused
 * key, an unknown product code, no region, no IAM permission, not running on ECS/EKS. Exit 78.
 */
export class ConfigurationError extends EntitlementError {
  constructor(code: string, message: string, options?: EntitlementErrorOptions) {
    super(code, ExitCode.CONFIGURATION, message, options);
  }
}

/** The signed answer (or an entitlement file) failed a check; `code` names the check. Exit 65. */
export class VerificationError extends EntitlementError {
  constructor(code: string, message: string, options?: EntitlementErrorOptions) {
    super(code, ExitCode.VERIFICATION_FAILED, message, options);
  }
}

/**
 * AWS could not be reached or kept throttling until the deadline (`DEADLINE_EXCEEDED`), or the caller
 * aborted (`ABORTED`). The last underlying error is the `cause`. Exit 69.
 */
export class ServiceUnavailableError extends EntitlementError {
  /** How many RegisterUsage calls were made before giving up. */
  readonly attempts: number;

  constructor(
    code: 'DEADLINE_EXCEEDED' | 'ABORTED',
    message: string,
    attempts: number,
    options?: EntitlementErrorOptions,
  ) {
    super(code, ExitCode.SERVICE_UNAVAILABLE, message, options);
    this.attempts = attempts;
  }
}

/**
 * The server that answered for AWS presented a certificate that does not chain to the trusted roots (by default
 * Amazon's own), or names another host: a TLS-intercepting proxy, or a trust anchor added to the pod, answering as
 * AWS. Not retried: it will not heal in 30 minutes. `code` is `TLS_UNTRUSTED`, `reason` OpenSSL's or Node's code
 * (e.g. `SELF_SIGNED_CERT_IN_CHAIN`, `ERR_TLS_CERT_ALTNAME_INVALID`). Exit 76.
 */
export class UntrustedServerError extends EntitlementError {
  /** Why the certificate was refused, as OpenSSL or Node names it. */
  readonly reason: string;

  constructor(reason: string, message: string, options?: EntitlementErrorOptions) {
    super('TLS_UNTRUSTED', ExitCode.UNTRUSTED_SERVER, message, options);
    this.reason = reason;
  }
}

/** An input file (key, entitlement file) is missing or unreadable. Exit 66. */
export class InputError extends EntitlementError {
  constructor(code: string, message: string, options?: EntitlementErrorOptions) {
    super(code, ExitCode.NO_INPUT, message, options);
  }
}

/** The entitlement file could not be written; nothing was left behind. Exit 73. */
export class OutputError extends EntitlementError {
  constructor(code: string, message: string, options?: EntitlementErrorOptions) {
    super(code, ExitCode.CANNOT_WRITE, message, options);
  }
}

/**
 * An input broke one of the Metering API's rules, found before any network call. A {@link ConfigurationError}
 * with code `INVALID_INPUT` (exit 78: the caller must change something, retrying cannot help) that also
 * carries the offending `field` path (e.g. `UsageRecords[3].UsageAllocations[0].Tags[1].Key`), the `rule`
 * in words and the `value`, so programs can react without parsing the message.
 *
 * @example
 * try { await meterUsage({ ProductCode: 'p', Timestamp: new Date(), UsageDimension: '', UsageQuantity: 1 }); }
 * catch (err) { if (err instanceof ValidationError) console.error(err.field, err.rule); } // UsageDimension ...
 */
export class ValidationError extends ConfigurationError {
  readonly field: string;
  readonly rule: string;
  readonly value: unknown;

  constructor(field: string, rule: string, value: unknown, options?: EntitlementErrorOptions) {
    super('INVALID_INPUT', `${field} ${rule}; got ${previewValue(value)}.`, options);
    this.field = field;
    this.rule = rule;
    this.value = value;
  }
}

/** A short, log-safe rendering of an offending value: long strings are cut, objects named by type. */
function previewValue(value: unknown): string {
  if (typeof value === 'string')
    return value.length > 80
      ? `${JSON.stringify(value.slice(0, 80))}... (${value.length} characters)`
      : JSON.stringify(value);
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? 'an invalid Date' : value.toISOString();
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (value === null || typeof value !== 'object') return String(value);
  return 'an object';
}
