/**
 * The in-process gate end to end: entitlement files written by the real library against the emulator (real
 * AWS SDK over HTTP), the gate's handler on a real node:http server, files tampered with, replaced and deleted
 * on disk. The verification counter shows what the cache saved.
 */
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFileAtomic } from '../../src/common/atomic-write.js';
import { ConfigurationError, ensureEntitled } from '../../src/index.js';
import { createEntitlementGate, type EntitlementGate, type EntitlementGateOptions } from '../../src/gates/index.js';
import { emulatorOptions, TEST_PRODUCT_CODE, useEmulator } from '../support/index.js';

const emulator = useEmulator();
const POD_A = 'pod-a-5f0c9e2e-0000-4000-8000-00000000000a';
const POD_B = 'pod-b-5f0c9e2e-0000-4000-8000-00000000000b';

let dir: string;
let file: string;
/** A valid file for pod A and one for pod B, as the init containers of two pods would write them. */
let podAText: string;
let podBText: string;

/** Registers against the emulator and returns the entitlement file text the library wrote. */
async function registerFile(instanceId: string | undefined, name: string): Promise<string> {
  const path = join(dir, 'written', name);
  await ensureEntitled(
    emulatorOptions(emulator(), { entitlementFile: path, env: {}, ...(instanceId !== undefined && { instanceId }) }),
  );
  return readFile(path, 'utf8');
}

/** One byte of the file's signature changed (a canonical base64url character for another), same length. */
function tamper(text: string): string {
  const at = text.lastIndexOf('.') + 1;
  return `${text.slice(0, at)}${text[at] === 'A' ? 'B' : 'A'}${text.slice(at + 1)}`;
}

function gateFor(overrides: Partial<EntitlementGateOptions> = {}): EntitlementGate {
  return createEntitlementGate({
    file,
    publicKey: emulator().publicKeyPem,
    productCode: TEST_PRODUCT_CODE,
    instanceId: POD_A,
    ...overrides,
  });
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gate-test-'));
  podAText = await registerFile(POD_A, 'pod-a.jwt');
  podBText = await registerFile(POD_B, 'pod-b.jwt');
});
afterAll(async () => rm(dir, { recursive: true, force: true }));

let fileCount = 0;
/** Each test gets its own file path, so no file or verdict leaks from one test into the next. */
async function freshFile(text?: string): Promise<void> {
  fileCount += 1;
  file = join(dir, `entitlement-${fileCount}.jwt`);
  if (text !== undefined) await writeFileAtomic(file, text);
}

