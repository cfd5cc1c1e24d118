// `POST /usage` on the `serve` sidecar: the built CLI as a child process, the real emulator over HTTP, real
// signals, a real spool directory. The emulator's call log is the proof of what was (and was not) billed.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { RecordedCall } from '../../src/emulator/index.js';
import { TEST_PRODUCT_CODE, useEmulator } from '../support/index.js';
import { emulatorEnv, runCli, startCli, useTempDir, waitFor, type CliProcess } from './helpers.js';

const HOUR_MS = 3_600_000;
const emulator = useEmulator();
const tempDir = useTempDir();
let counter = 0;
/** A fresh directory per case: the entitlement file and the spool live there. */
const freshCase = () => join(tempDir(), `case-${++counter}`);

interface Serve {
  cli: CliProcess;
  url: string;
}

/** Starts `serve` on a free port for instance pod-a; resolves once it is entitled (and its meter started). */
async function startServe(caseDir: string, args: string[] = [], env: NodeJS.ProcessEnv = {}): Promise<Serve> {
  const cli = startCli(
    [
      'serve',
      '--port',
      '0',
      '--product-code',
      TEST_PRODUCT_CODE,
      '--instance-id',
      'pod-a',
      '--out',
      join(caseDir, 'entitlement.jwt'),
      ...args,
    ],
    { env: emulatorEnv(emulator(), env) },
  );
  await waitFor(() => cli.stdout().includes('serving on') || cli.child.exitCode !== null, 'serve to be entitled');
  const match = /serving on (http:\/\/\S+?): /.exec(cli.stdout());
  if (!match) throw new Error(`serve did not start:\n${cli.stdout()}\n${cli.stderr()}`);
  return { cli, url: match[1]! };
}

const metered = (caseDir: string) => [
  '--meter-dimensions',
  'requests,gb_stored',
  '--spool-dir',
  join(caseDir, 'spool'),
];

async function stop(serve: Serve, signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
  serve.cli.child.kill(signal);
  return (await serve.cli.done).code;
}

