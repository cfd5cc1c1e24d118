/**
 * `/metrics` on the entitlement sidecar with the usage meter running: what was billed, lost and kept, and the
 * last send error, as exposition text a strict reader of the format accepts (promtool's checks, see
 * test/support/exposition.ts). In process: `serveEntitlement` on a real port, the meter sending to the emulator
 * through the SDK, a clock both share.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { serveEntitlement, type EntitlementService } from '../../src/gates/index.js';
import { createUsageMeter } from '../../src/metering/index.js';
import { formatMetrics } from '../../src/gates/prometheus.js';
import { parseExposition, sampleValue, type ExpositionSample } from '../support/exposition.js';
import { emulatorCallOptions, emulatorOptions, TEST_PRODUCT_CODE, useEmulator } from '../support/index.js';

const HOUR = 3_600_000;
let clock = 0;
const now = () => new Date(clock);
const emulator = useEmulator({ now });
let dir: string;
let service: EntitlementService;

async function scrape(): Promise<ExpositionSample[]> {
  const response = await fetch(`${service.url}/metrics`);
  expect(response.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
  return parseExposition(await response.text());
}

describe('/metrics with the usage meter', () => {
  beforeEach(async () => {
    clock = Date.now(); // the registration is verified against the real clock; the meter's hours then move on from here
    dir = await mkdtemp(join(tmpdir(), 'usage-metrics-'));
    service = await serveEntitlement({
      ...emulatorOptions(emulator(), { instanceId: 'pod-a' }),
      entitlementFile: join(dir, 'entitlement.jwt'),
      port: 0,
      usageMeter: () =>
        createUsageMeter({
          productCode: TEST_PRODUCT_CODE,
          dimensions: ['requests', 'gb_stored'],
          spoolDir: join(dir, 'spool'),
          ...emulatorCallOptions(emulator()),
          deadlineMs: 2_000,
          sendJitterMs: 0,
          now,
        }),
    });
  });
  afterEach(async () => {
    await service.usageMeter?.close({ includeCurrentHour: false, deadlineMs: 1_000 }).catch(() => undefined);
    await service.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('reports sent, lost and pending usage and the last send error, in valid exposition text', async () => {
    const meter = service.usageMeter!;
    let samples = await scrape();
    expect(sampleValue(samples, 'marketplace_entitlement_valid')).toBe(1);
    expect(sampleValue(samples, 'marketplace_entitlement_usage_pending_hours')).toBe(1);
    expect(sampleValue(samples, 'marketplace_entitlement_usage_send_failures_total')).toBe(0);
    expect(samples.filter((s) => s.name === 'marketplace_entitlement_usage_lost_total')).toEqual([]);

    // 10:xx usage, then 7 hours without a send: too old for MeterUsage, lost.
    meter.record('requests', 5);
    clock += 7 * HOUR;
    await meter.flush();
    samples = await scrape();
    expect(sampleValue(samples, 'marketplace_entitlement_usage_lost_total', { dimension: 'requests' })).toBe(5);
    expect(sampleValue(samples, 'marketplace_entitlement_usage_lost_records_total', { dimension: 'requests' })).toBe(1);

    // The next hour cannot be sent (MeterUsage denied): kept, counted, and named.
    meter.record('requests', 3);
    emulator().scenario.meteringDenied = true;
    clock += HOUR;
    await meter.flush();
    samples = await scrape();
    expect(sampleValue(samples, 'marketplace_entitlement_usage_send_failures_total')).toBeGreaterThanOrEqual(1);
    expect(sampleValue(samples, 'marketplace_entitlement_usage_pending_hours')).toBe(2); // the failed hour and the current one
    const lastError = samples.find((s) => s.name === 'marketplace_entitlement_usage_last_send_error_timestamp_seconds');
    expect(lastError).toEqual({ name: expect.any(String), labels: { code: 'ACCESS_DENIED' }, value: clock / 1000 });

    // Allowed again: the kept hour goes out, and is counted as sent.
    emulator().scenario.meteringDenied = false;
    await meter.flush();
    samples = await scrape();
    expect(sampleValue(samples, 'marketplace_entitlement_usage_sent_total', { dimension: 'requests' })).toBe(1);
    expect(sampleValue(samples, 'marketplace_entitlement_usage_sent_total', { dimension: 'gb_stored' })).toBe(1);
    expect(sampleValue(samples, 'marketplace_entitlement_usage_pending_hours')).toBe(1);
  });
});

describe('the exposition reader', () => {
  it('accepts escaped HELP text and label values, and reads them back', () => {
    const text = formatMetrics([
      { name: 'x_total', help: 'a \\ b\nc', type: 'counter', samples: [{ labels: { code: 'q"u\\o\nte' }, value: 2 }] },
    ]);
    expect(parseExposition(text)).toEqual([{ name: 'x_total', labels: { code: 'q"u\\o\nte' }, value: 2 }]);
  });

  it.each([
    ['a raw newline in a label value', '# HELP a_total h\n# TYPE a_total counter\na_total{code="x\ny"} 1\n'],
    ['an unknown escape', '# HELP a h\n# TYPE a gauge\na{code="\\t"} 1\n'],
    ['a counter not named _total', '# HELP a h\n# TYPE a counter\na 1\n'],
    ['a sample before its TYPE', '# HELP a h\na 1\n# TYPE a gauge\n'],
    ['a family split in two', '# HELP a h\n# TYPE a gauge\na 1\n# HELP b h\n# TYPE b gauge\nb 1\na{x="1"} 2\n'],
    ['a repeated series', '# HELP a h\n# TYPE a gauge\na 1\na 2\n'],
    ['no HELP', '# TYPE a gauge\na 1\n'],
    ['a bad value', '# HELP a h\n# TYPE a gauge\na one\n'],
    ['no final newline', '# HELP a h\n# TYPE a gauge\na 1'],
  ])('refuses %s', (_name, text) => {
    expect(() => parseExposition(text)).toThrow();
  });
});
