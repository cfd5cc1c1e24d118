import { describe, expect, it } from 'vitest';
import { durationOption, MAX_TIMER_MS } from '../../src/common/duration-option.js';
import { ConfigurationError } from '../../src/common/errors.js';

const seconds = { unit: 'seconds', allowZero: true } as const;
const positiveMs = { unit: 'milliseconds', allowZero: false } as const;

describe('durationOption', () => {
  it('returns the value, or the fallback when absent', () => {
    expect(durationOption('clockToleranceSec', 5, seconds, 60)).toBe(5);
    expect(durationOption('clockToleranceSec', undefined, seconds, 60)).toBe(60);
    expect(durationOption('maxAgeSec', undefined, seconds)).toBeUndefined();
    expect(durationOption('graceMs', 0, seconds)).toBe(0);
    expect(durationOption('recheckMs', MAX_TIMER_MS, positiveMs)).toBe(2 ** 31 - 1);
    expect(durationOption('maxAgeSec', 1e12, seconds)).toBe(1e12);
  });

  it.each([
    ['NaN', Number.NaN, seconds, 'clockToleranceSec must be a finite number of seconds, 0 or more; got NaN.'],
    [
      'Infinity',
      Number.POSITIVE_INFINITY,
      seconds,
      'clockToleranceSec must be a finite number of seconds, 0 or more; got Infinity.',
    ],
    ['a negative number', -1, seconds, 'clockToleranceSec must be a finite number of seconds, 0 or more; got -1.'],
    [
      '0 where 0 would switch it off',
      0,
      positiveMs,
      'clockToleranceSec must be a finite number of milliseconds, more than 0, at most 2147483647 (24.8 days); got 0.',
    ],
    [
      'a numeric string',
      '30',
      seconds,
      'clockToleranceSec must be a finite number of seconds, 0 or more; got string "30".',
    ],
    ['null', null, seconds, 'clockToleranceSec must be a finite number of seconds, 0 or more; got object null.'],
    ['a BigInt', 5n, seconds, 'clockToleranceSec must be a finite number of seconds, 0 or more; got bigint 5.'],
    [
      'milliseconds past what a Node timer keeps (it would fire after 1 ms)',
      MAX_TIMER_MS + 1,
      positiveMs,
      'clockToleranceSec must be a finite number of milliseconds, more than 0, at most 2147483647 (24.8 days); got 2147483648.',
    ],
  ])('refuses %s with INVALID_OPTION, naming the option, the rule and the value', (_, value, rule, message) => {
    let caught: unknown;
    try {
      durationOption('clockToleranceSec', value, rule);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ConfigurationError);
    expect(caught).toMatchObject({ code: 'INVALID_OPTION', exitCode: 78, message });
  });
});
