/**
 * `POST /usage` (what the `serve` sidecar mounts): a real HTTP server on loopback in front of a real usage
 * meter, which sends to the emulator through the SDK.
 */
import { createServer, IncomingMessage, ServerResponse, type Server } from 'node:http';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { Socket, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createUsageMeter, type UsageMeter } from '../../src/metering/index.js';
import { handleUsageRequest, isLoopbackAddress, USAGE_PATH } from '../../src/metering/usage-endpoint.js';
import { emulatorCallOptions, TEST_PRODUCT_CODE, useEmulator } from '../support/index.js';

const emulator = useEmulator();
let meter: UsageMeter;
let server: Server;
let url: string;
let spoolDir: string;

beforeEach(async () => {
  spoolDir = await mkdtemp(join(tmpdir(), 'usage-endpoint-'));
  meter = await createUsageMeter({
    productCode: TEST_PRODUCT_CODE,
    dimensions: ['requests'],
    spoolDir,
    ...emulatorCallOptions(emulator()),
  });
  server = createServer((req, res) => {
    if (req.url === USAGE_PATH) void handleUsageRequest(meter, req, res);
    else res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}${USAGE_PATH}`;
});
afterEach(async () => {
  await meter.close({ includeCurrentHour: false });
  await new Promise((resolve) => server.close(resolve));
  await rm(spoolDir, { recursive: true, force: true });
});

const post = async (body: string): Promise<{ status: number; json: Record<string, unknown> }> => {
  const response = await fetch(url, { method: 'POST', body, headers: { 'content-type': 'application/json' } });
  return { status: response.status, json: (await response.json()) as Record<string, unknown> };
};

describe('POST /usage', () => {
  it('records the usage in the spool before answering 202 with the hour it counts for', async () => {
    const { status, json } = await post(
      JSON.stringify({ dimension: 'requests', quantity: 3, tags: { tenant: 'acme' } }),
    );

    expect(status).toBe(202);
    expect(json).toEqual({
      dimension: 'requests',
      quantity: 3,
      hour: expect.stringMatching(/T\d\d:00:00\.000Z$/),
      durable: true,
    });
    const spool = await readFile(meter.spoolFile!, 'utf8');
    expect(spool).toContain('"quantity":3');
    expect(spool).toContain('"tenant"');
  });

  it('refuses bad usage with 400 naming the field; bad JSON, other methods and big bodies too', async () => {
    expect(await post(JSON.stringify({ dimension: 'storage', quantity: 1 }))).toMatchObject({
      status: 400,
      json: { error: 'INVALID_INPUT', field: 'dimension' },
    });
    expect(await post(JSON.stringify({ dimension: 'requests', quantity: 1.5 }))).toMatchObject({
      status: 400,
      json: { field: 'quantity' },
    });
    expect(await post('{"dimension":')).toMatchObject({ status: 400, json: { field: 'body' } });
    expect((await fetch(url)).status).toBe(405);
    expect((await post(JSON.stringify({ dimension: 'requests', quantity: 1, pad: 'x'.repeat(70_000) }))).status).toBe(
      413,
    );
  });

  it('answers 503 once the meter is closed', async () => {
    await meter.close({ includeCurrentHour: false });
    expect(await post(JSON.stringify({ dimension: 'requests', quantity: 1 }))).toMatchObject({
      status: 503,
      json: { error: 'METER_CLOSED' },
    });
  });
});

describe('only loopback may meter', () => {
  it.each([
    ['127.0.0.1', true],
    ['127.10.0.3', true],
    ['::1', true],
    ['::ffff:127.0.0.1', true],
    ['10.0.3.7', false],
    ['::ffff:10.0.3.7', false],
    ['fe80::1', false],
    ['1127.0.0.1', false],
    [undefined, false],
  ])('%s -> %s', (address, loopback) => {
    expect(isLoopbackAddress(address)).toBe(loopback);
  });

  it('answers a peer off loopback 403 without recording anything (judged on the socket, not on headers)', async () => {
    // A request object whose socket claims a pod-network peer: no traffic leaves loopback in tests.
    const socket = new Socket();
    Object.defineProperty(socket, 'remoteAddress', { value: '10.0.3.7' });
    const req = new IncomingMessage(socket);
    req.method = 'POST';
    req.headers['x-forwarded-for'] = '127.0.0.1';
    const res = new ServerResponse(req);
    await handleUsageRequest(meter, req, res);
    expect(res.statusCode).toBe(403);
    await meter.close({ includeCurrentHour: true });
    expect(emulator().calls.filter((c) => c.operation === 'MeterUsage' && c.input.UsageQuantity !== 0)).toEqual([]);
    socket.destroy();
  });
});
