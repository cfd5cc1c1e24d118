/**
 * Restarting a metering process mid-hour, for real: a child process runs the usage meter (fixtures/meter-process.ts,
 * bundled here), is stopped with SIGTERM or killed with SIGKILL after usage was acknowledged, and a new process
 * on the same spool carries on. After the hour, AWS (the emulator) must have been sent each dimension's total
 * exactly once: nothing lost, nothing billed twice.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { RecordedCall } from '../../src/emulator/index.js';
import type { FlushReport } from '../../src/metering/index.js';
import { DUMMY_CREDENTIALS, TEST_PRODUCT_CODE, TEST_REGION, useEmulator } from '../support/index.js';

const HOUR = 3_600_000;
let offsetMs = 0;
const clock = (): number => Date.now() + offsetMs;
/** Runs as the emulator records each call, before it answers. */
let onCall: ((call: RecordedCall) => void) | undefined;
const emulator = useEmulator({ now: () => new Date(clock()), onCall: (call) => onCall?.(call) });
let bundleDir: string;
let spoolDir: string;
const children: ChildProcessWithoutNullStreams[] = [];

beforeAll(async () => {
  bundleDir = await mkdtemp(join(tmpdir(), 'meter-process-'));
  await build({
    entryPoints: [fileURLToPath(new URL('./fixtures/meter-process.ts', import.meta.url))],
    outfile: join(bundleDir, 'meter-process.mjs'),
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
    logLevel: 'error',
  });
});
afterAll(() => rm(bundleDir, { recursive: true, force: true }));
beforeEach(async () => {
  offsetMs = Date.parse('2026-03-10T10:20:00Z') - Date.now();
  spoolDir = await mkdtemp(join(tmpdir(), 'meter-spool-'));
});
afterEach(async () => {
  onCall = undefined;
  for (const child of children.splice(0))
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await rm(spoolDir, { recursive: true, force: true });
});