describe('the handler on a real HTTP server', () => {
  let server: Server;
  let url: string;
  let gate: EntitlementGate;

  beforeAll(async () => {
    server = createServer((req, res) => gate.handler(req, res));
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/healthz`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((done) => server.close(done));
  });

  async function probe(method = 'GET') {
    const response = await fetch(url, { method });
    return { status: response.status, headers: response.headers, text: await response.text() };
  }

  it('answers 200 with the verified status as JSON, never cached by intermediaries', async () => {
    await freshFile(podAText);
    gate = gateFor();
    const response = await probe();

    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(response.headers.get('cache-control')).toBe('no-store');
    const body = JSON.parse(response.text) as Record<string, unknown>;
    expect(body).toEqual({
      entitled: true,
      productCode: TEST_PRODUCT_CODE,
      registeredAt: expect.any(String),
      instance: POD_A,
    });
    expect(Date.now() - Date.parse(body.registeredAt as string)).toBeLessThan(10 * 60_000);
  });

  it('answers HEAD with the status code and headers but no body, and other methods with 405', async () => {
    await freshFile(podAText);
    gate = gateFor();
    const head = await probe('HEAD');
    expect(head.status).toBe(200);
    expect(head.text).toBe('');
    expect(Number(head.headers.get('content-length'))).toBeGreaterThan(0);

    const post = await probe('POST');
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
  });

  it("turns 503 when the file is tampered with, replaced by another pod's file or deleted, and 200 when a valid file returns", async () => {
    await freshFile(podAText);
    gate = gateFor();
    const expect503 = async (code: string) => {
      const response = await probe();
      expect(response.status).toBe(503);
      expect(response.headers.get('cache-control')).toBe('no-store');
      const body = JSON.parse(response.text) as { entitled: boolean; code: string; reason: string };
      expect(body).toMatchObject({ entitled: false, code });
      expect(body.reason.length).toBeGreaterThan(20);
      return body;
    };
    expect((await probe()).status).toBe(200);

    await writeFileAtomic(file, tamper(podAText));
    await expect503('FILE_SIGNATURE_INVALID');

    await writeFileAtomic(file, podAText);
    expect((await probe()).status).toBe(200);

    await writeFileAtomic(file, podBText);
    const otherPod = await expect503('INSTANCE_MISMATCH');
    expect(otherPod.reason).toContain(POD_B);

    await rm(file);
    const missing = await expect503('ENTITLEMENT_FILE_MISSING');
    expect(missing.reason).toContain(file);
    expect(await probe('HEAD')).toMatchObject({ status: 503, text: '' });

    await writeFileAtomic(file, podAText);
    expect((await probe()).status).toBe(200);
  });
});

describe('status()', () => {
  it('verifies once for any number of calls on an unchanged file', async () => {
    await freshFile(podAText);
    const gate = gateFor();
    expect(gate.stats()).toEqual({ verifications: 0, lastVerificationAt: undefined });

    for (let i = 0; i < 500; i += 1) expect((await gate.status()).entitled).toBe(true);
    expect(gate.stats().verifications).toBe(1);
    expect(gate.stats().lastVerificationAt).toBeInstanceOf(Date);
  });

  it('re-verifies once when the file changes, and concurrent calls share that verification', async () => {
    await freshFile(podAText);
    const gate = gateFor();
    await gate.status();
    const { mtime } = await stat(file);
    await utimes(file, mtime, new Date(mtime.getTime() + 5_000)); // same bytes, new mtime: a new version

    const results = await Promise.all(Array.from({ length: 50 }, () => gate.status()));
    expect(new Set(results.map((r) => JSON.stringify(r)))).toEqual(new Set([JSON.stringify(results[0])]));
    expect(results[0]?.entitled).toBe(true);
    expect(gate.stats().verifications).toBe(2);
    await gate.status();
    expect(gate.stats().verifications).toBe(2);
  });

  it('notices a same-size rewrite in place (same inode)', async () => {
    await freshFile(podAText);
    const gate = gateFor();
    expect((await gate.status()).entitled).toBe(true);
    const before = await stat(file);
    // Past the filesystem's timestamp granularity, so the rewrite gets a new mtime.
    await new Promise((done) => setTimeout(done, 30));
    await writeFile(file, tamper(podAText));
    const after = await stat(file);
    expect([after.ino, after.size]).toEqual([before.ino, before.size]);

    expect(await gate.status()).toMatchObject({ entitled: false, code: 'FILE_SIGNATURE_INVALID' });
    expect(gate.stats().verifications).toBe(2);
  });

  it('keeps a failed check cached too: a bad file costs one verification, not one per probe', async () => {
    await freshFile(podBText);
    const gate = gateFor();
    for (let i = 0; i < 20; i += 1) expect((await gate.status()).code).toBe('INSTANCE_MISMATCH');
    expect(gate.stats().verifications).toBe(1);
  });

  it('expires an entitled verdict after maxAgeSec although the file is unchanged', async () => {
    await freshFile(await registerFile(POD_A, 'fresh.jwt'));
    const gate = gateFor({ maxAgeSec: 2 });
    const version = await stat(file);
    expect((await gate.status()).entitled).toBe(true);

    let current = await gate.status();
    const deadline = Date.now() + 10_000;
    while (current.entitled && Date.now() < deadline) {
      await new Promise((done) => setTimeout(done, 50));
      current = await gate.status();
    }
    expect(current).toMatchObject({ entitled: false, code: 'FILE_TOO_OLD' });
    expect((await stat(file)).mtimeMs).toBe(version.mtimeMs);
    // Dozens of probes, two verifications: the first, and the one at expiry (whose refusal is then final).
    await gate.status();
    expect(gate.stats().verifications).toBe(2);
  });

  it('reports a missing file, then notices when it appears', async () => {
    await freshFile();
    const gate = gateFor();
    expect(await gate.status()).toMatchObject({ entitled: false, code: 'ENTITLEMENT_FILE_MISSING' });
    await writeFileAtomic(file, podAText);
    expect(await gate.status()).toMatchObject({ entitled: true, instance: POD_A });
  });

  it('retries an unreadable file on every call instead of keeping the failure (it may be transient)', async () => {
    await freshFile();
    await mkdir(file); // reading a directory fails (EISDIR), like EIO or EMFILE would
    const gate = gateFor();
    expect(await gate.status()).toMatchObject({ entitled: false, code: 'ENTITLEMENT_FILE_UNREADABLE' });
    expect(await gate.status()).toMatchObject({ entitled: false, code: 'ENTITLEMENT_FILE_UNREADABLE' });
    expect(gate.stats().verifications).toBe(2);

    await rm(file, { recursive: true });
    await writeFileAtomic(file, podAText);
    expect((await gate.status()).entitled).toBe(true);
  });

  it('is not hung by a FIFO planted at the path, and recovers when a valid file replaces it', async () => {
    await freshFile();
    execFileSync('mkfifo', [file]); // opening it for reading would block until a writer came
    const gate = gateFor();
    expect(await gate.status()).toMatchObject({ entitled: false, code: 'ENTITLEMENT_FILE_UNREADABLE' });
    await rm(file);
    await writeFileAtomic(file, podAText);
    expect((await gate.status()).entitled).toBe(true);
  }, 5_000);

  it.each([
    ['another product code', { productCode: 'prod-someone-else' }, 'PRODUCT_CODE_MISMATCH'],
    ['another key version', { publicKeyVersion: 2 }, 'PUBLIC_KEY_VERSION_MISMATCH'],
    [
      'another product key',
      { publicKey: generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey },
      'SIGNATURE_INVALID',
    ],
  ] as const)('refuses a valid file when the gate expects %s', async (_label, overrides, code) => {
    await freshFile(podAText);
    expect(await gateFor(overrides).status()).toMatchObject({ entitled: false, code });
  });

  it('accepts a file without an instance when the gate expects none, and refuses it when it expects one', async () => {
    await freshFile(await registerFile(undefined, 'no-instance.jwt'));
    expect(await gateFor({ instanceId: undefined }).status()).toEqual({
      entitled: true,
      productCode: TEST_PRODUCT_CODE,
      registeredAt: expect.any(String),
    });
    expect(await gateFor().status()).toMatchObject({ entitled: false, code: 'INSTANCE_MISSING' });
  });

  it('returns verdicts callers cannot alter for the next caller', async () => {
    await freshFile(podAText);
    const gate = gateFor();
    const first = await gate.status();
    expect(() => Object.assign(first, { entitled: false })).toThrow(TypeError);
    expect((await gate.status()).entitled).toBe(true);
  });
});

describe('createEntitlementGate()', () => {
  it.each([
    ['no file', { file: '' }, 'INVALID_OPTION'],
    ['no public key', { publicKey: undefined }, 'MISSING_PUBLIC_KEY'],
    ['a zero maxAgeSec', { maxAgeSec: 0 }, 'INVALID_OPTION'],
    ['a NaN maxAgeSec', { maxAgeSec: Number.NaN }, 'INVALID_OPTION'],
    ['a NaN clockToleranceSec', { clockToleranceSec: Number.NaN }, 'INVALID_OPTION'],
    ['a negative clockToleranceSec', { clockToleranceSec: -1 }, 'INVALID_OPTION'],
    ['an infinite maxAgeSec', { maxAgeSec: Number.POSITIVE_INFINITY }, 'INVALID_OPTION'],
    ['an infinite clockToleranceSec', { clockToleranceSec: Number.POSITIVE_INFINITY }, 'INVALID_OPTION'],
    ['an EC key', { publicKey: generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey }, 'INVALID_PUBLIC_KEY'],
  ] as const)('fails at creation, not at the first probe, on %s', async (_label, overrides, code) => {
    await freshFile();
    let thrown: unknown;
    try {
      gateFor(overrides);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(ConfigurationError);
    expect(thrown).toMatchObject({ code });
  });

  it('without `file`, verifies the file MARKETPLACE_ENTITLEMENT_FILE names (of `env` when given)', async () => {
    await freshFile(podAText);
    const named = createEntitlementGate({
      publicKey: emulator().publicKeyPem,
      productCode: TEST_PRODUCT_CODE,
      instanceId: POD_A,
      env: { MARKETPLACE_ENTITLEMENT_FILE: file },
    });
    expect(await named.status()).toMatchObject({ entitled: true, instance: POD_A });
    const absent = join(dir, 'absent', 'entitlement.jwt');
    const elsewhere = createEntitlementGate({
      publicKey: emulator().publicKeyPem,
      productCode: TEST_PRODUCT_CODE,
      instanceId: POD_A,
      env: { MARKETPLACE_ENTITLEMENT_FILE: absent },
    });
    expect(await elsewhere.status()).toMatchObject({ entitled: false, code: 'ENTITLEMENT_FILE_MISSING' });
  });

  it("refuses AWS's documentation placeholder key", async () => {
    const placeholder = await readFile(new URL('../fixtures/aws-doc-example-key.pem', import.meta.url), 'utf8');
    expect(() => gateFor({ publicKey: placeholder })).toThrow(expect.objectContaining({ code: 'REFUSED_PUBLIC_KEY' }));
  });
});
