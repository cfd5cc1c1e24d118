/**
 * The hourly usage meter in process, against the emulator through the real SDK, with a clock the test moves
 * (the emulator shares it, so its 6-hour window agrees). Restarts with real processes and signals are in
 * meter-restart.test.ts.
 */
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { RecordedCall } from '../../src/emulator/index.js';
import { ConfigurationError, ValidationError } from '../../src/errors.js';
import {
  createUsageMeter,
  meterUsage,
  usageClientToken,
  type UsageMeter,
  type UsageMeterOptions,
} from '../../src/metering/index.js';
import {
  DUMMY_CREDENTIALS,
  emulatorCallOptions,
  recordingLogger,
  TEST_PRODUCT_CODE,
  TEST_REGION,
  useEmulator,
  type RecordingLogger,
} from '../support/index.js';

const HOUR = 3_600_000;
const HOUR_10 = Date.parse('2026-03-10T10:00:00Z');
let now: () => Date;
const emulator = useEmulator({ now: () => now() });
let spoolDir: string;
let logger: RecordingLogger;
const meters: UsageMeter[] = [];

beforeEach(async () => {
  let clock = HOUR_10 + 20 * 60_000; // 10:20
  now = () => new Date(clock);
  advance = (ms) => {
    clock += ms;
  };
  spoolDir = await mkdtemp(join(tmpdir(), 'usage-meter-'));
  logger = recordingLogger();
});
afterEach(async () => {
  await Promise.all(meters.splice(0).map((m) => m.close({ includeCurrentHour: false }).catch(() => undefined)));
  await rm(spoolDir, { recursive: true, force: true });
});
let advance: (ms: number) => void;

async function startMeter(extra: Partial<UsageMeterOptions> = {}): Promise<UsageMeter> {
  const meter = await createUsageMeter({
    productCode: TEST_PRODUCT_CODE,
    dimensions: ['requests', 'storage'],
    spoolDir,
    ...emulatorCallOptions(emulator()),
    deadlineMs: 5_000,
    sendJitterMs: 0,
    now: () => now(),
    logger,
    ...extra,
  });
  meters.push(meter);
  return meter;
}

/** MeterUsage calls that metered (not dry runs), as dimension -> quantity at hour, in order. */
const sends = (): RecordedCall[] => emulator().calls.filter((c) => c.operation === 'MeterUsage' && !c.input.DryRun);
const sent = (): string[] =>
  sends().map(
    (c) =>
      `${c.input.UsageDimension}=${c.input.UsageQuantity}@${new Date((c.input.Timestamp as number) * 1000).toISOString().slice(11, 16)}`,
  );

describe('start-up', () => {
  it('DryRuns every dimension; a role without aws-marketplace:MeterUsage fails createUsageMeter at once', async () => {
    await startMeter();
    expect(emulator().calls.map((c) => [c.input.UsageDimension, c.input.DryRun, c.errorType])).toEqual([
      ['requests', true, 'DryRunOperation'],
      ['storage', true, 'DryRunOperation'],
    ]);

    emulator().scenario.meteringDenied = true;
    await expect(startMeter()).rejects.toMatchObject({
      code: 'ACCESS_DENIED',
      message: expect.stringContaining('aws-marketplace:MeterUsage'),
    });
  });

  it('an unknown dimension fails at start too', async () => {
    emulator().scenario.dimensions = ['requests'];
    await expect(startMeter()).rejects.toMatchObject({ code: 'INVALID_USAGE_DIMENSION' });
  });

  it('options are checked: no dimensions, a repeated one', async () => {
    await expect(startMeter({ dimensions: [] })).rejects.toBeInstanceOf(ValidationError);
    await expect(startMeter({ dimensions: ['a', 'a'] })).rejects.toMatchObject({
      field: 'dimensions',
      rule: expect.stringContaining('repeat'),
    });
    expect(emulator().calls).toEqual([]);
  });

  it.each([Number.NaN, -1, Number.POSITIVE_INFINITY, '60000'])(
    'sendJitterMs %s is INVALID_OPTION (as every duration option), before any call',
    async (sendJitterMs) => {
      const refusal = await startMeter({ sendJitterMs: sendJitterMs as number }).catch((err: unknown) => err);
      expect(refusal).toBeInstanceOf(ConfigurationError);
      expect(refusal).not.toBeInstanceOf(ValidationError);
      expect(refusal).toMatchObject({
        code: 'INVALID_OPTION',
        exitCode: 78,
        message: expect.stringContaining('sendJitterMs must be a finite number of milliseconds, 0 or more'),
      });
      expect(emulator().calls).toEqual([]);
    },
  );
});

