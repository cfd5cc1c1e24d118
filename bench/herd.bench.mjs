// The scale-up herd: N pods calling RegisterUsage at once against a 5/s token bucket, on a virtual clock.
// Uses our real backoffDelay and DEFAULT_RETRY_POLICY from src/aws/retry.ts (bundled on the fly by esbuild),
// beside the AWS SDK's default standard retry and plain exponential backoff without jitter, in one run.
//
//   node bench/herd.bench.mjs                 # the herd table in docs/benchmarks.md (seed 1)
//   node bench/herd.bench.mjs --sweep         # also the tuning sweep (cap x jitter kind) that chose the policy
//   node bench/herd.bench.mjs --seed 7 --n 10,100 --json
//
// Runs in a few seconds; no network, no sleeping.
import { parseArgs } from 'node:util';
import { simulateHerd } from './herd-sim.mjs';
import { importTs } from './import-ts.mjs';

const { values: args } = parseArgs({
  options: {
    seed: { type: 'string', default: '1' },
    n: { type: 'string', default: '10,100,1000,10000' },
    sweep: { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
    seeds: { type: 'string', default: '5' },
  },
});
const seed = Number(args.seed);
const sizes = args.n.split(',').map(Number);
const spreadSeeds = Number(args.seeds);

const { backoffDelay, DEFAULT_RETRY_POLICY, DEFAULT_DEADLINE_MS } = await importTs('src/aws/retry.ts');
const policy = { ...DEFAULT_RETRY_POLICY };

// The SDK's standard mode as installed (@smithy/core util-retry): delay = random * min(base * 2^i, 20 s)
// for retry i = 0, 1, ... with base 1,000 ms for throttling errors in the 2026 defaults (older releases:
// 500 ms for throttling, 100 ms otherwise); 3 attempts in all. Its retry quota (500 tokens, 5 per
// throttled retry) is per client, i.e. per pod here, so it never binds at 2 retries.
const sdk = await loadSdkConstants();

/** @type {Record<string, import('./herd-sim.mjs').Strategy>} */
const strategies = {
  ours: {
    name: `ours: full jitter, base ${policy.baseDelayMs / 1000} s, cap ${policy.maxDelayMs / 1000} s, until the deadline`,
    nextDelay: (failures, random) => backoffDelay(failures, policy, random),
  },
  oursRetryAfter: {
    name: 'ours + Retry-After as a floor (hint: next free token)',
    nextDelay: (failures, random, { retryAfterMs }) => Math.max(backoffDelay(failures, policy, random), Math.ceil(retryAfterMs)),
  },
  sdk: {
    name: `AWS SDK standard: 3 attempts, full jitter, base ${sdk.throttlingBaseMs / 1000} s, cap ${sdk.maxDelayMs / 1000} s`,
    nextDelay: (failures, random) =>
      failures >= sdk.maxAttempts ? null : Math.floor(random() * Math.min(sdk.throttlingBaseMs * 2 ** (failures - 1), sdk.maxDelayMs)),
  },
  sdkCrashLoop: {
    name: 'AWS SDK standard + kubelet restarts (CrashLoopBackOff 10 s doubling to 5 min, no jitter)',
    // The container exits after the SDK's third failure and the kubelet restarts it after 10 s, 20 s,
    // 40 s, ... 300 s (plus ~1 s to start the process again); each run makes 3 SDK attempts.
    nextDelay: (failures, random) => {
      const inRun = ((failures - 1) % sdk.maxAttempts) + 1;
      if (inRun < sdk.maxAttempts) return Math.floor(random() * Math.min(sdk.throttlingBaseMs * 2 ** (inRun - 1), sdk.maxDelayMs));
      const restarts = Math.floor(failures / sdk.maxAttempts);
      return Math.min(10_000 * 2 ** (restarts - 1), 300_000) + 1_000;
    },
  },
  noJitter: {
    name: `exponential, no jitter, base ${policy.baseDelayMs / 1000} s, cap ${policy.maxDelayMs / 1000} s, until the deadline`,
    // Our own backoffDelay with the random draw pinned to 1: the window itself, the same for every pod.
    nextDelay: (failures) => backoffDelay(failures, policy, () => 1),
  },
};

const results = [];
for (const n of sizes) {
  for (const [key, strategy] of Object.entries(strategies)) {
    const r = simulateHerd({ n, strategy, seed, deadlineMs: DEFAULT_DEADLINE_MS });
    results.push({ key, ...r });
  }
}

// Seed sensitivity of our policy: the same figures over seeds 1..spreadSeeds.
const spread = [];
for (const n of sizes) {
  const runs = [];
  for (let s = 1; s <= spreadSeeds; s += 1) runs.push(simulateHerd({ n, strategy: strategies.ours, seed: s, deadlineMs: DEFAULT_DEADLINE_MS }));
  spread.push({ n, runs });
}

const sweep = [];
if (args.sweep) {
  for (const n of sizes.filter((x) => x >= 100)) {
    for (const jitter of ['full', 'equal']) {
      for (const capS of [10, 20, 30, 60, 120, 300]) {
        const p = { baseDelayMs: policy.baseDelayMs, maxDelayMs: capS * 1000 };
        const strategy = {
          name: `${jitter} ${capS}`,
          nextDelay:
            jitter === 'full'
              ? (f, random) => backoffDelay(f, p, random)
              : (f, random) => {
                  const w = backoffDelay(f, p, () => 1);
                  return Math.floor(w / 2 + (random() * w) / 2);
                },
        };
        const runs = [];
        for (let s = 1; s <= spreadSeeds; s += 1) runs.push(simulateHerd({ n, strategy, seed: s, deadlineMs: DEFAULT_DEADLINE_MS }));
        const mean = (f) => runs.reduce((sum, r) => sum + f(r), 0) / runs.length;
        sweep.push({
          jitter,
          capS,
          n,
          entitledShare: mean((r) => r.entitledShare),
          makespanRatio: mean((r) => r.makespanRatio),
          lastEntitledMs: mean((r) => r.lastEntitledMs),
          meanCalls: mean((r) => r.meanCalls),
          p99Calls: mean((r) => r.p99Calls),
          p99TimeMs: mean((r) => r.p99TimeMs),
        });
      }
    }
  }
}

if (args.json) {
  console.log(JSON.stringify({ seed, policy, sdk, results, sweep }, null, 2));
} else {
  printMarkdown();
}

function printMarkdown() {
  const out = [];
  out.push(`Seed ${seed}; policy under test: \`DEFAULT_RETRY_POLICY\` = ${JSON.stringify(policy)}; deadline ${DEFAULT_DEADLINE_MS / 60_000} min.`);
  out.push('');
  out.push('| N | strategy | entitled | makespan / (N/5 s) | calls per pod: mean / p99 | throttled calls | time to entitlement: p50 / p99 |');
  out.push('|---:|---|---:|---:|---:|---:|---:|');
  for (const r of results) {
    out.push(
      `| ${r.n} | ${r.strategy} | ${pct(r.entitledShare)} | ${ratio(r)} | ${r.meanCalls.toFixed(1)} / ${r.p99Calls} | ${r.throttled} | ${secs(r.p50TimeMs)} / ${secs(r.p99TimeMs)}${
        Number.isFinite(r.p99TimeMs) || r.entitled === 0 ? '' : ` (p99 of those entitled: ${secs(r.p99EntitledTimeMs)})`
      } |`,
    );
  }
  out.push('');
  out.push(`Seed sensitivity of our policy (seeds 1..${spreadSeeds}, min to max):`);
  out.push('');
  out.push('| N | entitled | makespan / (N/5 s) | mean calls per pod | p99 time to entitlement |');
  out.push('|---:|---:|---:|---:|---:|');
  for (const { n, runs } of spread) {
    const range = (f, fmt) => {
      const v = runs.map(f);
      if (!v.some(Number.isFinite)) return 'n/a';
      return `${fmt(Math.min(...v))} to ${fmt(Math.max(...v))}`;
    };
    out.push(
      `| ${n} | ${range((r) => r.entitledShare, pct)} | ${range((r) => r.makespanRatio, (x) => (Number.isFinite(x) ? x.toFixed(2) : 'n/a'))} | ${range((r) => r.meanCalls, (x) => x.toFixed(1))} | ${range((r) => r.p99TimeMs, secs)} |`,
    );
  }
  if (sweep.length > 0) {
    out.push('');
    out.push(`Tuning sweep (base ${policy.baseDelayMs / 1000} s; means over seeds 1..${spreadSeeds}): cap and jitter kind.`);
    out.push('');
    out.push('| N | jitter | cap | entitled | makespan / (N/5 s) | calls per pod: mean / p99 | p99 time to entitlement |');
    out.push('|---:|---|---:|---:|---:|---:|---:|');
    for (const r of sweep) {
      out.push(
        `| ${r.n} | ${r.jitter} | ${r.capS} s | ${pct(r.entitledShare)} | ${ratio(r)} | ${r.meanCalls.toFixed(1)} / ${r.p99Calls.toFixed(0)} | ${secs(r.p99TimeMs)} |`,
      );
    }
  }
  console.log(out.join('\n'));
}

function pct(x) {
  return `${(x * 100).toFixed(x === 1 ? 0 : 1)}%`;
}
function secs(ms) {
  if (!Number.isFinite(ms)) return 'not entitled';
  return ms < 10_000 ? `${(ms / 1000).toFixed(2)} s` : `${(ms / 1000).toFixed(0)} s`;
}
function ratio(r) {
  if (Number.isFinite(r.makespanRatio)) return r.makespanRatio.toFixed(2);
  // Not everyone got in: say when the last one that did got in.
  return `n/a (last entitled at ${secs(r.lastEntitledMs)})`;
}

async function loadSdkConstants() {
  const fallback = { throttlingBaseMs: 1000, maxDelayMs: 20_000, maxAttempts: 3, source: 'built-in (2026 SDK defaults)' };
  try {
    const retry = await import('@smithy/core/retry');
    return {
      throttlingBaseMs: retry.Retry?.throttlingDelay?.() ?? retry.THROTTLING_RETRY_DELAY_BASE,
      maxDelayMs: retry.MAXIMUM_RETRY_DELAY,
      maxAttempts: 3,
      source: '@smithy/core/retry as installed',
    };
  } catch {
    return fallback;
  }
}
