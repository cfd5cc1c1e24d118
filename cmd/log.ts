/**
 * The CLI's logger, on stderr: one JSON object per line (`time`, `level`, `event`, `message`, then the fields), or
 * text for people; text by default on a terminal, JSON otherwise. Messages and fields come from the library, which
 * never puts credentials, private keys or whole tokens in them.
 *
 * @example
 * const logger = createCliLogger({ format: 'json', level: 'info' });
 * logger.info?.('Entitlement verified', { event: 'register.verified', productCode: 'abc' });
 * // {"time":"2025-01-01T00:00:00.000Z","level":"info","event":"register.verified",
 * //  "message":"Entitlement verified","productCode":"abc"}
 */
import { fstatSync, statSync, writeSync } from 'node:fs';
import type { LogFields, Logger } from '../src/common/logger.js';
import { envName } from './args.js';

export const LOG_FORMATS = ['json', 'text'] as const;
export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface CliLoggerOptions {
  format: LogFormat;
  level: LogLevel;
  write?: (line: string) => void;
}

/**
 * The format when none was asked for: text for a person at a terminal, JSON lines for a log collector (stderr
 * is not a terminal). A pipe, a file or /dev/null (an exec probe, a container runtime's log) is told by fstat,
 * without loading node:tty (and node:net with it); only another character device is asked whether it is a terminal.
 */
export function defaultLogFormat(): LogFormat {
  try {
    const stderr = fstatSync(2);
    if (!stderr.isCharacterDevice() || stderr.rdev === statSync('/dev/null').rdev) return 'json';
  } catch {
    return 'json'; // stderr closed: nobody reads either format
  }
  return process.getBuiltinModule('node:tty').isatty(2) ? 'text' : 'json';
}

/**
 * The log format asked for by a command line that could not be parsed: the last `--log-format` given (spaced or
 * with `=`), else `MARKETPLACE_LOG_FORMAT`, else the default (text on a terminal, json otherwise). Anything that
 * is not a known format means json.
 *
 * @example
 * requestedLogFormat(['check', '--log-format', 'text', '--bogus'], {}); // 'text'
 */
export function requestedLogFormat(argv: readonly string[], env: NodeJS.ProcessEnv): LogFormat {
  const variable = env[envName('log-format')];
  let given = variable === '' ? undefined : variable;
  argv.forEach((arg, i) => {
    if (arg === '--log-format') given = argv[i + 1];
    else if (arg.startsWith('--log-format=')) given = arg.slice('--log-format='.length);
  });
  if (given === undefined) return defaultLogFormat();
  return LOG_FORMATS.find((format) => format === given) ?? 'json';
}

/** The fds whose lines go through Node's stream since a write met EAGAIN (the stream may still hold a queued tail). */
const streamed = new Set<1 | 2>();
const streamOf = (fd: 1 | 2) => (fd === 1 ? process.stdout : process.stderr);

/**
 * Writes one line to standard output (fd 1) or error (fd 2) at once, for commands that exit right after they write
 * (`check`, `register`, usage errors): touching `process.stdout` or `process.stderr` builds a stream (node:stream,
 * and node:net for a pipe), which the exec probe would pay for on every run. A command that runs until stopped
 * writes through the streams instead (`runsUntilStopped`), which queue rather than block when the reader stalls.
 * A full pipe that someone made non-blocking (EAGAIN) hands the rest of the line, and every later line to that fd,
 * to the stream, so lines stay whole and in order; a pipe nobody reads any more (EPIPE) gets nothing.
 *
 * @example
 * writeLine(1, 'valid: product abc123 ...');
 */
export function writeLine(fd: 1 | 2, line: string): void {
  const bytes = Buffer.from(`${line}\n`);
  if (streamed.has(fd)) return void streamOf(fd).write(bytes);
  let written = 0;
  try {
    while (written < bytes.length) written += writeSync(fd, bytes, written);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    // Nobody reads any more (`... | head -0`): the line is lost, the exit code still tells.
    if (code === 'EPIPE') return;
    if (code !== 'EAGAIN') throw err;
    streamed.add(fd);
    streamOf(fd).write(bytes.subarray(written));
  }
}

export function createCliLogger(options: CliLoggerOptions): Logger {
  const write = options.write ?? ((line: string) => writeLine(2, line));
  const threshold = LOG_LEVELS.indexOf(options.level);
  const logger: Logger = {};
  for (const level of LOG_LEVELS.slice(threshold)) {
    logger[level] = (message: string, fields?: LogFields) => write(formatLine(options.format, level, message, fields));
  }
  return logger;
}

function formatLine(format: LogFormat, level: LogLevel, message: string, fields: LogFields | undefined): string {
  const { event = 'log', ...rest } = fields ?? {};
  const time = new Date().toISOString();
  const core = { time, level, event, message };
  // Core keys first, and a field can never overwrite them.
  if (format === 'json') return JSON.stringify(Object.assign({ ...core }, rest, core));
  const extras = Object.entries(rest)
    .filter(([, value]) => value !== undefined)
    .map(([key, value]) => `${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`);
  return [time, level.toUpperCase().padEnd(5), event, message, ...extras].join(' ');
}
