// The scale-up herd: N pods calling RegisterUsage at once against a 5/s token bucket, on a virtual clock.
// Uses the package's own backoffDelay and DEFAULT_RETRY_POLICY as built (dist/src/aws/retry.js, after
// `npm run build`), beside the AWS SDK's default standard retry and backoff without jitter, in one run.
//
//   node bench/herd.bench.mjs                 # the herd table in docs/benchmarks.md (seed 1)
//   node bench/herd.bench.mjs --sweep         # the candidate policies over seeds 1-5 at N = 10 ... 10,000, and
//                                             # the issue 25 goals checked for the default policy (exit 1 on a FAIL)
//   node bench/herd.bench.mjs --sweep --seeds 6-25 --candidates 'full jitter doubling to 30 s (before issue 25)'
//   node bench/herd.bench.mjs --seed 7 --n 10,100 --json
//
// No network, no sleeping: a few seconds, the sweep about two minutes.
import { parseArgs } from 'node:util';
import { simulateHerd } from './herd-sim.mjs';
import { importDist } from './dist.mjs';

const { values: args } = parseArgs({
  options: {
    seed: { type: 'string', default: '1' },
    n: { type: 'string', default: '10,100,1000,10000' },
    sweep: { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
    seeds: { type: 'string', default: '5' },
    candidates: { type: 'string' },
  },
});
const seed = Number(args.seed);
const sizes = args.n.split(',').map(Number);
// "5": seeds 1 to 5; "6-25": seeds 6 to 25.
const [firstSeed, lastSeed] = args.seeds.includes('-') ? args.seeds.split('-').map(Number) : [1, Number(args.seeds)];
const seedList = Array.from({ length: lastSeed - firstSeed + 1 }, (_, i) => firstSeed + i);
const seedsLabel = `seeds ${firstSeed}-${lastSeed}`;

const { backoffDelay, DEFAULT_RETRY_POLICY, DEFAULT_DEADLINE_MS } = await importDist('src/aws/retry.js');
const policy = { ...DEFAULT_RETRY_POLICY };

// The SDK's standard mode as installed (@smithy/core util-retry): delay = random * min(base * 2^i, 20 s)
// for retry i = 0, 1, ... with base 1,000 ms for throttling errors in the 2026 defaults (older releases:
// 500 ms for throttling, 100 ms otherwise); 3 attempts in all. Its retry quota (500 tokens, 5 per
// throttled retry) is per client, i.e. per pod here, so it never binds at 2 retries.
const sdk = await loadSdkConstants();

/** A policy in words, e.g. "window 1 s + 0.5 s per failure, cap 30 s, delay in the window's last 8 s". */
function describePolicy(p) {
  const s = (ms) => `${ms / 1000} s`;
  const growth =
    p.doublingLimitMs >= p.maxDelayMs
      ? `doubling from ${s(p.baseDelayMs)}`
      : p.doublingLimitMs > p.baseDelayMs
        ? `doubling from ${s(p.baseDelayMs)} to ${s(p.doublingLimitMs)}, then + ${s(p.stepDelayMs)} per failure`
        : `${s(p.baseDelayMs)} + ${s(p.stepDelayMs)} per failure`;
  const jitter = p.maxJitterMs >= p.maxDelayMs ? 'full jitter' : `delay in the window's last ${s(p.maxJitterMs)}`;
  return `window ${growth}, cap ${s(p.maxDelayMs)}; ${jitter}`;
}

/** The package's own backoffDelay under `p`: the delay retryUntilDeadline waits after `failures` failures. */
const underPolicy = (p) => (failures, random) => backoffDelay(failures, p, random);

/** @type {Record<string, import('./herd-sim.mjs').Strategy>} */
const strategies = {
  ours: {
    name: `ours: ${describePolicy(policy)}; until the deadline`,
    nextDelay: underPolicy(policy),
  },
  oursRetryAfter: {
    name: 'ours + Retry-After as a floor (hint: next free token)',
    nextDelay: (failures, random, { retryAfterMs }) =>
      Math.max(backoffDelay(failures, policy, random), Math.ceil(retryAfterMs)),
  },
  sdk: {
    name: `AWS SDK standard: 3 attempts, full jitter, base ${sdk.throttlingBaseMs / 1000} s, cap ${sdk.maxDelayMs / 1000} s`,
    nextDelay: (failures, random) =>
      failures >= sdk.maxAttempts
        ? null
        : Math.floor(random() * Math.min(sdk.throttlingBaseMs * 2 ** (failures - 1), sdk.maxDelayMs)),
  },
  sdkCrashLoop: {
    name: 'AWS SDK standard + kubelet restarts (CrashLoopBackOff 10 s doubling to 5 min, no jitter)',
    // The container exits after the SDK's third failure and the kubelet restarts it after 10 s, 20 s,
    // 40 s, ... 300 s (plus ~1 s to start the process again); each run makes 3 SDK attempts.
    nextDelay: (failures, random) => {
      const inRun = ((failures - 1) % sdk.maxAttempts) + 1;
      if (inRun < sdk.maxAttempts)
        return Math.floor(random() * Math.min(sdk.throttlingBaseMs * 2 ** (inRun - 1), sdk.maxDelayMs));
      const restarts = Math.floor(failures / sdk.maxAttempts);
      return Math.min(10_000 * 2 ** (restarts - 1), 300_000) + 1_000;
    },
  },
  noJitter: {
    name: `our windows without jitter (${describePolicy(policy).split(';')[0]}), until the deadline`,
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

// Seed sensitivity of our policy: the same figures over the seeds asked for (--seeds).
const spread = [];
if (!args.sweep) {
  for (const n of sizes) {
    const runs = seedList.map((s) =>
      simulateHerd({ n, strategy: strategies.ours, seed: s, deadlineMs: DEFAULT_DEADLINE_MS }),
    );
    spread.push({ n, runs });
  }
}

// The sweep: candidate policies, each run through the package's backoffDelay (never a re-implementation), so
// the default policy's row is the shipped code. Issue 25's goals are relative to the policy before it.
const SWEEP_SIZES = [10, 50, 100, 300, 1000, 10000];
const BEFORE = {
  baseDelayMs: 1_000,
  doublingLimitMs: 30_000,
  stepDelayMs: 1_000,
  maxDelayMs: 30_000,
  maxJitterMs: 30_000,
};
const CANDIDATES = [
  ['full jitter doubling to 30 s (before issue 25)', BEFORE],
  ['the same, cap 20 s', { ...BEFORE, doublingLimitMs: 20_000, maxDelayMs: 20_000, maxJitterMs: 20_000 }],
  ['the same, cap 10 s', { ...BEFORE, doublingLimitMs: 10_000, maxDelayMs: 10_000, maxJitterMs: 10_000 }],
  ['equal jitter doubling to 20 s', { ...BEFORE, doublingLimitMs: 20_000, maxDelayMs: 20_000, maxJitterMs: 10_000 }],
  ["issue 25's experiment: doubling to 8 s, then + 2 s", { ...BEFORE, doublingLimitMs: 8_000, stepDelayMs: 2_000 }],
  ['doubling to 4 s, then + 1 s', { ...BEFORE, doublingLimitMs: 4_000 }],
  [
    'doubling to 4 s, then + 1 s, cap 34 s (the best full-jitter candidate found)',
    { ...BEFORE, doublingLimitMs: 4_000, maxDelayMs: 34_000, maxJitterMs: 34_000 },
  ],
  [
    'doubling to 4 s, then + 1 s, delay in the last 12 s, cap 24 s',
    { ...BEFORE, doublingLimitMs: 4_000, maxDelayMs: 24_000, maxJitterMs: 12_000 },
  ],
  ['linear: 1 s + 1 s per failure, delay in the last 8 s', { ...BEFORE, doublingLimitMs: 1_000, maxJitterMs: 8_000 }],
  [
    'linear: 1 s + 0.25 s per failure, delay in the last 8 s',
    { ...BEFORE, doublingLimitMs: 1_000, stepDelayMs: 250, maxJitterMs: 8_000 },
  ],
  ['linear: 1 s + 0.5 s per failure, full jitter', { ...BEFORE, doublingLimitMs: 1_000, stepDelayMs: 500 }],
  [
    'linear: 1 s + 0.5 s per failure, delay in the last 12 s',
    { ...BEFORE, doublingLimitMs: 1_000, stepDelayMs: 500, maxJitterMs: 12_000 },
  ],
  [
    'linear: 1 s + 0.5 s per failure, delay in the last 4 s',
    { ...BEFORE, doublingLimitMs: 1_000, stepDelayMs: 500, maxJitterMs: 4_000 },
  ],
  ['**DEFAULT_RETRY_POLICY** (as built)', policy],
];
const sweep = [];
if (args.sweep) {
  const wanted = args.candidates?.split(',');
  for (const [label, p] of CANDIDATES) {
    if (wanted && !wanted.some((w) => label.includes(w))) continue;
    const rows = SWEEP_SIZES.map((n) => {
      const runs = seedList.map((s) =>
        simulateHerd({
          n,
          strategy: { name: label, nextDelay: underPolicy(p) },
          seed: s,
          deadlineMs: DEFAULT_DEADLINE_MS,
        }),
      );
      const mean = (f) => runs.reduce((sum, r) => sum + f(r), 0) / runs.length;
      return {
        n,
        entitledShare: mean((r) => r.entitledShare),
        makespanRatio: mean((r) => r.makespanRatio),
        worstRatio: Math.max(...runs.map((r) => r.makespanRatio)),
        lastEntitledMs: mean((r) => r.lastEntitledMs),
        meanCalls: mean((r) => r.meanCalls),
      };
    });
    sweep.push({ label, policy: { ...p }, description: describePolicy(p), rows });
  }
}

/** Issue 25's goals for one sweep entry, against the policy before it (the first candidate). */
function goals(entry, before) {
  const at = (e, n) => e.rows.find((r) => r.n === n);
  const x = (v) => `${v.toFixed(3)}x`;
  const ms = (v) => `${(v / 1000).toFixed(2)} s`;
  const throughThousand = [10, 50, 100, 300, 1000];
  return [
    ...[50, 100, 300].map((n) => [
      `makespan <= 1.25x the bound at N = ${n}: ${x(at(entry, n).makespanRatio)}`,
      at(entry, n).makespanRatio <= 1.25,
    ]),
    [`makespan <= 1.08x at N = 1,000: ${x(at(entry, 1000).makespanRatio)}`, at(entry, 1000).makespanRatio <= 1.08],
    [
      `100% entitled through N = 1,000: ${throughThousand.map((n) => pct(at(entry, n).entitledShare)).join(', ')}`,
      throughThousand.every((n) => at(entry, n).entitledShare === 1),
    ],
    [
      `no slower at N = 10 than before: ${ms(at(entry, 10).lastEntitledMs)} against ${ms(at(before, 10).lastEntitledMs)}`,
      at(entry, 10).lastEntitledMs <= at(before, 10).lastEntitledMs,
    ],
    [
      `calls per pod at N = 10,000 at most 10% above before: ${at(entry, 10000).meanCalls.toFixed(1)} against ${at(before, 10000).meanCalls.toFixed(1)}`,
      at(entry, 10000).meanCalls <= 1.1 * at(before, 10000).meanCalls,
    ],
  ];
}

if (args.json) {
  console.log(JSON.stringify({ seed, seeds: seedList, policy, sdk, results, sweep }, null, 2));
} else {
  printMarkdown();
}

let failedGoal = false;
if (args.sweep) {
  const before = sweep.find((e) => e.label === CANDIDATES[0][0]);
  const ours = sweep.find((e) => e.label === CANDIDATES.at(-1)[0]);
  if (before && ours) {
    console.log(`\nIssue 25's goals for DEFAULT_RETRY_POLICY (${seedsLabel}, means):`);
    for (const [goal, ok] of goals(ours, before)) {
      console.log(`- ${goal}: ${ok ? 'PASS' : 'FAIL'}`);
      failedGoal ||= !ok;
    }
  }
}
process.exit(failedGoal ? 1 : 0);

function printMarkdown() {
  const out = [];
  out.push(
    `Seed ${seed}; policy under test: \`DEFAULT_RETRY_POLICY\` = ${JSON.stringify(policy)}; deadline ${DEFAULT_DEADLINE_MS / 60_000} min.`,
  );
  out.push('');
  out.push(
    '| N | strategy | entitled | makespan / (N/5 s) | calls per pod: mean / p99 | throttled calls | time to entitlement: p50 / p99 |',
  );
  out.push('|---:|---|---:|---:|---:|---:|---:|');
  for (const r of results) {
    out.push(
      `| ${r.n} | ${r.strategy} | ${pct(r.entitledShare)} | ${ratio(r)} | ${r.meanCalls.toFixed(1)} / ${r.p99Calls} | ${r.throttled} | ${secs(r.p50TimeMs)} / ${secs(r.p99TimeMs)}${
        Number.isFinite(r.p99TimeMs) || r.entitled === 0 ? '' : ` (p99 of those entitled: ${secs(r.p99EntitledTimeMs)})`
      } |`,
    );
  }
  if (spread.length > 0) {
    out.push('');
    out.push(`Seed sensitivity of our policy (${seedsLabel}, min to max):`);
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
        `| ${n} | ${range((r) => r.entitledShare, pct)} | ${range(
          (r) => r.makespanRatio,
          (x) => (Number.isFinite(x) ? x.toFixed(2) : 'n/a'),
        )} | ${range(
          (r) => r.meanCalls,
          (x) => x.toFixed(1),
        )} | ${range((r) => r.p99TimeMs, secs)} |`,
      );
    }
  }
  if (sweep.length > 0) {
    out.push('');
    out.push(
      `Candidate policies (means over ${seedsLabel}; each cell: makespan / (N/5 s), share entitled if not 100%, calls per pod; N = 10 also in seconds):`,
    );
    out.push('');
    out.push(`| policy | ${SWEEP_SIZES.map((n) => `N = ${n.toLocaleString('en-US')}`).join(' | ')} |`);
    out.push(`|---|${SWEEP_SIZES.map(() => '---:').join('|')}|`);
    for (const e of sweep) {
      const cells = e.rows.map((r) => {
        const share = r.entitledShare === 1 ? '' : `${pct(r.entitledShare)} entitled, `;
        const time = r.n === 10 ? ` (${secs(r.lastEntitledMs)})` : '';
        return `${Number.isFinite(r.makespanRatio) ? r.makespanRatio.toFixed(2) : 'n/a'}${time}, ${share}${r.meanCalls.toFixed(1)} calls`;
      });
      out.push(`| ${e.label}: ${e.description} | ${cells.join(' | ')} |`);
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
  const fallback = {
    throttlingBaseMs: 1000,
    maxDelayMs: 20_000,
    maxAttempts: 3,
    source: 'built-in (2026 SDK defaults)',
  };
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
