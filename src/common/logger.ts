/**
 * The logging contract: any object with optional `debug`/`info`/`warn`/`error` methods taking a message and
 * structured fields (`event` names what happened). `console` fits, and so do pino and Powertools loggers.
 *
 * @example
 * await ensureEntitled({ productCode, publicKey, logger: console });
 */
export type LogFields = Record<string, unknown> & { event: string };

/**
 * Where the library logs: any object with some of `debug`, `info`, `warn`, `error`; `console` works. Messages and
 * fields never hold credentials, private keys or whole tokens.
 *
 * @example
 * await ensureEntitled({ productCode, publicKey, logger: console });
 */
export interface Logger {
  /** Detail for debugging: each attempt, each cache miss. */
  debug?(message: string, fields?: LogFields): void;
  /** Normal progress: registered, reused, sent. */
  info?(message: string, fields?: LogFields): void;
  /** Something to look at: a retry, an expiring key, a process warning. */
  warn?(message: string, fields?: LogFields): void;
  /** A failure, or usage lost. */
  error?(message: string, fields?: LogFields): void;
}

/**
 * Without a logger, warnings still reach operators as Node process warnings (stderr, suppressible with
 * --no-warnings); routine events stay silent as befits a library.
 */
export const defaultLogger: Logger = {
  warn(message, fields) {
    process.emitWarning(message, { type: 'MarketplaceEntitlementWarning', code: fields?.event });
  },
};

/** Describes an error for a log line without its stack, its request metadata, or anything secret. */
export function describeError(err: unknown): { name: string; message: string; code?: string } {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return { name: err.name, message: err.message, ...(typeof code === 'string' ? { code } : {}) };
  }
  return { name: typeof err, message: String(err) };
}
