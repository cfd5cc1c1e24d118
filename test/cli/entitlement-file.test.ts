// The signed entitlement file through the library: ensureEntitled({ entitlementFile }) against the emulator,
// then verifyEntitlementFile on the real file, genuine and forged.
import { generateKeyPairSync } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import {
  chmod,
  mkdir,
  readFile,
  readdir,
  readlink,
  stat,
  symlink,
  truncate,
  utimes,
  writeFile,
} from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  ConfigurationError,
  ensureEntitled,
  InputError,
  OutputError,
  ServiceUnavailableError,
  VerificationError,
} from '../../src/index.js';
import {
  ensureEntitlementFile,
  jwkThumbprint,
  verifyEntitlementFile,
  type VerifyEntitlementFileOptions,
} from '../../src/entitlement-file/index.js';
import { emulatorOptions, TEST_PRODUCT_CODE, useEmulator } from '../support/index.js';
import { decodeFile, signFile, thumbprintOf, useTempDir } from './helpers.js';

const emulator = useEmulator();
const tempDir = useTempDir();
let counter = 0;
const freshPath = () => join(tempDir(), `case-${++counter}`, 'entitlement.jwt');

async function registerFile(path = freshPath(), instanceId = 'pod-a'): Promise<string> {
  await ensureEntitled(emulatorOptions(emulator(), { entitlementFile: path, instanceId, env: {} }));
  return path;
}

const verifyOptions = (overrides: Partial<VerifyEntitlementFileOptions> = {}): VerifyEntitlementFileOptions => ({
  publicKey: emulator().publicKeyPem,
  productCode: TEST_PRODUCT_CODE,
  instanceId: 'pod-a',
  ...overrides,
});

async function expectRejected(
  path: string,
  code: string,
  overrides: Partial<VerifyEntitlementFileOptions> = {},
): Promise<void> {
  const error = await verifyEntitlementFile(path, verifyOptions(overrides)).catch((err: unknown) => err);
  expect(error).toBeInstanceOf(VerificationError);
  expect(error).toMatchObject({ code, exitCode: 65 });
}

async function writeForgery(text: string): Promise<string> {
  const path = freshPath();
  await mkdir(join(path, '..'), { recursive: true });
  await writeFile(path, text);
  return path;
}

