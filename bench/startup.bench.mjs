#!/usr/bin/env node
// Cold start of the bundled CLI (dist/cli.cjs) as an init container and an exec probe run it: `check` on a
// valid file, `register` against the emulator, and `--help`, each beside a bare `node -e 0` measured in the
// same run and the same environment. NODE_EXTRA_CA_CERTS is removed from that environment: it alone adds tens of
// milliseconds to every Node start (it is set on the build machine, not in the image) and would hide the
// difference; its cost is printed on its own. Cases are interleaved round by round so drift on a shared machine
// hits all of them alike.
//
//   npm run bench -- startup            # after npm run build (prebench does it)
//   node bench/startup.bench.mjs --runs 50
//
// Reports wall-clock median and p90 per case, the ratio of medians to bare node with PASS/FAIL against the
// targets (exit 1 on a FAIL), CPU (user+sys) per run read from this process's reaped-children counters
// (/proc/self/stat, 10 ms ticks, so a mean), and what the exec probe costs a fleet.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const { values: options } = parseArgs({ options: { runs: { type: 'string', default: '30' } } });
const runs = Number(options.runs);
const root = fileURLToPath(new URL('..', import.meta.url));
const cli = join(root, 'dist', 'cli.cjs');
const wholeCli = join(root, 'dist', 'cli.mjs');
const dir = mkdtempSync(join(tmpdir(), 'startup-bench-'));
const keyFile = join(dir, 'emulator-key.pem');
const file = join(dir, 'entitlement.jwt');
const { NODE_EXTRA_CA_CERTS: extraCaCerts, ...inherited } = process.env;
const env = {
  ...inherited,
  AWS_EC2_METADATA_DISABLED: 'true',
  AWS_ACCESS_KEY_ID: 'AKIDBENCH',
  AWS_SECRET_ACCESS_KEY: 'bench-not-a-secret',
  AWS_REGION: 'us-east-1',
};

// The emulator runs in its own process: spawnSync below blocks this one.
const emulator = spawn(process.execPath, [cli, 'emulator', '--public-key-out', keyFile, '--log-level', 'error'], {
  env,
  stdio: ['ignore', 'pipe', 'inherit'],
});
const url = await new Promise((resolve, reject) => {
  let out = '';
  emulator.stdout.on('data', (chunk) => {
    out += chunk;
    const match = /listening on (http:\/\/\S+?)[;\s]/.exec(out);
    if (match) resolve(match[1]);
  });
  emulator.on('exit', (code) => reject(new Error(`emulator exited with ${code}`)));
});

const register = [
  'register',
  '--product-code',
  'bench-product',
  '--public-key-file',
  keyFile,
  '--endpoint',
  url,
  '--instance-id',
  'bench-pod',
  '--log-level',
  'error',
];
const check = [
  'check',
  '--file',
  file,
  '--public-key-file',
  keyFile,
  '--product-code',
  'bench-product',
  '--instance-id',
  'bench-pod',
];
/** `target`: the most a case may cost, as a multiple of the bare start (issue 13). */
const cases = [
  { name: 'node -e 0 (baseline)', args: ['-e', '0'] },
  { name: 'check (dist/cli.cjs)', args: [cli, ...check], target: 1.5 },
  { name: 'check through dist/cli.mjs (ES modules)', args: [wholeCli, ...check] },
  { name: '--help', args: [cli, '--help'], target: 2.5 },
  { name: 'register (emulator)', args: [cli, ...register, '--out', join(dir, 'register-out.jwt')], target: 4 },
];
const PROBE_PERIODS_S = [5, 10, 30];

function run(args, runEnv = env) {
  const result = spawnSync(process.execPath, args, { env: runEnv, stdio: ['ignore', 'ignore', 'pipe'] });
  if (result.status !== 0) throw new Error(`node ${args.join(' ')} exited ${result.status}: ${result.stderr}`);
}

/** user+sys CPU of reaped children so far, in ms (fields 16 and 17 of /proc/self/stat, in 10 ms ticks). */
function childrenCpuMs() {
  const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' ');
  return (Number(fields[13]) + Number(fields[14])) * 10;
}

try {
  run([cli, ...register, '--out', file]); // the file `check` verifies
  for (const c of cases) run(c.args); // warm the page cache
  const samples = new Map(cases.map((c) => [c.name, { wall: [], cpu: 0 }]));
  for (let round = 0; round < runs; round++) {
    for (const c of round % 2 ? [...cases].reverse() : cases) {
      const cpuBefore = childrenCpuMs();
      const start = process.hrtime.bigint();
      run(c.args);
      const sample = samples.get(c.name);
      sample.wall.push(Number(process.hrtime.bigint() - start) / 1e6);
      sample.cpu += childrenCpuMs() - cpuBefore;
    }
  }
  const quantile = (values, q) =>
    [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor(q * values.length))];
  const baseline = quantile(samples.get(cases[0].name).wall, 0.5);
  console.log(
    `Cold start, ${runs} runs per case, interleaved; Node ${process.version}; NODE_EXTRA_CA_CERTS unset; load average ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}`,
  );
  console.log('| case | median ms | p90 ms | median / bare node | target | CPU ms per run (mean) |');
  console.log('| --- | ---: | ---: | ---: | --- | ---: |');
  const verdicts = [];
  for (const c of cases) {
    const { wall, cpu } = samples.get(c.name);
    const ratio = quantile(wall, 0.5) / baseline;
    const verdict = c.target === undefined ? '' : `<= ${c.target}x ${ratio <= c.target ? 'PASS' : 'FAIL'}`;
    if (c.target !== undefined) verdicts.push(`${c.name} ${verdict} (${ratio.toFixed(2)}x)`);
    if (c.target !== undefined && ratio > c.target) process.exitCode = 1;
    console.log(
      `| ${c.name} | ${quantile(wall, 0.5).toFixed(1)} | ${quantile(wall, 0.9).toFixed(1)} | ${ratio.toFixed(2)}x | ${verdict} | ${(cpu / runs).toFixed(0)} |`,
    );
  }
  const checkCpuMs = samples.get(cases[1].name).cpu / runs;
  console.log(
    `\nExec probe CPU per 1,000 pods (check: ${checkCpuMs.toFixed(0)} ms per run, the container runtime's exec not counted): ` +
      PROBE_PERIODS_S.map(
        (period) => `every ${period} s ${((1000 * checkCpuMs) / 1000 / period).toFixed(1)} cores`,
      ).join(', '),
  );
  if (extraCaCerts) {
    const withCerts = [];
    for (let i = 0; i < 10; i++) {
      const start = process.hrtime.bigint();
      run(['-e', '0'], { ...env, NODE_EXTRA_CA_CERTS: extraCaCerts });
      withCerts.push(Number(process.hrtime.bigint() - start) / 1e6);
    }
    console.log(
      `For comparison, node -e 0 with this machine's NODE_EXTRA_CA_CERTS: ${quantile(withCerts, 0.5).toFixed(1)} ms (median of 10)`,
    );
  }
  console.log(`\ntargets: ${verdicts.join('; ')}`);
} finally {
  emulator.kill('SIGTERM');
  rmSync(dir, { recursive: true, force: true });
}