async function post(url: string, body: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const response = await fetch(`${url}/usage`, {
    method: 'POST',
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: response.status, json: (await response.json()) as Record<string, unknown> };
}

/** The MeterUsage calls that billed something (DryRuns and refusals left out). */
const billed = (): RecordedCall[] =>
  emulator().calls.filter((c) => c.operation === 'MeterUsage' && c.statusCode === 200 && c.input.DryRun !== true);
const hourOf = (call: RecordedCall) => Math.floor(((call.input.Timestamp as number) * 1000) / HOUR_MS) * HOUR_MS;

/** Tests that sum one hour's usage start at least 30 s before an hour boundary, so the hour cannot change mid-test. */
async function awayFromHourBoundary(marginMs = 30_000): Promise<void> {
  const untilNextHour = HOUR_MS - (Date.now() % HOUR_MS);
  if (untilNextHour < marginMs) await new Promise((resolve) => setTimeout(resolve, untilNextHour + 1_000));
}

describe('serve --meter-dimensions: POST /usage', () => {
  it('DryRuns each dimension at start, counts POSTed usage, refuses bad usage with 400, and on SIGTERM sends one summed MeterUsage per dimension', {
    timeout: 90_000,
  }, async () => {
    await awayFromHourBoundary();
    emulator().scenario.dimensions = ['requests', 'gb_stored'];
    const caseDir = freshCase();
    const serve = await startServe(caseDir, metered(caseDir));
    expect(serve.cli.stdout()).toContain('POST /usage meters requests, gb_stored');
    const dryRuns = emulator().calls.filter((c) => c.operation === 'MeterUsage' && c.errorType === 'DryRunOperation');
    expect(dryRuns.map((c) => c.input.UsageDimension).sort()).toEqual(['gb_stored', 'requests']);

    const accepted = [
      await post(serve.url, { dimension: 'requests', quantity: 2 }),
      await post(serve.url, { dimension: 'requests', quantity: 3, tags: { tenant: 'acme' } }),
      await post(serve.url, { dimension: 'gb_stored', quantity: 7 }),
    ];
    for (const { status, json } of accepted) {
      expect(status).toBe(202);
      expect(json).toMatchObject({ durable: true, hour: accepted[0]!.json.hour });
    }
    expect(await post(serve.url, '{"dimension":')).toMatchObject({
      status: 400,
      json: { error: 'INVALID_INPUT', field: 'body' },
    });
    expect(await post(serve.url, { dimension: 'storage', quantity: 1 })).toMatchObject({
      status: 400,
      json: { field: 'dimension', message: expect.stringContaining('requests, gb_stored') },
    });
    expect(await post(serve.url, { dimension: 'requests', quantity: -1 })).toMatchObject({
      status: 400,
      json: { field: 'quantity' },
    });
    const get = await fetch(`${serve.url}/usage`);
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toBe('POST');
    expect(billed()).toEqual([]); // mid-hour: nothing is due yet

    expect(await stop(serve)).toBe(0);
    const calls = billed();
    expect(calls.map((c) => [c.input.UsageDimension, c.input.UsageQuantity]).sort()).toEqual([
      ['gb_stored', 7],
      ['requests', 5],
    ]);
    for (const call of calls) expect(hourOf(call)).toBe(Date.parse(accepted[0]!.json.hour as string));
    const requests = calls.find((c) => c.input.UsageDimension === 'requests')!;
    expect(requests.input.UsageAllocations).toEqual(
      expect.arrayContaining([
        { AllocatedUsageQuantity: 3, Tags: [{ Key: 'tenant', Value: 'acme' }] },
        { AllocatedUsageQuantity: 2 },
      ]),
    );
    expect((await serve.cli.done).logs().find((l) => l.event === 'serve.stopped')).toMatchObject({
      usageSent: 2,
      usageFailed: 0,
      usageLost: 0,
    });
  });

  it('a restart with the same spool dir neither loses nor double-sends (crash, then SIGTERM, then a third start)', {
    timeout: 90_000,
  }, async () => {
    await awayFromHourBoundary();
    const caseDir = freshCase();
    // Configured from the environment this time, as in a pod spec.
    const env = { MARKETPLACE_METER_DIMENSIONS: 'requests', MARKETPLACE_SPOOL_DIR: join(caseDir, 'spool') };

    const first = await startServe(caseDir, [], env);
    const before = await post(first.url, { dimension: 'requests', quantity: 4 });
    expect(before).toMatchObject({ status: 202, json: { durable: true } });
    expect(await stop(first, 'SIGKILL')).toBeNull(); // a crash: no flush, only the spool remembers
    expect(billed()).toEqual([]);

    const second = await startServe(caseDir, [], env);
    expect(await post(second.url, { dimension: 'requests', quantity: 6 })).toMatchObject({
      status: 202,
      json: { hour: before.json.hour },
    });
    expect(await stop(second)).toBe(0);
    expect(billed().map((c) => [c.input.UsageQuantity, hourOf(c)])).toEqual([
      [10, Date.parse(before.json.hour as string)],
    ]);

    const third = await startServe(caseDir, [], env);
    const later = await post(third.url, { dimension: 'requests', quantity: 1 });
    const nextHour = new Date(Date.parse(before.json.hour as string) + HOUR_MS).toISOString();
    expect(later).toMatchObject({ status: 202, json: { hour: nextHour } }); // this hour went out already
    expect(await stop(third)).toBe(0);
    expect(billed()).toHaveLength(1);
    const spool = JSON.parse(await readFile(join(caseDir, 'spool', `usage-${TEST_PRODUCT_CODE}.json`), 'utf8')) as {
      hours: {
        hour: string;
        dimensions: Record<string, { state: string; buckets: Record<string, { quantity: number }> }>;
      }[];
    };
    expect(spool.hours.find((h) => h.hour === nextHour)?.dimensions.requests).toMatchObject({
      state: 'open',
      buckets: { '': { quantity: 1 } },
    });
  });

  it('answers 503 METER_STARTING (retry-after) while not yet entitled', async () => {
    emulator().scenario.latencyMs = 1_500; // registration in flight long enough to call
    const caseDir = freshCase();
    const cli = startCli(
      [
        'serve',
        '--port',
        '0',
        '--product-code',
        TEST_PRODUCT_CODE,
        '--out',
        join(caseDir, 'e.jwt'),
        ...metered(caseDir),
      ],
      {
        env: emulatorEnv(emulator()),
      },
    );
    await waitFor(() => cli.stderr().includes('serve.listening'), 'serve to listen');
    const url = /"url":"(http:[^"]+)"/.exec(cli.stderr())![1]!;
    const early = await fetch(`${url}/usage`, { method: 'POST', body: '{"dimension":"requests","quantity":1}' });
    expect(early.status).toBe(503);
    expect(early.headers.get('retry-after')).toBe('1');
    expect(await early.json()).toMatchObject({ error: 'METER_STARTING' });
    await waitFor(() => cli.stdout().includes('serving on'), 'entitlement and meter start');
    expect((await post(url, { dimension: 'requests', quantity: 1 })).status).toBe(202);
    cli.child.kill('SIGTERM');
    expect((await cli.done).code).toBe(0);
  });
});

