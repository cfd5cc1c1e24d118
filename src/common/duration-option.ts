import { ConfigurationError } from './errors.js';

/** What a duration option may be: its unit (named in the error) and whether 0 means something. */
export interface DurationRule {
  unit: 'seconds' | 'milliseconds';
  /** `true` when 0 is meaningful (no grace, no tolerance); `false` when 0 would switch the feature off or spin. */
  allowZero: boolean;
}

/**
 * The one check of every numeric duration option (timeouts, deadlines, delays, tolerances, ages): a finite number
 * in `rule.unit`, above 0 or at least 0, or `fallback` when absent. A NaN limit (e.g. `Number(process.env.UNSET)`)
 * compares false with everything and would silently switch its check off, and Infinity never expires: both are
 * refused, as are negative numbers and non-numbers. Throws {@link ConfigurationError} `INVALID_OPTION`.
 *
 * @example
 * const graceMs = durationOption('graceMs', options.graceMs, { unit: 'milliseconds', allowZero: true }, 0);
 */
export function durationOption(name: string, value: unknown, rule: DurationRule, fallback: number): number;
export function durationOption(name: string, value: unknown, rule: DurationRule): number | undefined;
export function durationOption(name: string, value: unknown, rule: DurationRule, fallback?: number): number | undefined {
  if (value === undefined) return fallback;
  const inRange = typeof value === 'number' && Number.isFinite(value) && (rule.allowZero ? value >= 0 : value > 0);
  if (!inRange) {
    const bound = rule.allowZero ? '0 or more' : 'more than 0';
    const shown = typeof value === 'number' ? String(value) : `${typeof value} ${JSON.stringify(value) ?? String(value)}`;
    throw new ConfigurationError('INVALID_OPTION', `${name} must be a finite number of ${rule.unit}, ${bound}; got ${shown}.`);
  }
  return value;
}
