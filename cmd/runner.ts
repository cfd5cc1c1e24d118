/**
 * Runs one command: merges options, sets up logging and signal handling, calls the command, and maps the
 * outcome to an exit code (`err.exitCode`, 70 for a bug). SIGTERM and SIGINT abort `ctx.signal`; a command
 * interrupted that way exits 128+signal (143, 130), one that stops cleanly on it (serve, emulator) returns
 * its own code. A second signal exits at once.
 *
 * @example
 * await runCommand(checkCommand, { file: '/tmp/e.jwt' }, process.env); // never returns: exits
 */
import { constants } from 'node:os';
import { describeError } from '../src/common/logger.js';
import { resolveArgs } from './args.js';
import type { LogFields, Logger } from '../src/common/logger.js';
import type { SealedImage } from './baked-config.js';
import {
  createCliLogger,
  defaultLogFormat,
  LOG_FORMATS,
  LOG_LEVELS,
  requestedLogFormat,
  writeLine,
  type LogFormat,
} from './log.js';
import { sealInput } from './sealed.js';
import { PROGRAM, type AnyCommand, type ArgsOf, type CommandContext, type OptionSpecs } from './spec.js';
import { UsageError } from './usage-error.js';

/** A failure that is a bug, not an outcome: EX_SOFTWARE. */
export const EXIT_INTERNAL_ERROR = 70;

export function exitCodeOf(err: unknown): number {
  const code = (err as { exitCode?: unknown } | null)?.exitCode;
  return typeof code === 'number' ? code : EXIT_INTERNAL_ERROR;
}

const STOP_SIGNALS = ['SIGTERM', 'SIGINT'] as const;

/** One line on stdout, as the human summary: inner line breaks folded so it stays one line. */
const oneLine = (line: string) => line.replace(/\s*\n\s*/g, ' ');
/** A line through Node's stream, for a command that runs until stopped (`runsUntilStopped`). */
const streamLine = (stream: NodeJS.WriteStream) => (line: string) => void stream.write(`${line}\n`);

/**
 * How a failure reaches stderr, and only stderr (stdout carries only a command's result): for people (text), the
 * one-line summary; for a log collector (json), one error log line with the same facts as fields.
 */
function reportFailure(
  format: LogFormat,
  logger: Logger,
  summary: string,
  message: string,
  fields: LogFields,
  stderr: (line: string) => void,
): void {
  if (format === 'text') stderr(oneLine(summary));
  else logger.error?.(message, fields);
}

/**
 * A command line that cannot run: on stderr, in the `--log-format` the command line or `MARKETPLACE_LOG_FORMAT`
 * asked for (even though the rest of it is unusable), else the default one; exit 64.
 */
export function exitOnUsageError(command: string | undefined, text: string): never {
  const message = /[.?!]$/.test(text) ? text : `${text}.`;
  const format = requestedLogFormat(process.argv.slice(2), process.env);
  const summary = `${message} Run \`${[PROGRAM, command, '--help'].filter(Boolean).join(' ')}\` for usage.`;
  reportFailure(
    format,
    createCliLogger({ format, level: 'error' }),
    summary,
    message,
    { event: 'cli.usage', command },
    (line) => writeLine(2, line),
  );
  return process.exit(new UsageError(message).exitCode);
}

/** The running CLI: its entry file and, when baked, its sealed configuration. */
export interface Bundle {
  entryFile: string;
  sealed: SealedImage | undefined;
}

/** A refusal before any command starts (a sealed image's guards): one error log line, the summary, its exit code. */
export function refuseToStart(command: string | undefined, err: unknown): never {
  const code = exitCodeOf(err);
  const error = describeError(err);
  const format = requestedLogFormat(process.argv.slice(2), process.env);
  const summary = `${command ?? PROGRAM} refused (exit ${code}): ${error.code ?? error.name}: ${error.message}`;
  reportFailure(
    format,
    createCliLogger({ format, level: 'error' }),
    summary,
    error.message,
    { event: 'cli.refused', command, error, exitCode: code },
    (line) => writeLine(2, line),
  );
  return process.exit(code);
}

export async function runCommand(
  spec: AnyCommand,
  raw: Record<string, unknown>,
  env: NodeJS.ProcessEnv,
  bundle: Bundle,
): Promise<never> {
  let input = { raw, env };
  if (bundle.sealed) {
    try {
      input = await sealInput(spec, raw, env, bundle.sealed);
    } catch (err) {
      return refuseToStart(spec.name, err);
    }
  }
  let args: ArgsOf<OptionSpecs>;
  try {
    args = resolveArgs(spec, input.raw, input.env);
  } catch (err) {
    return exitOnUsageError(spec.name, (err as Error).message);
  }
  // A one-shot command writes each line at once and exits; one that runs until stopped must not block on a stalled
  // reader.
  const [stdout, stderr] = spec.runsUntilStopped
    ? [streamLine(process.stdout), streamLine(process.stderr)]
    : [(line: string) => writeLine(1, line), (line: string) => writeLine(2, line)];
  // Every command has LOG_OPTIONS; their values were checked against these choices.
  const format = LOG_FORMATS.find((known) => known === args['log-format']) ?? defaultLogFormat();
  const level = LOG_LEVELS.find((known) => known === args['log-level']) ?? 'info';
  const logger = createCliLogger({ format, level, write: stderr });
  const commandPrint = (line: string) => stdout(oneLine(line));
  // Process warnings (e.g. the AWS SDK's Node version notice) become log lines: stderr stays one format.
  process.removeAllListeners('warning');
  process.on('warning', (warning) =>
    logger.warn?.(warning.message.replace(/\s+/g, ' '), { event: 'node.warning', name: warning.name }),
  );
  const controller = new AbortController();
  let received: NodeJS.Signals | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    if (received) process.exit(128 + constants.signals[signal]);
    received = signal;
    logger.warn?.(`Received ${signal}, stopping`, { event: 'cli.signal', signal });
    controller.abort(new Error(`Stopped by ${signal}`));
  };
  for (const signal of STOP_SIGNALS) process.on(signal, onSignal);
  const releaseSignals = () => {
    for (const signal of STOP_SIGNALS) process.off(signal, onSignal);
  };
  const ctx: CommandContext = {
    logger,
    logFormat: format,
    signal: controller.signal,
    print: commandPrint,
    env: input.env,
    releaseSignals,
    entryFile: bundle.entryFile,
    ...(bundle.sealed && { sealed: bundle.sealed }),
  };

  try {
    return process.exit((await spec.run(args, ctx)) ?? 0);
  } catch (err) {
    const code = received ? 128 + constants.signals[received] : exitCodeOf(err);
    const error = describeError(err);
    const why = received ? `stopped by ${received}` : `${error.code ?? error.name}: ${error.message}`;
    reportFailure(
      format,
      logger,
      `${spec.name} failed (exit ${code}): ${why}`,
      error.message,
      { event: 'cli.failed', command: spec.name, error, exitCode: code },
      stderr,
    );
    return process.exit(code);
  }
}