describe('serve without --meter-dimensions', () => {
  it('answers POST /usage with 404 saying how to turn metering on, and makes no MeterUsage call', async () => {
    const serve = await startServe(freshCase());
    expect(await post(serve.url, { dimension: 'requests', quantity: 1 })).toMatchObject({
      status: 404,
      json: { error: 'METERING_DISABLED', message: expect.stringContaining('--meter-dimensions') },
    });
    const notFound = (await (await fetch(`${serve.url}/nope`)).json()) as { paths: string[] };
    expect(notFound.paths).not.toContain('/usage');
    expect(await stop(serve)).toBe(0);
    expect(emulator().calls.map((c) => c.operation)).toEqual(['RegisterUsage']);
  });
});

describe('serve --meter-dimensions misconfigured', () => {
  it.each([
    ['a role without aws-marketplace:MeterUsage', { meteringDenied: true }, 'requests', 'ACCESS_DENIED'],
    ['a dimension the product does not have', { dimensions: ['requests'] }, 'requets', 'INVALID_USAGE_DIMENSION'],
  ])('exits 78 at start for %s, naming the code', async (_, scenario, dimensions, code) => {
    Object.assign(emulator().scenario, scenario);
    const caseDir = freshCase();
    const result = await runCli(
      [
        'serve',
        '--port',
        '0',
        '--product-code',
        TEST_PRODUCT_CODE,
        '--out',
        join(caseDir, 'e.jwt'),
        '--meter-dimensions',
        dimensions,
        '--spool-dir',
        join(caseDir, 'spool'),
      ],
      {
        env: emulatorEnv(emulator()),
      },
    );
    expect(result.code).toBe(78);
    expect(result.stdout).toBe('');
    expect(result.logs().find((l) => l.event === 'cli.failed')).toMatchObject({ error: { code }, exitCode: 78 });
    expect(billed()).toEqual([]);
  });

  it('stops at once on SIGTERM while the start-up DryRun is still being retried (exit 143)', async () => {
    emulator().scenario.rateLimit = { perSecond: 0.001, burst: 1 }; // RegisterUsage passes, then everything is throttled
    const caseDir = freshCase();
    const cli = startCli(
      [
        'serve',
        '--port',
        '0',
        '--product-code',
        TEST_PRODUCT_CODE,
        '--out',
        join(caseDir, 'e.jwt'),
        ...metered(caseDir),
      ],
      {
        env: emulatorEnv(emulator()),
      },
    );
    await waitFor(
      () => emulator().calls.some((c) => c.operation === 'MeterUsage' && c.errorType === 'ThrottlingException'),
      'a throttled DryRun',
    );
    cli.child.kill('SIGTERM');
    const result = await cli.done;
    expect(result.code).toBe(143);
    expect(result.logs().find((l) => l.event === 'cli.failed')).toMatchObject({ command: 'serve', exitCode: 143 });
  });

  it.each([['requests,,gb_stored'], ['requests,requests'], [' , ']])(
    '--meter-dimensions %j is a usage error (64) before any AWS call',
    async (dimensions) => {
      const caseDir = freshCase();
      const result = await runCli(
        [
          'serve',
          '--port',
          '0',
          '--product-code',
          TEST_PRODUCT_CODE,
          '--out',
          join(caseDir, 'e.jwt'),
          '--meter-dimensions',
          dimensions,
        ],
        {
          env: emulatorEnv(emulator()),
        },
      );
      expect(result.code).toBe(64);
      expect(result.stderr).toContain('--meter-dimensions');
      expect(emulator().calls).toEqual([]);
    },
  );
});
