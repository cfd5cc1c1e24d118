/**
 * The herd simulation (bench/herd-sim.mjs: the emulator's token bucket as built) driven by our real backoffDelay
 * and DEFAULT_RETRY_POLICY. Virtual clock: these assert on simulated time only, never on how long the test takes.
 * Guards the tuning (issue 25, docs/benchmarks.md "Choosing the policy"): a change to the policy that makes a
 * scale-up slow or chatty fails here.
 */
import { describe, expect, it } from 'vitest';
import {
  backoffDelay,
  backoffWindow,
  DEFAULT_DEADLINE_MS,
  DEFAULT_RETRY_POLICY,
  type RetryPolicy,
} from '../../src/aws/retry.js';
import { mulberry32, simulateHerd, type HerdResult, type HerdStrategy } from '../../bench/herd-sim.mjs';

const simulate = simulateHerd;

const ours = (policy: RetryPolicy = DEFAULT_RETRY_POLICY): HerdStrategy => ({
  name: 'ours',
  nextDelay: (failures, random) => backoffDelay(failures, policy, random),
});

/** The policy before issue 25: full jitter, the window doubling from 1 s to 30 s. */
const BEFORE: RetryPolicy = {
  baseDelayMs: 1_000,
  doublingLimitMs: 30_000,
  stepDelayMs: 1_000,
  maxDelayMs: 30_000,
  maxJitterMs: 30_000,
};

const SEEDS = [1, 2, 3, 4, 5];
function meanOverSeeds(n: number, policy: RetryPolicy, figure: (r: HerdResult) => number, seeds = SEEDS): number {
  return (
    seeds.reduce(
      (sum, seed) => sum + figure(simulate({ n, strategy: ours(policy), seed, deadlineMs: DEFAULT_DEADLINE_MS })),
      0,
    ) / seeds.length
  );
}

describe('herd simulation with our retry policy (5/s bucket, 30 min deadline)', () => {
  it('is reproducible: the same seed gives the same figures, another seed different ones', () => {
    const a = simulate({ n: 300, strategy: ours(), seed: 42 });
    const b = simulate({ n: 300, strategy: ours(), seed: 42 });
    const c = simulate({ n: 300, strategy: ours(), seed: 43 });
    expect(b).toEqual(a);
    expect(c.totalCalls).not.toBe(a.totalCalls);
  });

  it('issue 25: a 50-, 100- or 300-pod scale-up finishes within 1.25x the N/5 s bound (mean of seeds 1-5), 1,000 pods within 1.08x', () => {
    for (const n of [50, 100, 300, 1000]) {
      expect(
        meanOverSeeds(n, DEFAULT_RETRY_POLICY, (r) => r.entitledShare),
        `N = ${n}`,
      ).toBe(1);
      expect(
        meanOverSeeds(n, DEFAULT_RETRY_POLICY, (r) => r.makespanRatio),
        `N = ${n}`,
      ).toBeLessThanOrEqual(n === 1000 ? 1.08 : 1.25);
    }
    // The policy before issue 25 missed it: the last pods of a small herd sat out 16-30 s windows.
    expect(meanOverSeeds(100, BEFORE, (r) => r.makespanRatio)).toBeGreaterThan(1.5);
  });

  it('every pod of a 1,000-pod herd is entitled, never faster than the bucket allows, with bounded calls', () => {
    for (const seed of [1, 2, 3]) {
      const r = simulate({ n: 1000, strategy: ours(), seed, deadlineMs: DEFAULT_DEADLINE_MS });
      expect(r.entitledShare).toBe(1);
      expect(r.makespanRatio).toBeGreaterThanOrEqual(0.97); // the bucket never serves faster than 5/s (+5 burst)
      expect(r.meanCalls).toBeLessThan(30);
      expect(r.p99Calls).toBeLessThan(60);
    }
  });

  it('small herds: 10 pods finish no later than under the policy before issue 25 (mean of seeds 1-5), each seed within 3 s', () => {
    const last = (r: HerdResult): number => r.lastEntitledMs;
    expect(meanOverSeeds(10, DEFAULT_RETRY_POLICY, last)).toBeLessThanOrEqual(meanOverSeeds(10, BEFORE, last));
    for (const seed of SEEDS) {
      const r = simulate({ n: 10, strategy: ours(), seed });
      expect(r.entitledShare).toBe(1);
      expect(r.lastEntitledMs).toBeLessThan(3_000);
    }
  });

  it('10,000 pods: the quota, not the policy, is the limit, at no more calls per pod than 10% above the policy before', () => {
    const r = simulate({ n: 10_000, strategy: ours(), seed: 1, deadlineMs: DEFAULT_DEADLINE_MS });
    const before = simulate({ n: 10_000, strategy: ours(BEFORE), seed: 1, deadlineMs: DEFAULT_DEADLINE_MS });
    const quotaBound = 5 + 5 * (DEFAULT_DEADLINE_MS / 1000); // burst + refill over the budget: 9,005 calls
    expect(r.entitled).toBeLessThanOrEqual(quotaBound);
    expect(r.entitled).toBeGreaterThan(quotaBound * 0.995);
    expect(r.meanCalls).toBeLessThanOrEqual(1.1 * before.meanCalls);
  });

  it('without jitter the herd stays in lock-step and takes several times as long', () => {
    const noJitter: HerdStrategy = {
      name: 'no jitter',
      nextDelay: (f) => backoffDelay(f, DEFAULT_RETRY_POLICY, () => 1),
    };
    const lockStep = simulate({ n: 100, strategy: noJitter, seed: 1, deadlineMs: DEFAULT_DEADLINE_MS });
    const jittered = simulate({ n: 100, strategy: ours(), seed: 1, deadlineMs: DEFAULT_DEADLINE_MS });
    expect(lockStep.makespanRatio).toBeGreaterThan(3 * jittered.makespanRatio);
    const before = simulate({
      n: 1000,
      strategy: { name: 'no jitter', nextDelay: (f) => backoffDelay(f, BEFORE, () => 1) },
      seed: 1,
    });
    expect(before.entitledShare).toBeLessThan(0.5);
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
      const r = simulate({
        n,
        strategy: ours({ ...DEFAULT_RETRY_POLICY, baseDelayMs: 50, stepDelayMs: 25, maxDelayMs: 200 }),
        seed: n,
        deadlineMs: 60_000,
      });
      expect(r.entitled).toBeLessThanOrEqual(5 + 5 * 60);
      expect(r.entitled + r.throttled).toBe(r.totalCalls);
    }
  });
});

