/**
 * The fields of a log line: `event` names what happened, the rest are structured details.
 *
 * @example
 * const fields: LogFields = { event: 'register.verified', productCode: 'abc123', attempts: 1 };
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
  /** Something for an operator: an expired key version, a deadline close to running out, a process warning. */
  warn?(message: string, fields?: LogFields): void;
  /** A failure, or usage lost. */
  error?(message: string, fields?: LogFields): void;
}

/**
 * What a `logger` option accepts, passed as it is: a {@link Logger} (`console` fits), a pino logger, a Powertools
 * for AWS Lambda `Logger` (@aws-lambda-powertools/logger), or anything of the AWS SDK v3 `Logger` shape (some of
 * `debug`, `info`, `warn`, `error`, each taking any arguments). pino gets `(fields, message)`, as it expects; the
 * others `(message, fields)`, which Powertools and the SDK's loggers log as the message and its attributes.
 *
 * @example
 * import pino from 'pino';
 * await ensureEntitled({ productCode, publicKey, logger: pino() });
 */
// `any[]`, as the SDK's own Logger type has it: pino's and Powertools' overloaded methods fit nothing narrower.
export interface LoggerLike {
  /** Detail for debugging. */
  // biome-ignore lint/suspicious/noExplicitAny: see above.
  debug?(...content: any[]): void;
  /** Normal progress, and routine retries. */
  // biome-ignore lint/suspicious/noExplicitAny: see above.
  info?(...content: any[]): void;
  /** Something for an operator. */
  // biome-ignore lint/suspicious/noExplicitAny: see above.
  warn?(...content: any[]): void;
  /** A failure, or usage lost. */
  // biome-ignore lint/suspicious/noExplicitAny: see above.
  error?(...content: any[]): void;
}

const LEVELS = ['debug', 'info', 'warn', 'error'] as const;

/**
 * pino puts the fields first (`logger.info(fields, message)`); called the other way it logs the message and drops
 * every field. Every pino logger (and child) carries this registered symbol.
 */
const isPino = (logger: LoggerLike) => Symbol.for('pino.serializers') in logger;

/**
 * The {@link Logger} behind a `logger` option: a pino logger is called with its fields first, any other is used as
 * it is. Each method is bound, so a logger whose methods use `this` (pino, Powertools, a class) keeps working.
 */
export function toLogger(input: LoggerLike): Logger {
  const logger: Logger = {};
  const pino = isPino(input);
  for (const level of LEVELS) {
    const method = input[level];
    if (typeof method !== 'function') continue;
    logger[level] = pino
      ? (message, fields) => method.call(input, fields ?? {}, message)
      : (message, fields) => (fields === undefined ? method.call(input, message) : method.call(input, message, fields));
  }
  return logger;
}

/**
 * Without a logger, what needs an operator still reaches one as a Node process warning (stderr, suppressible with
 * --no-warnings): an expired key version, a deadline close to running out, usage lost. Routine events, retries
 * included, stay silent as befits a library.
 */
const defaultLogger: Logger = {
  warn(message, fields) {
    process.emitWarning(message, { type: 'MarketplaceEntitlementWarning', code: fields?.event });
  },
  error(message, fields) {
    process.emitWarning(message, { type: 'MarketplaceEntitlementWarning', code: fields?.event });
  },
};

/** The logger to use for a `logger` option: the one given, adapted ({@link toLogger}), or {@link defaultLogger}. */
export function resolveLogger(input: LoggerLike | undefined): Logger {
  return input === undefined ? defaultLogger : toLogger(input);
}

/** Describes an error for a log line without its stack, its request metadata, or anything secret. */
export function describeError(err: unknown): { name: string; message: string; code?: string } {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return { name: err.name, message: err.message, ...(typeof code === 'string' ? { code } : {}) };
  }
  return { name: typeof err, message: String(err) };
}
