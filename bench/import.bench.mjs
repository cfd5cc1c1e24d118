#!/usr/bin/env node
// What `import 'marketplace-entitlement'` costs a seller's app at boot, against what importing the Metering SDK
// client alone costs (`@aws-sdk/client-marketplace-metering`, which the root needs to call RegisterUsage), measured
// in the same run. Each sample is a fresh `node` that imports one specifier by name from this package's directory
// (self-reference through `exports`, as a consumer resolves it) and prints how long the `import()` took, wall clock
// (performance.now around it: Node's own start-up is the same in every case and left out) and CPU (process.cpuUsage
// around it, all threads: steadier than the wall clock on a loaded machine). NODE_EXTRA_CA_CERTS is removed from the
// environment, as in the start-up bench. Cases are interleaved round by round, in alternating order, so drift on a
// shared machine hits all of them alike.
//
//   npm run bench -- import                # after npm run build (prebench does it)
//   node bench/import.bench.mjs --runs 40
//
// Reports the median and p90 of each case's wall clock, the ratio of medians to the SDK client, the same ratio of CPU
// medians, and PASS/FAIL of the CPU ratio against the target (exit 1 on a FAIL): on this 2-core machine, shared with
// other work, the wall clock of a 60-200 ms import moves by tens of percent between runs (a process waits for a core),
// its CPU by a few. The other entry points are printed for scale; they have no target.
import { spawnSync } from 'node:child_process';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const { values: options } = parseArgs({ options: { runs: { type: 'string', default: '30' } } });
const runs = Number(options.runs);
const root = fileURLToPath(new URL('..', import.meta.url));
const { NODE_EXTRA_CA_CERTS: _extraCaCerts, ...env } = process.env;

/** `target`: the most a case may cost, as a multiple of importing the Metering SDK client (issue 22). */
const cases = [
  { name: '@aws-sdk/client-marketplace-metering (baseline)', specifier: '@aws-sdk/client-marketplace-metering' },
  { name: 'marketplace-entitlement (the root)', specifier: 'marketplace-entitlement', target: 1.3 },
  { name: 'marketplace-entitlement/errors', specifier: 'marketplace-entitlement/errors' },
  { name: 'marketplace-entitlement/gates', specifier: 'marketplace-entitlement/gates' },
  { name: 'marketplace-entitlement/metering', specifier: 'marketplace-entitlement/metering' },
  { name: 'marketplace-entitlement/license', specifier: 'marketplace-entitlement/license' },
  { name: 'marketplace-entitlement/emulator', specifier: 'marketplace-entitlement/emulator' },
];

/** One import in a fresh node: { wall, cpu } in ms. */
function importMs(specifier) {
  const script = `const cpu = process.cpuUsage(); const start = performance.now(); await import(${JSON.stringify(specifier)});
    const wall = performance.now() - start; const { user, system } = process.cpuUsage(cpu);
    console.log(JSON.stringify({ wall, cpu: (user + system) / 1000 }));`;
  const result = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    cwd: root,
    env,
    encoding: 'utf8',
  });
  if (result.status !== 0) throw new Error(`importing ${specifier} exited ${result.status}: ${result.stderr}`);
  return JSON.parse(result.stdout);
}

const quantile = (values, q) =>
  [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor(q * values.length))];
for (const c of cases) importMs(c.specifier); // warm the page cache
const samples = new Map(cases.map((c) => [c.name, { wall: [], cpu: [] }]));
const loadBefore = loadavg()[0];
for (let round = 0; round < runs; round++) {
  for (const c of round % 2 ? [...cases].reverse() : cases) {
    const { wall, cpu } = importMs(c.specifier);
    samples.get(c.name).wall.push(wall);
    samples.get(c.name).cpu.push(cpu);
  }
}

const baseline = samples.get(cases[0].name);
const [baseWall, baseCpu] = [quantile(baseline.wall, 0.5), quantile(baseline.cpu, 0.5)];
console.log(
  `import() of one entry point in a fresh node, ${runs} runs per case, interleaved; Node ${process.version}; ` +
    `load average ${loadBefore.toFixed(1)} before, ${loadavg()[0].toFixed(1)} after`,
);
console.log('| case | median ms | p90 ms | median / SDK client | CPU ms (median) | CPU / SDK client | target (CPU) |');
console.log('| --- | ---: | ---: | ---: | ---: | ---: | --- |');
let failed = false;
for (const c of cases) {
  const { wall, cpu } = samples.get(c.name);
  const median = quantile(wall, 0.5);
  const cpuMedian = quantile(cpu, 0.5);
  const cpuRatio = cpuMedian / baseCpu;
  const verdict = c.target === undefined ? '' : `<= ${c.target}x: ${cpuRatio <= c.target ? 'PASS' : 'FAIL'}`;
  if (c.target !== undefined && cpuRatio > c.target) failed = true;
  console.log(
    `| ${c.name} | ${median.toFixed(1)} | ${quantile(wall, 0.9).toFixed(1)} | ${(median / baseWall).toFixed(2)}x | ${cpuMedian.toFixed(1)} | ${cpuRatio.toFixed(2)}x | ${verdict} |`,
  );
}
process.exit(failed ? 1 : 0);
