// Types for herd-sim.mjs, so TypeScript tests can import it.
export interface HerdStrategy {
  name: string;
  /** Delay in ms before the next attempt after `failures` consecutive throttles, or null to give up. */
  nextDelay: (failures: number, random: () => number, hint: { retryAfterMs: number }) => number | null;
}
export interface HerdOptions {
  n: number;
  strategy: HerdStrategy;
  seed?: number;
  ratePerSec?: number;
  burst?: number;
  rttMs?: number;
  deadlineMs?: number;
  startSpreadMs?: number;
  maxEvents?: number;
}
export interface HerdResult {
  strategy: string;
  n: number;
  entitled: number;
  entitledShare: number;
  makespanMs: number;
  lastEntitledMs: number;
  makespanRatio: number;
  lowerBoundMs: number;
  meanCalls: number;
  p99Calls: number;
  maxCalls: number;
  totalCalls: number;
  throttled: number;
  wastedPerPod: number;
  gaveUp: number;
  p50TimeMs: number;
  p99TimeMs: number;
  p99EntitledTimeMs: number;
  deadlineMs: number;
}
export function mulberry32(seed: number): () => number;
export function percentile(sorted: ArrayLike<number>, p: number): number;
export function simulateHerd(options: HerdOptions): HerdResult;
export function summarize(input: {
  n: number;
  calls: ArrayLike<number>;
  entitledAt: ArrayLike<number>;
  throttled?: number;
  gaveUp: number;
  ratePerSec?: number;
  deadlineMs: number;
  strategy: string;
}): HerdResult;
