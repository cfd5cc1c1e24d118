// The herd for real: N concurrent ensureEntitled() calls (real AWS SDK, real HTTP, real SigV4, real PS256
// tokens verified) against the emulator's token bucket, run in its own process; then the simulator with
// the same parameters, so the two can be compared.
//
//   node bench/herd-http.bench.mjs              # 200 pods, time compressed 10x (50/s bucket, policy / 10): ~5 s
//   node bench/herd-http.bench.mjs --scale 1    # the real thing: 5/s bucket, the default policy: ~45 s
//   node bench/herd-http.bench.mjs --scale 1 --n 50   # issue 25's confirmation: 50 pods at the real 5/s, ~12 s
//   node bench/herd-http.bench.mjs --scale 1 --n 50 --policy '{"doublingLimitMs":30000,"maxJitterMs":30000}'
//                                               # the same with fields of the policy changed (here: the one before)
//
// Uses the package as built (dist/, `npm run build`), in both processes.
//
// Time compression: the herd is invariant under scaling time by k when the bucket rate is multiplied by
// k and every delay (backoff base and cap, deadline) divided by k; the burst (a token count) stays. So
// makespan / (N / rate), calls per pod and share entitled are directly comparable, and times are
// reported scaled back to the 5/s world. Only the HTTP round trip (~1-3 ms here) does not scale, which
// makes the compressed run slightly pessimistic.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { simulateHerd, summarize } from './herd-sim.mjs';
import { importDist } from './dist.mjs';

process.env.AWS_EC2_METADATA_DISABLED = 'true';
const here = dirname(fileURLToPath(import.meta.url));
const { values: args } = parseArgs({
  options: {
    n: { type: 'string', default: '200' },
    scale: { type: 'string', default: '10' },
    seeds: { type: 'string', default: '5' },
    json: { type: 'boolean', default: false },
    policy: { type: 'string', default: '{}' },
  },
});
const n = Number(args.n);
const scale = Number(args.scale);
const RATE = 5;
const BURST = 5;
const rate = RATE * scale;

const { ensureEntitled } = await importDist('src/index.js');
// The policy's figures and the delay function itself (not public: the herd benches drive it as ensureEntitled does).
const { backoffDelay, DEFAULT_DEADLINE_MS, DEFAULT_RETRY_POLICY } = await importDist('src/aws/retry.js');
// Every field of the policy is a duration: all of them shrink by the scale.
const policy = Object.fromEntries(
  Object.entries({ ...DEFAULT_RETRY_POLICY, ...JSON.parse(args.policy) }).map(([field, ms]) => [field, ms / scale]),
);
const deadlineMs = DEFAULT_DEADLINE_MS / scale;

const child = spawn(
  process.execPath,
  [join(here, 'herd-emulator.mjs'), JSON.stringify({ rateLimit: { perSecond: rate, burst: BURST } })],
  {
    stdio: ['pipe', 'pipe', 'inherit'],
    env: { ...process.env, AWS_EC2_METADATA_DISABLED: 'true' },
  },
);
// One JSON line at a time from the child's stdout (no async iterator: leaving it would close the stream).
const pending = [];
const waiting = [];
createInterface({ input: child.stdout }).on('line', (line) =>
  waiting.length > 0 ? waiting.shift()(line) : pending.push(line),
);
child.on('exit', () => {
  for (const resolve of waiting.splice(0)) resolve(null);
});
const nextLine = async () => {
  const line = pending.length > 0 ? pending.shift() : await new Promise((resolve) => waiting.push(resolve));
  if (line === null || line === undefined) throw new Error('the emulator process exited without output');
  return JSON.parse(line);
};
const killTimer = setTimeout(() => child.kill('SIGKILL'), 15 * 60_000).unref();
const { url, publicKeyPem } = await nextLine();

