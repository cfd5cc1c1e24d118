import { ConfigurationError } from './errors.js';

/** What a duration option may be: its unit (named in the error) and whether 0 means something. */
export interface DurationRule {
  unit: 'seconds' | 'milliseconds';
  /** `true` when 0 is meaningful (no grace, no tolerance); `false` when 0 would switch the feature off or spin. */
  allowZero: boolean;
}

/**
 * The longest delay Node's timers keep: a timer of 2^31 ms (24.8 days) or more fires after 1 ms instead, so a deadline,
 * a request timeout or a recheck interval that long would expire at once (or spin).
 */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * The one check of every numeric duration option (timeouts, deadlines, delays, tolerances, ages): a finite number
 * in `rule.unit`, above 0 or at least 0 (and, in milliseconds, at most {@link MAX_TIMER_MS}, as every millisecond
 * option ends up in a timer), or `fallback` when absent. A NaN limit (e.g. `Number(process.env.UNSET)`) compares false
 * with everything and would silently switch its check off, and Infinity never expires: both are refused, as are
 * negative numbers and non-numbers. Throws {@link ConfigurationError} `INVALID_OPTION`.
 *
 * @example
 * const graceMs = durationOption('graceMs', options.graceMs, { unit: 'milliseconds', allowZero: true }, 0);
 */
export function durationOption(name: string, value: unknown, rule: DurationRule, fallback: number): number;
export function durationOption(name: string, value: unknown, rule: DurationRule): number | undefined;
export function durationOption(
  name: string,
  value: unknown,
  rule: DurationRule,
  fallback?: number,
): number | undefined {
  if (value === undefined) return fallback;
  const max = rule.unit === 'milliseconds' ? MAX_TIMER_MS : Number.MAX_VALUE;
  const inRange =
    typeof value === 'number' && Number.isFinite(value) && (rule.allowZero ? value >= 0 : value > 0) && value <= max;
  if (!inRange) {
    const bound =
      (rule.allowZero ? '0 or more' : 'more than 0') +
      (rule.unit === 'milliseconds' ? `, at most ${MAX_TIMER_MS} (24.8 days)` : '');
    const shown =
      typeof value === 'number'
        ? String(value)
        : `${typeof value} ${typeof value === 'bigint' ? value : (JSON.stringify(value) ?? String(value))}`;
    throw new ConfigurationError(
      'INVALID_OPTION',
      `${name} must be a finite number of ${rule.unit}, ${bound}; got ${shown}.`,
    );
  }
  return value;
}
