// The scale-up herd, simulated on a virtual clock (no real sleeping).
//
// N independent pods start together and each calls RegisterUsage until it is entitled, its retry
// strategy gives up, or its deadline passes. The service is the emulator's own token bucket
// (src/emulator/token-bucket.ts as built in dist/: default 5/s, burst 5) that answers ThrottlingException when
// empty. Everything random comes from one seeded PRNG, and events are processed in (time, sequence) order, so a
// run is a pure function of its inputs. Needs `npm run build` (which `npm test` and `npm run bench` run first).
//
// Assumptions (also listed next to the figures in docs/benchmarks.md):
// - every pod starts at t = 0 unless `startSpreadMs` spreads the starts uniformly (worst case: 0);
// - the bucket starts full; a throttled call consumes no token (AWS does not document either point);
// - each call takes `rttMs` round trip, the bucket decides at the half-way point; throttled and
//   successful answers take the same time;
// - no other caller in the account uses the RegisterUsage quota;
// - a pod whose strategy gives up, or whose next attempt would start at or after the deadline, or whose
//   answer arrives after it, is not entitled (the container terminates, per AWS guidance): retryUntilDeadline
//   clamps its last sleep to the deadline and gives up there;
// - `failures` handed to the strategy is the pod's attempts so far, all failed: what retryUntilDeadline hands
//   backoffDelay.
import { TokenBucket } from '../dist/src/emulator/token-bucket.js';

/** mulberry32: small, fast, well-distributed 32-bit PRNG; returns floats in [0, 1). */
export function mulberry32(seed) {
  let a = seed >>> 0;
  return function random() {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Binary min-heap of [time, seq, ...payload] ordered by time then seq (deterministic ties). */
class EventQueue {
  #items = [];
  get size() {
    return this.#items.length;
  }
  push(item) {
    const a = this.#items;
    a.push(item);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!less(a[i], a[p])) break;
      [a[i], a[p]] = [a[p], a[i]];
      i = p;
    }
  }
  pop() {
    const a = this.#items;
    const top = a[0];
    const last = a.pop();
    if (a.length > 0) {
      a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && less(a[l], a[m])) m = l;
        if (r < a.length && less(a[r], a[m])) m = r;
        if (m === i) break;
        [a[i], a[m]] = [a[m], a[i]];
        i = m;
      }
    }
    return top;
  }
}

function less(x, y) {
  return x[0] < y[0] || (x[0] === y[0] && x[1] < y[1]);
}

/** Nearest-rank percentile of an ascending array (Infinity entries allowed). */
export function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1];
}

/**
 * @typedef {object} Strategy
 * @property {string} name
 * @property {(failures: number, random: () => number, hint: { retryAfterMs: number }) => number | null} nextDelay
 *   delay in ms before the next attempt after `failures` consecutive throttles, or null to give up.
 */

/**
 * Runs one herd. Returns the figures the issue asks for, plus raw counters.
 * @param {{ n: number, strategy: Strategy, seed?: number, ratePerSec?: number, burst?: number, rttMs?: number,
 *           deadlineMs?: number, startSpreadMs?: number, maxEvents?: number }} options
 */
export function simulateHerd(options) {
  const {
    n,
    strategy,
    seed = 1,
    ratePerSec = 5,
    burst = 5,
    rttMs = 50,
    deadlineMs = 30 * 60_000,
    startSpreadMs = 0,
    maxEvents = 50_000_000,
  } = options;
  if (!(Number.isInteger(n) && n > 0)) throw new RangeError(`n must be a positive integer, got ${n}`);
  const random = mulberry32(seed);
  const limit = { perSecond: ratePerSec, burst };
  const bucket = new TokenBucket();

  const calls = new Uint32Array(n);
  const entitledAt = new Float64Array(n).fill(Infinity);
  const startAt = new Float64Array(n);
  const queue = new EventQueue();
  let seq = 0;
  let throttled = 0;
  let gaveUp = 0;

  for (let pod = 0; pod < n; pod += 1) {
    startAt[pod] = startSpreadMs > 0 ? random() * startSpreadMs : 0;
    queue.push([startAt[pod], seq++, pod]);
  }

  let events = 0;
  while (queue.size > 0) {
    events += 1;
    if (events > maxEvents) throw new Error(`simulation exceeded ${maxEvents} events`);
    const [sentAt, , pod] = queue.pop();
    const deadlineAt = startAt[pod] + deadlineMs;
    calls[pod] += 1;
    // Server side: the emulator's bucket takes a token if there is one. Sends are processed in time order and
    // every call has the same latency, so the bucket sees arrivals in order too.
    const arriveAt = sentAt + rttMs / 2;
    const answeredAt = sentAt + rttMs;
    if (bucket.take(arriveAt, limit)) {
      if (answeredAt <= deadlineAt) entitledAt[pod] = answeredAt - startAt[pod];
      else gaveUp += 1; // the answer came after the deadline aborted the request
      continue;
    }
    throttled += 1;
    // What a server could say in a Retry-After: when the next token will be there.
    const retryAfterMs = bucket.msUntilToken(limit);
    const delay = strategy.nextDelay(calls[pod], random, { retryAfterMs });
    if (delay === null) {
      gaveUp += 1;
      continue;
    }
    const nextAt = answeredAt + delay;
    if (nextAt >= deadlineAt) {
      gaveUp += 1;
      continue;
    }
    queue.push([nextAt, seq++, pod]);
  }

  return summarize({ n, calls, entitledAt, throttled, gaveUp, ratePerSec, deadlineMs, strategy: strategy.name });
}

/** Figures from per-pod results (shared with the real-HTTP herd). */
export function summarize({ n, calls, entitledAt, throttled, gaveUp, ratePerSec = 5, deadlineMs, strategy }) {
  const times = Float64Array.from(entitledAt).sort();
  const entitledTimes = times.filter((t) => Number.isFinite(t));
  const callList = Float64Array.from(calls).sort();
  let entitled = 0;
  let makespanMs = 0;
  let totalCalls = 0;
  for (let i = 0; i < n; i += 1) {
    totalCalls += calls[i];
    if (Number.isFinite(entitledAt[i])) {
      entitled += 1;
      makespanMs = Math.max(makespanMs, entitledAt[i]);
    }
  }
  const lowerBoundMs = (n / ratePerSec) * 1000;
  return {
    strategy,
    n,
    entitled,
    entitledShare: entitled / n,
    // Only meaningful when every pod got in; otherwise the herd did not finish within the budget.
    makespanMs: entitled === n ? makespanMs : Infinity,
    lastEntitledMs: makespanMs,
    makespanRatio: entitled === n ? makespanMs / lowerBoundMs : Infinity,
    lowerBoundMs,
    meanCalls: totalCalls / n,
    p99Calls: percentile(callList, 99),
    maxCalls: callList[callList.length - 1],
    totalCalls,
    throttled: throttled ?? totalCalls - entitled,
    wastedPerPod: (throttled ?? totalCalls - entitled) / n,
    gaveUp,
    p50TimeMs: percentile(times, 50),
    p99TimeMs: percentile(times, 99),
    // Among the pods that did get in (differs from p99TimeMs only when some did not).
    p99EntitledTimeMs: percentile(entitledTimes, 99),
    deadlineMs,
  };
}