describe('the hour boundary', () => {
  it('one MeterUsage per dimension with the hour total, allocations by tag set, a deterministic ClientToken; idle dimensions report 0', async () => {
    const meter = await startMeter();
    meter.record('requests', 3, [{ Key: 'tenant', Value: 'acme' }]);
    meter.record('requests', 4, { tenant: 'acme' });
    meter.record('requests', 5);
    expect((await meter.flush()).sent).toEqual([]); // 10:20: the hour is not over

    advance(HOUR); // 11:20
    const report = await meter.flush();

    expect(sent()).toEqual(['requests=12@10:59', 'storage=0@10:59']);
    const [requests, storage] = sends();
    expect(requests?.input.UsageAllocations).toEqual([
      { AllocatedUsageQuantity: 7, Tags: [{ Key: 'tenant', Value: 'acme' }] },
      { AllocatedUsageQuantity: 5 },
    ]);
    expect(storage?.input.UsageAllocations).toBeUndefined();
    expect(requests?.input.ClientToken).toBe(
      usageClientToken(TEST_PRODUCT_CODE, 'requests', HOUR_10, meter.instanceId),
    );
    expect(report.sent.map((s) => [s.dimension, s.quantity, s.hour.toISOString()])).toEqual([
      ['requests', 12, '2026-03-10T10:00:00.000Z'],
      ['storage', 0, '2026-03-10T10:00:00.000Z'],
    ]);
    expect(report.sent[0]?.meteringRecordId).toMatch(/^[0-9a-f-]{36}$/);

    await meter.flush();
    expect(sends()).toHaveLength(2); // nothing is sent twice
  });

  it('the timer sends at the hour boundary, not a millisecond before (fake timers: no wall-clock wait)', async () => {
    advance(40 * 60_000 - 300); // 10:59:59.700: the boundary is 300 ms away
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      const meter = await startMeter(); // arms its timer for the boundary
      meter.record('requests', 2);
      expect(vi.getTimerCount()).toBe(1);
      advance(299);
      vi.advanceTimersByTime(299);
      expect(vi.getTimerCount()).toBe(1); // 10:59:59.999: still armed
      advance(1);
      vi.advanceTimersByTime(1); // 11:00:00.000: the timer fires and the sends start
      expect(vi.getTimerCount()).toBe(0);
    } finally {
      // The sends themselves (real HTTP to the emulator, the SDK's own timers) run on real timers.
      vi.useRealTimers();
    }
    await expect.poll(() => sent(), { timeout: 10_000, interval: 50 }).toEqual(['requests=2@10:59', 'storage=0@10:59']);
  });
});