// Every pod starts in the same tick, each with its own SDK client (own connections), like separate pods.
const calls = new Array(n).fill(0);
const entitledAt = new Array(n).fill(Infinity);
const failures = [];
const t0 = performance.now();
await Promise.all(
  Array.from({ length: n }, async (_, pod) => {
    try {
      const e = await ensureEntitled({
        productCode: 'prod-herd-0123456789',
        publicKey: publicKeyPem,
        endpoint: url,
        region: 'us-east-1',
        credentials: { accessKeyId: 'AKIDHERDBENCH', secretAccessKey: 'herd-bench-not-a-secret' },
        retry: policy,
        deadlineMs,
        logger: {},
      });
      calls[pod] = e.attempts;
      entitledAt[pod] = performance.now() - t0;
    } catch (err) {
      calls[pod] = err.attempts ?? 0;
      failures.push(`${err.name}: ${err.code ?? ''} ${err.message}`);
    }
  }),
);
const wallMs = performance.now() - t0;
child.stdin.end();
const server = await nextLine();
if (child.exitCode === null) await once(child, 'exit');
clearTimeout(killTimer);

const http = summarize({
  n,
  calls,
  entitledAt,
  gaveUp: failures.length,
  ratePerSec: rate,
  deadlineMs,
  strategy: 'real ensureEntitled over HTTP',
});
// The simulator with the same parameters: all pods at once, and with the start spread the server saw.
const simulate = (startSpreadMs) =>
  Array.from({ length: Number(args.seeds) }, (_, i) =>
    simulateHerd({
      n,
      seed: i + 1,
      ratePerSec: rate,
      burst: BURST,
      rttMs: 2,
      deadlineMs,
      startSpreadMs,
      strategy: { name: 'simulated', nextDelay: (f, random) => backoffDelay(f, policy, random) },
    }),
  );
const sims = simulate(0);
const simsSpread = simulate(server.firstCallSpreadMs);

if (args.json) {
  console.log(
    JSON.stringify(
      { n, scale, rate, policy, deadlineMs, wallMs, server, http, sims, simsSpread, failures: failures.slice(0, 5) },
      null,
      2,
    ),
  );
} else {
  const s = (ms) => (Number.isFinite(ms) ? `${((ms * scale) / 1000).toFixed(1)} s` : 'not entitled');
  const ratio = (x) => (Number.isFinite(x) ? x.toFixed(2) : 'n/a');
  const pct = (x) => `${(x * 100).toFixed(1)}%`;
  const range = (rs, f, fmt) => {
    const v = rs.map(f);
    const lo = fmt(Math.min(...v));
    const hi = fmt(Math.max(...v));
    return lo === hi ? lo : `${lo} to ${hi}`;
  };
  const row = (label, rs) =>
    `| ${label} | ${range(rs, (r) => r.entitledShare, pct)} | ${range(rs, (r) => r.makespanRatio, ratio)} | ` +
    `${range(
      rs,
      (r) => r.meanCalls,
      (x) => x.toFixed(1),
    )} / ${range(rs, (r) => r.p99Calls, String)} | ` +
    `${range(rs, (r) => r.p50TimeMs, s)} / ${range(rs, (r) => r.p99TimeMs, s)} |`;
  const out = [];
  out.push(
    `${n} concurrent ensureEntitled() against the emulator over HTTP; bucket ${rate}/s burst ${BURST}; policy ${JSON.stringify(policy)}; ` +
      `deadline ${deadlineMs / 1000} s (time compressed ${scale}x: times below are scaled back to the 5/s world). Wall clock ${(wallMs / 1000).toFixed(1)} s.`,
  );
  out.push(
    `Server side: ${server.calls} calls, ${server.ok} answered, ${server.throttled} throttled, ${server.other} other; ` +
      `at most ${server.maxPerSecond} answered in any 1 s window (bucket allows ${rate + BURST}); ` +
      `the ${server.pods} pods' first calls reached the server within ${server.firstCallSpreadMs} ms of each other.`,
  );
  out.push('');
  out.push('| run | entitled | makespan / (N/5 s) | calls per pod: mean / p99 | time to entitlement: p50 / p99 |');
  out.push('|---|---:|---:|---:|---:|');
  out.push(row('real ensureEntitled over HTTP (one run)', [http]));
  out.push(row(`simulated, same parameters, all start at once (seeds 1-${sims.length})`, sims));
  out.push(
    row(
      `simulated, starts spread over the measured ${server.firstCallSpreadMs} ms (seeds 1-${sims.length})`,
      simsSpread,
    ),
  );
  if (failures.length > 0) out.push('', `Failures (${failures.length}), first: ${failures[0]}`);
  console.log(out.join('\n'));
}
process.exit(http.entitledShare === 1 ? 0 : 1);