describe('writing', () => {
  it('writes a newline-terminated EdDSA JWS whose nonce is its key thumbprint and the nonce AWS received', async () => {
    const path = await registerFile();
    const text = await readFile(path, 'utf8');
    expect(text.endsWith('\n')).toBe(true);
    const { header, payload } = decodeFile(text);
    expect(header).toMatchObject({
      alg: 'EdDSA',
      typ: 'marketplace-entitlement+jwt',
      jwk: { kty: 'OKP', crv: 'Ed25519' },
    });
    expect(Object.keys(header.jwk as object).sort()).toEqual(['crv', 'kty', 'x']);
    expect(payload).toMatchObject({ productCode: TEST_PRODUCT_CODE, publicKeyVersion: 1, instance: 'pod-a' });
    expect(emulator().calls.map((c) => c.input.Nonce)).toEqual([payload.nonce]);
    const claims = await verifyEntitlementFile(path, verifyOptions({ publicKeyVersion: 1, maxAgeSec: 60 }));
    expect(claims).toMatchObject({
      productCode: TEST_PRODUCT_CODE,
      nonce: payload.nonce,
      instance: 'pod-a',
      registration: payload.registration,
    });
    expect((await stat(path)).mode & 0o777).toBe(0o644);
  });

  it('creates the parent directory, replaces an existing file and leaves no temp file', async () => {
    const path = join(tempDir(), 'deep', 'er', 'entitlement.jwt');
    await registerFile(path);
    const first = await readFile(path, 'utf8');
    await registerFile(path);
    expect(await readFile(path, 'utf8')).not.toBe(first);
    expect(await readdir(join(path, '..'))).toEqual(['entitlement.jwt']);
  });

  it('writes mode 0644 whatever the umask', async () => {
    const previous = process.umask(0o077);
    try {
      const path = await registerFile();
      expect((await stat(path)).mode & 0o777).toBe(0o644);
    } finally {
      process.umask(previous);
    }
  });

  it('removes temp files a killed writer left behind, but not one another writer may still be using', async () => {
    const path = freshPath();
    const dir = join(path, '..');
    await mkdir(dir, { recursive: true });
    const abandoned = join(dir, '.entitlement.jwt.0123456789ab.tmp');
    const recent = join(dir, '.entitlement.jwt.ba9876543210.tmp');
    await writeFile(abandoned, 'half a fi');
    await writeFile(recent, 'half a fi');
    const twoMinutesAgo = new Date(Date.now() - 120_000);
    await utimes(abandoned, twoMinutesAgo, twoMinutesAgo);
    await registerFile(path);
    expect((await readdir(dir)).sort()).toEqual(['.entitlement.jwt.ba9876543210.tmp', 'entitlement.jwt']);
  });

  it('refuses a symlink planted at the output path before calling AWS: link and target untouched', async () => {
    const dir = join(tempDir(), 'symlink');
    await mkdir(dir, { recursive: true });
    const victim = join(dir, 'victim.txt');
    await writeFile(victim, 'keep me');
    const path = join(dir, 'entitlement.jwt');
    await symlink(victim, path);
    const error = await registerFile(path).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(OutputError);
    expect(error).toMatchObject({ code: 'OUTPUT_NOT_REGULAR_FILE', exitCode: 73 });
    expect(emulator().calls).toHaveLength(0);
    expect(await readFile(victim, 'utf8')).toBe('keep me');
    expect(await readlink(path)).toBe(victim);
    expect((await readdir(dir)).sort()).toEqual(['entitlement.jwt', 'victim.txt']);
  });

  it('fails with OutputError 73 before calling AWS, leaving nothing, when the directory cannot exist', async () => {
    const blocker = join(tempDir(), 'a-file');
    await writeFile(blocker, 'not a directory');
    const error = await registerFile(join(blocker, 'entitlement.jwt')).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(OutputError);
    expect(error).toMatchObject({ code: 'OUTPUT_DIR_UNAVAILABLE', exitCode: 73 });
    expect(emulator().calls).toHaveLength(0);
  });

  it('fails with 73 at once, not spinning, where the directory can never be created (below /proc)', async () => {
    const error = await registerFile('/proc/marketplace-entitlement-test/entitlement.jwt').catch((err: unknown) => err);
    expect(error).toMatchObject({ code: 'OUTPUT_DIR_UNAVAILABLE', exitCode: 73 });
    expect(emulator().calls).toHaveLength(0);
  });

  it('refuses a directory where the file belongs, before calling AWS, leaving it as it was', async () => {
    const dir = join(tempDir(), 'rename-fails');
    const path = join(dir, 'entitlement.jwt');
    await mkdir(path, { recursive: true }); // a directory where the file belongs
    await chmod(dir, 0o755);
    const error = await registerFile(path).catch((err: unknown) => err);
    expect(error).toMatchObject({ code: 'OUTPUT_NOT_REGULAR_FILE', exitCode: 73 });
    expect(emulator().calls).toHaveLength(0);
    expect(await readdir(dir)).toEqual(['entitlement.jwt']);
    expect((await stat(path)).isDirectory()).toBe(true);
  });

  it('writes nothing when aborted during the retry loop', async () => {
    emulator().scenario.throttleFirst = Infinity;
    const path = freshPath();
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    const error = await ensureEntitled(
      emulatorOptions(emulator(), { entitlementFile: path, signal: controller.signal, env: {} }),
    ).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(ServiceUnavailableError);
    expect(error).toMatchObject({ code: 'ABORTED' });
    expect(await readdir(join(path, '..'))).toEqual([]);
  });

  it('binds the file to POD_UID when no instance id is given', async () => {
    const path = freshPath();
    await ensureEntitled(
      emulatorOptions(emulator(), { entitlementFile: path, env: { POD_UID: 'pod-from-downward-api' } }),
    );
    expect(decodeFile(await readFile(path, 'utf8')).payload.instance).toBe('pod-from-downward-api');
  });

  it('writes no instance when none is known, and a verifier that expects one rejects it', async () => {
    const path = freshPath();
    await ensureEntitled(emulatorOptions(emulator(), { entitlementFile: path, env: {} }));
    expect(decodeFile(await readFile(path, 'utf8')).payload).not.toHaveProperty('instance');
    await expect(verifyEntitlementFile(path, verifyOptions({ instanceId: undefined }))).resolves.toMatchObject({
      productCode: TEST_PRODUCT_CODE,
    });
    await expectRejected(path, 'INSTANCE_MISSING');
  });

  it('without entitlementFile writes nothing', async () => {
    const entitlement = await ensureEntitled(emulatorOptions(emulator()));
    expect(entitlement.entitlementFile).toBeUndefined();
  });
});