describe('backoffWindow and backoffDelay', () => {
  it('the default window: 1 s, then 0.5 s more per failure, up to 30 s', () => {
    for (let failures = 1; failures <= 100; failures += 1) {
      expect(backoffWindow(failures, DEFAULT_RETRY_POLICY)).toBe(Math.min(30_000, 1_000 + 500 * (failures - 1)));
    }
  });

  it('the default delay: full jitter while the window is at most 8 s, then uniform in its last 8 s', () => {
    const random = mulberry32(9);
    for (let failures = 1; failures <= 100; failures += 1) {
      const window = Math.min(30_000, 1_000 + 500 * (failures - 1));
      const floor = Math.max(0, window - 8_000);
      for (let i = 0; i < 50; i += 1) {
        const d = backoffDelay(failures, DEFAULT_RETRY_POLICY, random);
        expect(d).toBeGreaterThanOrEqual(floor);
        expect(d).toBeLessThan(window);
        expect(Number.isInteger(d)).toBe(true);
      }
      expect(backoffDelay(failures, DEFAULT_RETRY_POLICY, () => 0)).toBe(floor);
      expect(backoffDelay(failures, DEFAULT_RETRY_POLICY, () => 0.5)).toBe(floor + Math.floor((window - floor) / 2));
      expect(backoffDelay(failures, DEFAULT_RETRY_POLICY, () => 1 - 2 ** -53)).toBe(window - 1);
    }
  });

  it('a doubling limit at the cap and a spread as wide as the cap give the policy before issue 25 exactly', () => {
    for (let failures = 1; failures <= 60; failures += 1) {
      const window = Math.min(30_000, 1_000 * 2 ** (failures - 1));
      expect(backoffWindow(failures, BEFORE)).toBe(window);
      for (const draw of [0, 0.123, 0.5, 0.999])
        expect(backoffDelay(failures, BEFORE, () => draw)).toBe(Math.floor(draw * window));
    }
  });

  it("doubling up to the limit, then the step: issue 25's experiment (1, 2, 4, 8 s, then + 2 s to 30 s)", () => {
    const policy = { ...BEFORE, doublingLimitMs: 8_000, stepDelayMs: 2_000 };
    const windows = Array.from({ length: 17 }, (_, i) => backoffWindow(i + 1, policy) / 1000);
    expect(windows).toEqual([1, 2, 4, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30, 30, 30]);
    // A limit between two doublings is itself a window.
    expect([1, 2, 3, 4].map((f) => backoffWindow(f, { ...policy, doublingLimitMs: 3_000, stepDelayMs: 500 }))).toEqual([
      1_000, 2_000, 3_000, 3_500,
    ]);
  });

  it('stays finite and capped for any failure count, huge counts included', () => {
    for (const failures of [0, 1, 1_000, 1e9, Number.MAX_SAFE_INTEGER]) {
      const window = backoffWindow(failures, DEFAULT_RETRY_POLICY);
      expect(window).toBeGreaterThanOrEqual(DEFAULT_RETRY_POLICY.baseDelayMs);
      expect(window).toBeLessThanOrEqual(DEFAULT_RETRY_POLICY.maxDelayMs);
      expect(backoffWindow(failures, BEFORE)).toBeLessThanOrEqual(BEFORE.maxDelayMs);
    }
  });
});
