/**
 * Inputs the usage meter cannot trust to be small: the spool file (anyone who can write the volume can plant a
 * FIFO, a device link or a huge file there), `POST /usage` bodies, and tag sets that bill nothing. Each is
 * refused early, and real usage stays billable. Real files, a real HTTP server, the emulator through the SDK.
 */
import { execFileSync } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { mkdtemp, rm, symlink, truncate, writeFile } from 'node:fs/promises';
import { connect, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.js';
import { createUsageMeter, type UsageMeter } from '../../src/metering/index.js';
import { handleUsageRequest, USAGE_PATH } from '../../src/metering/usage-endpoint.js';
import { MAX_ALLOCATIONS } from '../../src/metering/limits.js';
import { MAX_SPOOL_BYTES, spoolPath } from '../../src/metering/usage-spool.js';
import { emulatorCallOptions, rejectionOf, TEST_PRODUCT_CODE, useEmulator } from '../support/index.js';

const HOUR_10 = Date.parse('2026-03-10T10:00:00Z');
let clock = HOUR_10;
const emulator = useEmulator({ now: () => new Date(clock) });
let spoolDir: string;
const meters: UsageMeter[] = [];

beforeEach(async () => {
  clock = HOUR_10 + 20 * 60_000;
  spoolDir = await mkdtemp(join(tmpdir(), 'bounded-inputs-'));
});
afterEach(async () => {
  await Promise.all(meters.splice(0).map((m) => m.close({ includeCurrentHour: false }).catch(() => undefined)));
  await rm(spoolDir, { recursive: true, force: true });
});

async function startMeter(): Promise<UsageMeter> {
  const meter = await createUsageMeter({
    productCode: TEST_PRODUCT_CODE,
    dimensions: ['requests'],
    spoolDir,
    ...emulatorCallOptions(emulator()),
    deadlineMs: 5_000,
    sendJitterMs: 0,
    now: () => new Date(clock),
  });
  meters.push(meter);
  return meter;
}

describe('the usage spool is read as a bounded input', () => {
  const file = () => spoolPath(spoolDir, TEST_PRODUCT_CODE);

  it.each([
    ['a FIFO (would hang start-up)', async (path: string) => execFileSync('mkfifo', [path]), /not a regular file/],
    ['a link to /dev/zero (would exhaust memory)', (path: string) => symlink('/dev/zero', path), /not a regular file/],
    [
      'a file larger than the limit',
      async (path: string) => {
        await writeFile(path, '');
        await truncate(path, MAX_SPOOL_BYTES + 1);
      },
      /larger than the \d+ expected/,
    ],
  ])('%s fails start-up with SPOOL_UNREADABLE', async (_name, plant, why) => {
    await plant(file());
    const err = await rejectionOf(startMeter(), InputError);
    expect(err).toMatchObject({ code: 'SPOOL_UNREADABLE', message: expect.stringMatching(why) });
  });
});

describe('zero-quantity usage', () => {
  it(`takes none of an hour's ${MAX_ALLOCATIONS} allocation slots: real usage with a new tag set is still billed`, async () => {
    const meter = await startMeter();
    for (let i = 0; i < MAX_ALLOCATIONS + 10; i++) meter.record('requests', 0, { tenant: `idle-${i}` });
    meter.record('requests', 7, { tenant: 'paying' });
    await meter.persist();

    clock += 3_600_000;
    const report = await meter.flush();
    expect(report.sent.map((s) => s.quantity)).toEqual([7]);
    const sent = emulator().calls.filter((c) => c.operation === 'MeterUsage' && !c.input.DryRun);
    expect(sent.map((c) => c.input.UsageAllocations)).toEqual([
      [{ AllocatedUsageQuantity: 7, Tags: [{ Key: 'tenant', Value: 'paying' }] }],
    ]);
  });
});

describe('POST /usage bodies', () => {
  let server: Server;
  let port: number;
  beforeEach(async () => {
    const meter = await startMeter();
    server = createServer((req, res) => void handleUsageRequest(meter, req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterEach(() => new Promise((resolve) => server.close(resolve)));

  /** Sends `head` (and `chunks`), never finishing the body; resolves with what the server answered. */
  function sendPartial(head: string, chunks: string[] = []): Promise<string> {
    return new Promise((resolve, reject) => {
      const socket = connect(port, '127.0.0.1', () => {
        socket.write(head);
        for (const chunk of chunks) socket.write(chunk);
      });
      let answer = '';
      socket.on('data', (data) => (answer += data.toString()));
      socket.on('close', () => resolve(answer));
      socket.on('error', reject);
    });
  }

  it('a declared 200 MB body is answered 413 before any of it is sent, and the connection closed', async () => {
    const answer = await sendPartial(
      `POST ${USAGE_PATH} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${200 * 1024 * 1024}\r\n\r\n{"dim`,
    );
    expect(answer).toMatch(/^HTTP\/1\.1 413 /);
    expect(answer).toMatch(/\r\nconnection: close\r\n/i);
    expect(answer).toContain('"error":"TOO_LARGE"');
  });

  it('a chunked body is answered 413 as soon as it passes 64 KiB, without waiting for its end', async () => {
    const chunk = 'x'.repeat(16 * 1024);
    const chunked = Array.from({ length: 5 }, () => `${chunk.length.toString(16)}\r\n${chunk}\r\n`);
    const answer = await sendPartial(
      `POST ${USAGE_PATH} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n`,
      chunked,
    );
    expect(answer).toMatch(/^HTTP\/1\.1 413 /);
    expect(answer).toContain('"error":"TOO_LARGE"');
  });
});