describe('the nonce', () => {
  it('is the RFC 7638 thumbprint: the RFC 8037 appendix A.3 test vector', () => {
    const jwk = { kty: 'OKP', crv: 'Ed25519', x: '11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo' } as const;
    expect(jwkThumbprint(jwk)).toBe('kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k');
  });
});

describe('verification', () => {
  it('reports a missing file as InputError ENTITLEMENT_FILE_MISSING (66)', async () => {
    const error = await verifyEntitlementFile(join(tempDir(), 'nope.jwt'), verifyOptions()).catch(
      (err: unknown) => err,
    );
    expect(error).toBeInstanceOf(InputError);
    expect(error).toMatchObject({ code: 'ENTITLEMENT_FILE_MISSING', exitCode: 66 });
  });

  it('rejects the file with any single byte changed', async () => {
    const text = await readFile(await registerFile(), 'utf8');
    const body = text.slice(0, -1);
    const failures = new Set<string>();
    for (let i = 0; i < body.length; i++) {
      const replacement = body[i] === 'A' ? 'B' : body[i] === '.' ? '_' : 'A';
      const path = await writeForgery(`${body.slice(0, i)}${replacement}${body.slice(i + 1)}\n`);
      const error = await verifyEntitlementFile(path, verifyOptions()).catch((err: unknown) => err);
      expect(error, `byte ${i}`).toBeInstanceOf(VerificationError);
      failures.add((error as VerificationError).code);
    }
    expect([...failures]).toEqual(expect.arrayContaining(['FILE_SIGNATURE_INVALID', 'FILE_MALFORMED']));
  });

  it('rejects a registration moved from another file, whichever nonce the forger claims', async () => {
    const donor = decodeFile(await readFile(await registerFile(), 'utf8')).payload;
    const key = generateKeyPairSync('ed25519').privateKey;
    const base = { ...donor, iat: Math.floor(Date.now() / 1000) };
    await expectRejected(
      await writeForgery(signFile({ ...base, nonce: thumbprintOf(key) }, { key })),
      'CLAIMS_DIFFER_FROM_REGISTRATION',
    );
    await expectRejected(await writeForgery(signFile(base, { key })), 'NONCE_NOT_KEY_THUMBPRINT');
  });

  it('rejects a file re-signed with another key, with or without that key in the header', async () => {
    const { header, payload } = decodeFile(await readFile(await registerFile(), 'utf8'));
    await expectRejected(await writeForgery(signFile(payload)), 'NONCE_NOT_KEY_THUMBPRINT');
    await expectRejected(
      await writeForgery(signFile(payload, { header: { jwk: header.jwk } })),
      'FILE_SIGNATURE_INVALID',
    );
  });

  it("rejects another instance's file, and a file for another product", async () => {
    const path = await registerFile(freshPath(), 'pod-b');
    await expectRejected(path, 'INSTANCE_MISMATCH');
    await expectRejected(path, 'PRODUCT_CODE_MISMATCH', { instanceId: 'pod-b', productCode: 'another-product' });
    await expectRejected(path, 'PUBLIC_KEY_VERSION_MISMATCH', { instanceId: 'pod-b', publicKeyVersion: 2 });
  });

  it('rejects a file under another product key (the registration signature)', async () => {
    const path = await registerFile();
    const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    await expectRejected(path, 'SIGNATURE_INVALID', { publicKey });
  });

  it('applies maxAgeSec to the file and judges the registration at the file iat', async () => {
    const path = await registerFile();
    const later = new Date(Date.now() + 3_600_000);
    await expect(verifyEntitlementFile(path, verifyOptions({ now: later }))).resolves.toMatchObject({
      instance: 'pod-a',
    });
    await expectRejected(path, 'FILE_TOO_OLD', { now: later, maxAgeSec: 60 });
    await expectRejected(path, 'FILE_IAT_IN_FUTURE', { now: new Date(Date.now() - 3_600_000) });
  });

  it.each([
    ['an hour older than its file', 'hour-old', 'token'],
    ['an hour ahead of its file', 'hour-ahead', 'token'],
    ['without iat', 'missing', 'received'],
    ['with iat in milliseconds', 'milliseconds', 'received'],
  ] as const)(
    'accepts a registration %s: its iat is advisory, the nonce binds it to the file',
    async (_label, tokenIat, source) => {
      emulator().scenario.tokenIat = tokenIat;
      const path = await registerFile();
      const claims = await verifyEntitlementFile(path, verifyOptions());
      expect(claims.registeredAtSource).toBe(source);
      if (source === 'received')
        expect(claims.registeredAt).toEqual(claims.issuedAt); // the file's own iat
      else
        expect(Math.abs(claims.registeredAt.getTime() - claims.issuedAt.getTime())).toBeGreaterThanOrEqual(3_599_000);
    },
  );

  it.each([
    ['alg none', { alg: 'none' }, 'FILE_ALGORITHM_NOT_ALLOWED'],
    ['alg ES256', { alg: 'ES256' }, 'FILE_ALGORITHM_NOT_ALLOWED'],
    ['another typ', { typ: 'JWT' }, 'FILE_MALFORMED'],
    ['a crit header', { crit: ['exp'] }, 'FILE_MALFORMED'],
    [
      'a private jwk (d member)',
      { jwk: { kty: 'OKP', crv: 'Ed25519', x: 'A'.repeat(43), d: 'A'.repeat(43) } },
      'FILE_KEY_INVALID',
    ],
    ['an X25519 jwk', { jwk: { kty: 'OKP', crv: 'X25519', x: 'A'.repeat(43) } }, 'FILE_KEY_INVALID'],
    ['an RSA jwk', { jwk: { kty: 'RSA', n: 'AQAB', e: 'AQAB' } }, 'FILE_KEY_INVALID'],
  ])('rejects a header with %s', async (_name, header, code) => {
    const { payload } = decodeFile(await readFile(await registerFile(), 'utf8'));
    await expectRejected(await writeForgery(signFile(payload, { header })), code);
  });

  it.each([
    ['not a JWS', 'hello\n'],
    ['padded base64', 'eyJ=.eyJ=.AA==\n'],
    ['four segments', 'a.b.c.d\n'],
    ['JSON that is not an object', `${Buffer.from('[1]').toString('base64url')}.e30.AA\n`],
  ])('rejects %s as FILE_MALFORMED', async (_name, text) => {
    await expectRejected(await writeForgery(text), 'FILE_MALFORMED');
  });

  it.each([
    ['maxAgeSec NaN', { maxAgeSec: Number.NaN }],
    ['maxAgeSec negative', { maxAgeSec: -1 }],
    ['maxAgeSec Infinity', { maxAgeSec: Number.POSITIVE_INFINITY }],
    ['maxAgeSec 0 (it would refuse every file)', { maxAgeSec: 0 }],
    ['clockToleranceSec NaN', { clockToleranceSec: Number.NaN }],
    ['clockToleranceSec Infinity', { clockToleranceSec: Number.POSITIVE_INFINITY }],
    ['an invalid Date as now', { now: new Date('not a date') }],
  ])('refuses %s as ConfigurationError INVALID_OPTION instead of switching a check off', async (_label, overrides) => {
    const path = await registerFile();
    for (const now of [new Date(Date.now() + 86_400_000), new Date(Date.now() - 86_400_000)]) {
      const error = await verifyEntitlementFile(path, verifyOptions({ now, ...overrides })).catch(
        (err: unknown) => err,
      );
      expect(error).toBeInstanceOf(ConfigurationError);
      expect(error).toMatchObject({ code: 'INVALID_OPTION', exitCode: 78 });
    }
  });

  it.each([
    ['a FIFO (would block the reader forever)', async (path: string) => void execFileSync('mkfifo', [path])],
    ['a symlink to /dev/zero (endless)', (path: string) => symlink('/dev/zero', path)],
    ['a directory', (path: string) => mkdir(path)],
  ])(
    'refuses %s at the path as ENTITLEMENT_FILE_UNREADABLE, promptly',
    async (_label, plant) => {
      const path = freshPath();
      await mkdir(join(path, '..'), { recursive: true });
      await plant(path);
      const error = await verifyEntitlementFile(path, verifyOptions()).catch((err: unknown) => err);
      expect(error).toBeInstanceOf(InputError);
      expect(error).toMatchObject({ code: 'ENTITLEMENT_FILE_UNREADABLE', exitCode: 66 });
    },
    5_000,
  );

  it('refuses a file larger than an entitlement file can be without reading it whole', async () => {
    const path = await writeForgery('');
    await truncate(path, 1024 * 1024 * 1024); // sparse: 1 GiB of zeros
    const error = await verifyEntitlementFile(path, verifyOptions()).catch((err: unknown) => err);
    expect(error).toMatchObject({ code: 'ENTITLEMENT_FILE_UNREADABLE', exitCode: 66 });
    expect((error as Error).message).toMatch(/larger than/);
  });

  it('rejects a signature segment with non-canonical trailing bits', async () => {
    const text = (await readFile(await registerFile(), 'utf8')).trimEnd();
    const last = text.at(-1)!;
    // 64 signature bytes end in a character carrying 2 unused bits: flipping them keeps the decoded bytes.
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const sibling = alphabet[alphabet.indexOf(last) ^ 1]!;
    await expectRejected(await writeForgery(`${text.slice(0, -1)}${sibling}\n`), 'FILE_MALFORMED');
  });
});

