#!/usr/bin/env node
// Cold start of the bundled CLI (dist/cli.cjs) as an init container and an exec probe run it: `check` on a
// valid file, `register` against the emulator, and `--help`, each beside a bare `node -e 0` measured in the
// same run and the same environment (NODE_EXTRA_CA_CERTS alone adds ~80 ms to every node start here).
// Cases are interleaved round by round so drift on a shared machine hits all of them alike.
//
//   npm run bench -- startup            # after npm run build (prebench does it)
//   node bench/startup.bench.mjs --runs 50
//
// Reports wall-clock median and p90 per case, the ratio of medians to bare node, and CPU (user+sys) per
// run read from this process's reaped-children counters (/proc/self/stat, 10 ms ticks, so a mean).
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const { values: options } = parseArgs({ options: { runs: { type: 'string', default: '30' } } });
const runs = Number(options.runs);
const root = fileURLToPath(new URL('..', import.meta.url));
const cli = join(root, 'dist', 'cli.cjs');
const unbundled = join(root, 'dist', 'cmd', 'main.js');
const dir = mkdtempSync(join(tmpdir(), 'startup-bench-'));
const keyFile = join(dir, 'emulator-key.pem');
const file = join(dir, 'entitlement.jwt');
const env = {
  ...process.env,
  AWS_EC2_METADATA_DISABLED: 'true',
  AWS_ACCESS_KEY_ID: 'AKIDBENCH',
  AWS_SECRET_ACCESS_KEY: 'bench-not-a-secret',
  AWS_REGION: 'us-east-1',
};

// The emulator runs in its own process: spawnSync below blocks this one.
const emulator = spawn(process.execPath, [cli, 'emulator', '--public-key-out', keyFile, '--log-level', 'error'], { env, stdio: ['ignore', 'pipe', 'inherit'] });
const url = await new Promise((resolve, reject) => {
  let out = '';
  emulator.stdout.on('data', (chunk) => {
    out += chunk;
    const match = /listening on (http:\/\/\S+?)[;\s]/.exec(out);
    if (match) resolve(match[1]);
  });
  emulator.on('exit', (code) => reject(new Error(`emulator exited with ${code}`)));
});

const register = ['register', '--product-code', 'bench-product', '--public-key-file', keyFile, '--endpoint', url, '--instance-id', 'bench-pod', '--log-level', 'error'];
const check = ['check', '--file', file, '--public-key-file', keyFile, '--product-code', 'bench-product', '--instance-id', 'bench-pod'];
const cases = [
  { name: 'node -e 0 (baseline)', args: ['-e', '0'] },
  { name: 'check (bundled)', args: [cli, ...check] },
  { name: 'check (unbundled tsc output)', args: [unbundled, ...check] },
  { name: '--help', args: [cli, '--help'] },
  { name: 'register (emulator)', args: [cli, ...register, '--out', join(dir, 'register-out.jwt')] },
];

function run(args) {
  const result = spawnSync(process.execPath, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
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
  const quantile = (values, q) => [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor(q * values.length))];
  const baseline = quantile(samples.get(cases[0].name).wall, 0.5);
  console.log(`Cold start, ${runs} runs per case, interleaved; Node ${process.version}; NODE_EXTRA_CA_CERTS ${process.env.NODE_EXTRA_CA_CERTS ? 'set' : 'unset'}`);
  console.log('| case | median ms | p90 ms | median / bare node | CPU ms per run (mean) |');
  console.log('| --- | ---: | ---: | ---: | ---: |');
  for (const c of cases) {
    const { wall, cpu } = samples.get(c.name);
    const median = quantile(wall, 0.5);
    console.log(`| ${c.name} | ${median.toFixed(1)} | ${quantile(wall, 0.9).toFixed(1)} | ${(median / baseline).toFixed(2)}x | ${(cpu / runs).toFixed(0)} |`);
  }
  const checkRatio = quantile(samples.get('check (bundled)').wall, 0.5) / baseline;
  console.log(`\ncheck target (median <= 2x bare node): ${checkRatio <= 2 ? 'met' : 'MISSED'} at ${checkRatio.toFixed(2)}x`);
} finally {
  emulator.kill('SIGTERM');
  rmSync(dir, { recursive: true, force: true });
}