describe('restarts and the spool', () => {
  it('a restart mid-hour (close, new meter on the same spool) neither loses nor double-sends usage', async () => {
    const first = await startMeter();
    first.record('requests', 5);
    const closing = await first.close();
    expect(closing).toEqual({ sent: [], lost: [], failed: [] }); // the current hour stays in the spool
    advance(10 * 60_000); // 10:30

    const second = await startMeter();
    expect(second.instanceId).toBe(first.instanceId); // from the spool: the same ClientTokens
    second.record('requests', 7);
    expect(sends()).toEqual([]);
    advance(HOUR);
    await second.flush();
    await second.close();
    const third = await startMeter();
    await third.flush();

    expect(sent()).toEqual(['requests=12@10:59', 'storage=0@10:59']);
    expect(sends().every((c) => c.statusCode === 200)).toBe(true);
  });

  it('the spool is one JSON file written atomically (mode 0600), no temporary files left', async () => {
    const meter = await startMeter();
    for (let i = 0; i < 50; i += 1) meter.record('requests', 1, { worker: `w${i % 3}` });
    await meter.persist();

    expect(await readdir(spoolDir)).toEqual([`usage-${TEST_PRODUCT_CODE}.json`]);
    const file = join(spoolDir, `usage-${TEST_PRODUCT_CODE}.json`);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    const spool = JSON.parse(await readFile(file, 'utf8')) as {
      hours: { dimensions: { requests: { buckets: Record<string, { quantity: number }> } } }[];
    };
    const buckets = Object.values(spool.hours[0]!.dimensions.requests.buckets);
    expect(buckets.map((b) => b.quantity).sort()).toEqual([16, 17, 17]);
  });

  /** 5 requests recorded at 10:20 and left in the spool by close(); a new meter starts `downtimeMs` later. */
  async function restartAfter(downtimeMs: number): Promise<UsageMeter> {
    const first = await startMeter();
    first.record('requests', 5);
    await first.close();
    advance(downtimeMs);
    return startMeter();
  }

  it('spooled usage up to 6 hours old is sent at start', async () => {
    const second = await restartAfter(5 * HOUR); // 15:20

    expect(second.startupReport.sent.map((s) => [s.dimension, s.quantity])).toEqual([
      ['requests', 5],
      ['storage', 0],
    ]);
    expect(sent()).toEqual(['requests=5@10:59', 'storage=0@10:59']);
  });

  it('spooled usage older than 6 hours is reported lost, loudly, and not sent', async () => {
    const second = await restartAfter(7 * HOUR); // 17:20

    expect(second.startupReport.lost.map((l) => [l.dimension, l.quantity, l.hour.toISOString()])).toEqual([
      ['requests', 5, '2026-03-10T10:00:00.000Z'],
      ['storage', 0, '2026-03-10T10:00:00.000Z'],
    ]);
    const lost = logger.entries.filter((e) => e.fields?.event === 'meter.lost');
    expect(lost.map((e) => e.level)).toEqual(['error', 'error']);
    expect(lost[0]?.message).toMatch(/^USAGE LOST: 5 requests for the hour 2026-03-10T10:00:00.000Z/);
    expect(sends()).toEqual([]);
  });

  it('a corrupt spool is moved aside and reported, and the meter starts empty', async () => {
    const file = join(spoolDir, `usage-${TEST_PRODUCT_CODE}.json`);
    await writeFile(file, '{"version":1,"hours":');
    await startMeter();

    expect(logger.events('error')).toContain('meter.spool_corrupt');
    expect((await readdir(spoolDir)).some((f) => f.startsWith(`usage-${TEST_PRODUCT_CODE}.json.corrupt-`))).toBe(true);
  });
});