interface MeterProcess {
  child: ChildProcessWithoutNullStreams;
  /** Resolves with the next message carrying `key`. */
  next<T>(key: string): Promise<T>;
  send(command: object): void;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function startMeterProcess(): MeterProcess {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_ACCESS_KEY_ID: DUMMY_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: DUMMY_CREDENTIALS.secretAccessKey,
    AWS_REGION: TEST_REGION,
    EMULATOR_URL: emulator().url,
    SPOOL_DIR: spoolDir,
    CLOCK_MS: String(clock()),
    DIMENSIONS: 'requests,storage',
    PRODUCT_CODE: TEST_PRODUCT_CODE,
  };
  const child = spawn(process.execPath, ['--no-warnings', join(bundleDir, 'meter-process.mjs')], { env });
  children.push(child);
  const messages: Record<string, unknown>[] = [];
  const waiters: (() => void)[] = [];
  createInterface({ input: child.stdout }).on('line', (line) => {
    messages.push(JSON.parse(line) as Record<string, unknown>);
    for (const wake of waiters.splice(0)) wake();
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return {
    child,
    exited,
    send: (command) => child.stdin.write(`${JSON.stringify(command)}\n`),
    async next<T>(key: string): Promise<T> {
      const deadline = Date.now() + 20_000;
      for (;;) {
        const index = messages.findIndex((m) => key in m);
        if (index >= 0) return messages.splice(index, 1)[0]![key] as T;
        if (child.exitCode !== null || child.signalCode !== null || Date.now() > deadline) {
          throw new Error(
            `no "${key}" message from the meter process (exit ${child.exitCode ?? child.signalCode}); stderr: ${stderr}`,
          );
        }
        await new Promise<void>((resolve) => {
          waiters.push(resolve);
          setTimeout(resolve, 100);
        });
      }
    },
  };
}

/** Non-dry MeterUsage calls as "dimension=quantity" with their status. */
const metered = (): string[] =>
  emulator()
    .calls.filter((c) => c.operation === 'MeterUsage' && !c.input.DryRun)
    .map((c) => `${c.input.UsageDimension}=${c.input.UsageQuantity} ${c.statusCode}`);

async function secondLifeSendsTheTotal(firstInstance: string): Promise<void> {
  offsetMs += 10 * 60_000; // the restart happens at 10:30, mid-hour
  const second = startMeterProcess();
  const ready = await second.next<{ instanceId: string; startupReport: FlushReport }>('ready');
  expect(ready.instanceId).toBe(firstInstance);
  expect(ready.startupReport.sent).toEqual([]);
  second.send({ record: ['requests', 7] });
  expect(await second.next<string>('recorded')).toBe('2026-03-10T10:00:00.000Z');
  expect(metered()).toEqual([]);

  offsetMs += HOUR;
  second.send({ advance: HOUR });
  await second.next('advanced');
  second.send({ flush: {} });
  const report = await second.next<FlushReport>('report');

  expect(report.sent.map((s) => `${s.dimension}=${s.quantity}`)).toEqual(['requests=12', 'storage=0']);
  expect(metered()).toEqual(['requests=12 200', 'storage=0 200']);
  second.child.kill('SIGTERM');
  expect(await second.exited).toEqual({ code: 0, signal: null });
}

describe('a metering process restarted mid-hour', () => {
  it('after SIGTERM: the spooled hour is carried on, then sent once with the whole total', async () => {
    const first = startMeterProcess();
    const { instanceId } = await first.next<{ instanceId: string }>('ready');
    first.send({ record: ['requests', 5, [{ Key: 'tenant', Value: 'acme' }]] });
    await first.next('recorded');
    first.child.kill('SIGTERM');

    expect(await first.next<FlushReport>('closed')).toEqual({ sent: [], lost: [], failed: [] });
    expect(await first.exited).toEqual({ code: 0, signal: null });
    await secondLifeSendsTheTotal(instanceId);
    const requests = emulator().calls.find(
      (c) => c.operation === 'MeterUsage' && c.input.UsageDimension === 'requests' && !c.input.DryRun,
    );
    expect(requests?.input.UsageAllocations).toEqual([
      { AllocatedUsageQuantity: 5, Tags: [{ Key: 'tenant', Value: 'acme' }] },
      { AllocatedUsageQuantity: 7 },
    ]);
  });

  it('after SIGKILL: usage acknowledged before the kill survives in the spool', async () => {
    const first = startMeterProcess();
    const { instanceId } = await first.next<{ instanceId: string }>('ready');
    first.send({ record: ['requests', 5] });
    await first.next('recorded');
    first.child.kill('SIGKILL');

    expect(await first.exited).toEqual({ code: null, signal: 'SIGKILL' });
    await secondLifeSendsTheTotal(instanceId);
  });

  it('killed after AWS recorded the hour but before the spool said so: the restart resends the identical request, billed once', async () => {
    const first = startMeterProcess();
    const { instanceId } = await first.next<{ instanceId: string }>('ready');
    first.send({ record: ['requests', 5] });
    await first.next('recorded');
    offsetMs += HOUR; // 11:20: 10:00 is due
    first.send({ advance: HOUR });
    await first.next('advanced');
    // Dies as the emulator records the first send, before its answer can reach the spool.
    onCall = (call) => {
      if (call.operation === 'MeterUsage' && !call.input.DryRun) first.child.kill('SIGKILL');
    };
    first.send({ flush: {} });
    expect(await first.exited).toEqual({ code: null, signal: 'SIGKILL' });
    onCall = undefined;

    const second = startMeterProcess();
    const ready = await second.next<{ instanceId: string; startupReport: FlushReport }>('ready');
    expect(ready.instanceId).toBe(instanceId);
    expect(ready.startupReport.sent.map((s) => `${s.dimension}=${s.quantity}`)).toEqual(['requests=5', 'storage=0']);
    const requests = emulator().calls.filter(
      (c) => c.operation === 'MeterUsage' && c.input.UsageDimension === 'requests' && !c.input.DryRun,
    );
    expect(requests.map((c) => c.statusCode)).toEqual([200, 200]);
    expect(requests[1]!.input).toEqual(requests[0]!.input); // same ClientToken, timestamp, quantity: AWS de-duplicates
    second.child.kill('SIGTERM');
    expect(await second.exited).toEqual({ code: 0, signal: null });
  });
});
