// What the usage meter's spool costs. Every record() schedules an atomic spool write (temp file, fsync,
// rename, directory fsync); writes are coalesced, one in flight at a time. Measured in one run, against
// the same meter without a spool (the baseline: memory only):
//   1. throughput: record() in a tight loop, then one persist() at the end;
//   2. durable acknowledgement, as POST /usage gives it: record() then await persist(), one after another;
//   3. the same with 32 concurrent callers (coalescing shares one write between many records).
// The meter talks to the in-process emulator (DryRun at start only; nothing is sent within the hour).
//
//   node bench/usage-meter.bench.mjs
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { importTs } from './import-ts.mjs';

const { createUsageMeter } = await importTs('src/metering/index.ts');
const { startMeteringEmulator } = await importTs('src/emulator/index.ts');

const emulator = await startMeteringEmulator();
const spoolDir = await mkdtemp(join(tmpdir(), 'usage-meter-bench-'));
const base = {
  productCode: 'prod-bench',
  dimensions: ['requests'],
  endpoint: emulator.url,
  region: 'us-east-1',
  credentials: { accessKeyId: 'AKIDBENCH', secretAccessKey: 'bench' },
  logger: {},
};

async function measure(meter, label) {
  const loops = 200_000;
  let started = performance.now();
  for (let i = 0; i < loops; i += 1) meter.record('requests', 1, i % 2 ? { tenant: `t${i % 50}` } : undefined);
  await meter.persist();
  const throughput = loops / ((performance.now() - started) / 1000);

  const acks = 300;
  started = performance.now();
  for (let i = 0; i < acks; i += 1) {
    meter.record('requests', 1);
    await meter.persist();
  }
  const ackMs = (performance.now() - started) / acks;

  const callers = 32;
  const rounds = 20;
  started = performance.now();
  await Promise.all(
    Array.from({ length: callers }, async () => {
      for (let i = 0; i < rounds; i += 1) {
        meter.record('requests', 1);
        await meter.persist();
      }
    }),
  );
  const concurrentPerSecond = (callers * rounds) / ((performance.now() - started) / 1000);
  await meter.close({ includeCurrentHour: false });
  return { label, throughput, ackMs, concurrentPerSecond };
}

try {
  await measure(await createUsageMeter(base), 'warm-up (discarded)');
  const memory = await measure(await createUsageMeter(base), 'memory only (baseline)');
  const spooled = await measure(await createUsageMeter({ ...base, spoolDir }), 'spool file');
  const rows = [memory, spooled];
  console.log(
    '| meter | record()/s, tight loop | record+persist, sequential (ms each) | record+persist/s, 32 concurrent |',
  );
  console.log('|---|---:|---:|---:|');
  for (const r of rows) {
    console.log(
      `| ${r.label} | ${Math.round(r.throughput).toLocaleString('en')} | ${r.ackMs.toFixed(3)} | ${Math.round(r.concurrentPerSecond).toLocaleString('en')} |`,
    );
  }
  console.log(
    `\nspool vs baseline: tight loop x${(spooled.throughput / memory.throughput).toFixed(2)}, ` +
      `durable ack ${(spooled.ackMs / memory.ackMs).toFixed(0)}x slower (one fsync'd write each), ` +
      `32 concurrent callers: ${(spooled.concurrentPerSecond / (1000 / spooled.ackMs)).toFixed(1)}x the sequential rate (writes shared)`,
  );
} finally {
  await emulator.close();
  await rm(spoolDir, { recursive: true, force: true });
}
