/**
 * A {@link Logger} that keeps what it was told, so tests can assert on warnings by their `event`.
 *
 * @example
 * const logger = recordingLogger();
 * await ensureEntitled({ ...options, logger });
 * expect(logger.events('warn')).toContain('register.key_rotation');
 */
import type { LogFields, Logger } from '../../src/index.js';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface LogEntry {
  level: LogLevel;
  message: string;
  fields: LogFields | undefined;
}

export interface RecordingLogger extends Required<Logger> {
  entries: LogEntry[];
  /** The `event` of every entry (of one level, if given), in order. */
  events(level?: LogLevel): string[];
}

export function recordingLogger(): RecordingLogger {
  const entries: LogEntry[] = [];
  const record = (level: LogLevel) => (message: string, fields?: LogFields) =>
    void entries.push({ level, message, fields });
  return {
    entries,
    debug: record('debug'),
    info: record('info'),
    warn: record('warn'),
    error: record('error'),
    events: (level) =>
      entries.filter((e) => level === undefined || e.level === level).map((e) => e.fields?.event ?? ''),
  };
}