describe('ensureEntitlementFile', () => {
  it('registers from this process even over a valid file for this instance, and returns the nonce it registered', async () => {
    const path = await registerFile();
    const before = decodeFile(await readFile(path, 'utf8')).payload.nonce;
    const calls = emulator().calls.length;
    const outcome = await ensureEntitlementFile({
      ...emulatorOptions(emulator(), { instanceId: 'pod-a', env: {} }),
      entitlementFile: path,
    });
    expect(outcome).toMatchObject({ reused: false, attempts: 1 });
    expect(emulator().calls.length).toBe(calls + 1);
    expect(outcome.claims.nonce).not.toBe(before);
    expect(outcome.expectations.nonce).toBe(outcome.claims.nonce);
  });

  it('keeps a valid file only with reuseExistingFile: true (outside the line), making no call', async () => {
    const path = await registerFile();
    const calls = emulator().calls.length;
    const outcome = await ensureEntitlementFile({
      ...emulatorOptions(emulator(), { instanceId: 'pod-a', env: {} }),
      entitlementFile: path,
      reuseExistingFile: true,
    });
    expect(outcome).toMatchObject({ reused: true, attempts: 0 });
    expect(emulator().calls.length).toBe(calls);
  });

  it('refuses reuseExistingFile: true beside hardened: true (INVALID_OPTION, exit 78), before any call', async () => {
    const path = await registerFile();
    const calls = emulator().calls.length;
    const error = await ensureEntitlementFile({
      ...emulatorOptions(emulator(), { instanceId: 'pod-a', env: {} }),
      entitlementFile: path,
      reuseExistingFile: true,
      hardened: true,
    }).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(ConfigurationError);
    expect(error).toMatchObject({
      code: 'INVALID_OPTION',
      exitCode: 78,
      message: expect.stringContaining('reuseExistingFile'),
    });
    expect(emulator().calls.length).toBe(calls);
  });
});
