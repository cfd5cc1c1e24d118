/**
 * The herd simulation (bench/herd-sim.mjs) driven by our real backoffDelay and DEFAULT_RETRY_POLICY.
 * Virtual clock: these assert on simulated time only, never on how long the test takes.
 * Guards the tuning: a change to the policy that makes a 1,000-pod scale-up slow or chatty fails here.
 */
import { describe, expect, it } from 'vitest';
import { backoffDelay, DEFAULT_DEADLINE_MS, DEFAULT_RETRY_POLICY, type RetryPolicy } from '../../src/aws/retry.js';
import { mulberry32, simulateHerd, type HerdStrategy } from '../../bench/herd-sim.mjs';

const simulate = simulateHerd;

const ours = (policy: RetryPolicy = DEFAULT_RETRY_POLICY): HerdStrategy => ({
  name: 'ours',
  nextDelay: (failures, random) => backoffDelay(failures, policy, random),
});

describe('herd simulation with our retry policy (5/s bucket, 30 min deadline)', () => {
  it('is reproducible: the same seed gives the same figures, another seed different ones', () => {
    const a = simulate({ n: 300, strategy: ours(), seed: 42 });
    const b = simulate({ n: 300, strategy: ours(), seed: 42 });
    const c = simulate({ n: 300, strategy: ours(), seed: 43 });
    expect(b).toEqual(a);
    expect(c.totalCalls).not.toBe(a.totalCalls);
  });

  it('entitles every pod of a 1,000-pod herd within 15% of the N/5 s lower bound, with few wasted calls', () => {
    for (const seed of [1, 2, 3]) {
      const r = simulate({ n: 1000, strategy: ours(), seed, deadlineMs: DEFAULT_DEADLINE_MS });
      expect(r.entitledShare).toBe(1);
      expect(r.makespanRatio).toBeGreaterThanOrEqual(0.97); // the bucket never serves faster than 5/s (+5 burst)
      expect(r.makespanRatio).toBeLessThan(1.15);
      expect(r.meanCalls).toBeLessThan(15);
      expect(r.p99Calls).toBeLessThan(30);
    }
  });

  it('small herds finish fast: 10 pods all entitled within 3 simulated seconds', () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const r = simulate({ n: 10, strategy: ours(), seed });
      expect(r.entitledShare).toBe(1);
      expect(r.lastEntitledMs).toBeLessThan(3_000);
    }
  });

  it('10,000 pods: the quota, not the policy, is the limit (9,000 calls fit in 30 minutes at 5/s)', () => {
    const r = simulate({ n: 10_000, strategy: ours(), seed: 1, deadlineMs: DEFAULT_DEADLINE_MS });
    const quotaBound = 5 + 5 * (DEFAULT_DEADLINE_MS / 1000); // burst + refill over the budget
    expect(r.entitled).toBeLessThanOrEqual(quotaBound);
    expect(r.entitled).toBeGreaterThan(quotaBound * 0.995);
  });

  it('without jitter the herd stays in lock-step and most of 1,000 pods miss the deadline', () => {
    const noJitter: HerdStrategy = { name: 'no jitter', nextDelay: (f) => backoffDelay(f, DEFAULT_RETRY_POLICY, () => 1) };
    const r = simulate({ n: 1000, strategy: noJitter, seed: 1, deadlineMs: DEFAULT_DEADLINE_MS });
    expect(r.entitledShare).toBeLessThan(0.5);
  });

  it('the SDK default (3 attempts) leaves most of a 100-pod herd unentitled', () => {
    const sdk: HerdStrategy = {
      name: 'sdk',
      nextDelay: (f, random) => (f >= 3 ? null : Math.floor(random() * Math.min(1000 * 2 ** (f - 1), 20_000))),
    };
    const r = simulate({ n: 100, strategy: sdk, seed: 1 });
    expect(r.entitledShare).toBeLessThan(0.5);
    expect(r.meanCalls).toBeLessThanOrEqual(3);
  });

  it('the simulated bucket never serves more than burst + rate x time', () => {
    for (const n of [20, 200, 2000]) {
      const r = simulate({ n, strategy: ours({ baseDelayMs: 50, maxDelayMs: 200 }), seed: n, deadlineMs: 60_000 });
      expect(r.entitled).toBeLessThanOrEqual(5 + 5 * 60);
      expect(r.entitled + r.throttled).toBe(r.totalCalls);
    }
  });
});

describe('backoffDelay', () => {
  it('stays in [0, min(cap, base * 2^(failures-1))) for any draw', () => {
    const random = mulberry32(9);
    for (let failures = 1; failures <= 40; failures += 1) {
      const window = Math.min(DEFAULT_RETRY_POLICY.maxDelayMs, DEFAULT_RETRY_POLICY.baseDelayMs * 2 ** (failures - 1));
      for (let i = 0; i < 50; i += 1) {
        const d = backoffDelay(failures, DEFAULT_RETRY_POLICY, random);
        expect(d).toBeGreaterThanOrEqual(0);
        expect(d).toBeLessThan(window);
      }
      expect(backoffDelay(failures, DEFAULT_RETRY_POLICY, () => 0)).toBe(0);
    }
  });
});