describe('failures', () => {
  it('a failed send stays in the spool and is retried at the next flush as the identical request', async () => {
    const meter = await startMeter({ deadlineMs: 200 });
    meter.record('requests', 9);
    advance(HOUR);
    emulator().scenario.throttleFirst = Infinity;
    const failing = await meter.flush();
    emulator().scenario.throttleFirst = 0;

    expect(failing.failed.map((f) => [f.dimension, f.quantity, f.error.name])).toEqual([
      ['requests', 9, 'ServiceUnavailableError'],
    ]);
    expect(logger.events('error')).toContain('meter.send_failed');
    const attempted = sends()[0]!.input;
    const retried = await meter.flush();

    expect(retried.sent.map((s) => [s.dimension, s.quantity])).toEqual([
      ['requests', 9],
      ['storage', 0],
    ]);
    const delivered = sends().filter((c) => c.statusCode === 200);
    expect(delivered[0]?.input).toEqual(attempted);
  });

  it('an hour already metered with another quantity (DuplicateRequest) is reported lost, not retried for hours', async () => {
    const meter = await startMeter({ spoolDir: undefined });
    meter.record('requests', 4);
    // An earlier incarnation (same credentials = same pod) already metered this hour differently.
    await meterUsage(
      { ProductCode: TEST_PRODUCT_CODE, Timestamp: new Date(HOUR_10), UsageDimension: 'requests', UsageQuantity: 1 },
      { endpoint: emulator().url, region: TEST_REGION, credentials: DUMMY_CREDENTIALS, now: () => now(), logger: {} },
    );
    advance(HOUR);
    const report = await meter.flush();

    expect(report.lost).toMatchObject([
      { dimension: 'requests', quantity: 4, reason: expect.stringContaining('already metered') },
    ]);
    await meter.flush();
    expect(sends().filter((c) => c.errorType === 'DuplicateRequestException')).toHaveLength(1);
  });

  it('without a spool, close() sends the hour in progress; later usage of that hour goes to the next hour', async () => {
    const meter = await startMeter({ spoolDir: undefined });
    meter.record('requests', 5);
    const early = await meter.flush({ includeCurrentHour: true });
    expect(early.sent.map((s) => [s.dimension, s.quantity])).toEqual([
      ['requests', 5],
      ['storage', 0],
    ]);
    expect(sent()).toEqual(['requests=5@10:20', 'storage=0@10:20']);

    expect(meter.record('requests', 3).toISOString()).toBe('2026-03-10T11:00:00.000Z');
    advance(HOUR);
    const closing = await meter.close();

    expect(closing.sent.map((s) => [s.dimension, s.quantity, s.hour.toISOString().slice(11, 16)])).toEqual([
      ['requests', 3, '11:00'],
      ['storage', 0, '11:00'],
    ]);
    expect(sends().every((c) => c.statusCode === 200)).toBe(true);
  });

  it('without a spool, usage close() cannot send (its hour already sent, or left out) is reported lost, not dropped silently', async () => {
    const meter = await startMeter({ spoolDir: undefined });
    meter.record('requests', 5);
    await meter.flush({ includeCurrentHour: true });
    expect(meter.record('requests', 3).toISOString()).toBe('2026-03-10T11:00:00.000Z'); // 10:00 was sent
    const closing = await meter.close();

    expect(closing.lost.map((l) => [l.dimension, l.quantity, l.hour.toISOString().slice(11, 16)])).toEqual([
      ['requests', 3, '11:00'],
    ]);
    expect(logger.entries.filter((e) => e.fields?.event === 'meter.lost').map((e) => e.level)).toEqual(['error']);
    expect(sent()).toEqual(['requests=5@10:20', 'storage=0@10:20']);

    const second = await startMeter({ spoolDir: undefined });
    second.record('storage', 7);
    expect((await second.close({ includeCurrentHour: false })).lost.map((l) => [l.dimension, l.quantity])).toEqual([
      ['storage', 7],
    ]);
  });
});

describe('record()', () => {
  it('refuses an unknown dimension, a bad quantity and bad tags, naming the field; a closed meter refuses everything', async () => {
    const meter = await startMeter();
    const refusal = (f: () => unknown): unknown => {
      try {
        f();
      } catch (err) {
        return err;
      }
      return undefined;
    };

    expect(refusal(() => meter.record('reqs', 1))).toMatchObject({
      field: 'dimension',
      rule: expect.stringContaining('requests, storage'),
    });
    expect(refusal(() => meter.record('requests', -1))).toMatchObject({ field: 'quantity' });
    expect(refusal(() => meter.record('requests', 1, { 'bad|key': 'v' }))).toMatchObject({ field: 'tags[0].Key' });
    expect(refusal(() => meter.record('requests', 2_147_483_647))).toBeUndefined();
    expect(refusal(() => meter.record('requests', 1))).toMatchObject({
      field: 'quantity',
      rule: expect.stringContaining('2147483647'),
    });
    await meter.close();
    const closed = refusal(() => meter.record('requests', 1));
    expect(closed).toBeInstanceOf(ConfigurationError);
    expect(closed).toMatchObject({ code: 'METER_CLOSED' });
  });
});
