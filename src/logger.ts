/**
 * The logging contract: any object with optional `debug`/`info`/`warn`/`error` methods taking a message and
 * structured fields (`event` names what happened). `console` fits, and so do pino and Powertools loggers.
 *
 * @example
 * await ensureEntitled({ productCode, publicKey, logger: console });
 */
export type LogFields = Record<string, unknown> & { event: string };

export interface Logger {
  debug?(message: string, fields?: LogFields): void;
  info?(message: string, fields?: LogFields): void;
  warn?(message: string, fields?: LogFields): void;
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
