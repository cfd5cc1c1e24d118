/**
 * Configuration is checked before any network call: a refused key, product code, key version or deadline ends
 * in a ConfigurationError (exit 78) and the emulator records ZERO calls.
 */
import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  AWS_DOC_PLACEHOLDER_KEY_SHA256,
  ConfigurationError,
  ensureEntitled,
  ExitCode,
  loadProductPublicKey,
  publicKeyFingerprint,
  type EnsureEntitledOptions,
} from '../../src/index.js';
import { emulatorOptions, rejectionOf, testSigningKey, useEmulator } from '../support/index.js';

const emulator = useEmulator();

const PLACEHOLDER_PEM = readFileSync(new URL('../fixtures/aws-doc-example-key.pem', import.meta.url), 'utf8');
const rsa1024 = generateKeyPairSync('rsa', { modulusLength: 1024 });
const ecP256 = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const ed25519 = generateKeyPairSync('ed25519');
const pem = (key: { export(o: { type: 'spki'; format: 'pem' }): string | Buffer }) =>
  key.export({ type: 'spki', format: 'pem' }).toString();

/** Expects `options` to be refused with `code` before anything reaches the emulator. */
async function expectRefusedOffline(
  options: Partial<EnsureEntitledOptions>,
  code: string,
): Promise<ConfigurationError> {
  const error = await rejectionOf(ensureEntitled(emulatorOptions(emulator(), options)), ConfigurationError);
  expect(error).toMatchObject({ code, exitCode: ExitCode.CONFIGURATION });
  expect(emulator().calls).toHaveLength(0);
  return error;
}

describe('the product public key', () => {
  it('the fixture is the AWS documentation placeholder', () => {
    expect(AWS_DOC_PLACEHOLDER_KEY_SHA256).toBe('d2f8d7917928bbe7a457bdbaa0f69221a49b0fbc867ea34b700e9e78364d57e8');
    expect(publicKeyFingerprint(rsa1024.publicKey)).not.toBe(AWS_DOC_PLACEHOLDER_KEY_SHA256);
  });

  it('refuses the AWS documentation placeholder by fingerprint, saying why', async () => {
    const error = await expectRefusedOffline({ publicKey: PLACEHOLDER_PEM }, 'REFUSED_PUBLIC_KEY');
    expect(error.message).toMatch(/placeholder/);
    expect(error.message).toMatch(/private key is published/);
  });

  it('refuses the placeholder in any form (DER, KeyObject, surrounding whitespace)', () => {
    const key = createPublicKey(PLACEHOLDER_PEM);
    for (const form of [key, key.export({ type: 'spki', format: 'der' }), `\n\n  ${PLACEHOLDER_PEM}\n`]) {
      expect(() => loadProductPublicKey(form)).toThrow(expect.objectContaining({ code: 'REFUSED_PUBLIC_KEY' }));
    }
  });

  it('refuses the placeholder re-encoded as an RSA-PSS key (another SPKI algorithm, the same modulus)', () => {
    const pkcs1 = createPublicKey(PLACEHOLDER_PEM).export({ type: 'pkcs1', format: 'der' });
    const der = (tag: number, ...parts: Buffer[]) => {
      const body = Buffer.concat(parts);
      return Buffer.concat([Buffer.from(body.length < 128 ? [tag, body.length] : [tag, 0x81, body.length]), body]);
    };
    const rsaPssOid = Buffer.from('06092a864886f70d01010a', 'hex'); // id-RSASSA-PSS, no parameters
    const spki = der(0x30, der(0x30, rsaPssOid), der(0x03, Buffer.from([0]), pkcs1));
    const key = createPublicKey({ key: spki, format: 'der', type: 'spki' });
    expect(key.asymmetricKeyType).toBe('rsa-pss');
    for (const form of [key, spki, key.export({ type: 'spki', format: 'pem' })]) {
      expect(() => loadProductPublicKey(form)).toThrow(expect.objectContaining({ code: 'REFUSED_PUBLIC_KEY' }));
    }
  });

  it.each([
    ['an RSA-1024 key', pem(rsa1024.publicKey), /RSA-1024; 2048 to 16384 bits/],
    ['an EC P-256 key', pem(ecP256.publicKey), /ec key/],
    ['an Ed25519 key', pem(ed25519.publicKey), /ed25519 key/],
    ['a private key PEM', rsa1024.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), /private key/],
    ['a private KeyObject', rsa1024.privateKey, /public KeyObject/],
    [
      'text that is no key',
      '-----BEGIN PUBLIC KEY-----\nbm90IGEga2V5\n-----END PUBLIC KEY-----\n',
      /could not be parsed/,
    ],
    [
      'a JWK object (of the placeholder)',
      createPublicKey(PLACEHOLDER_PEM).export({ format: 'jwk' }) as unknown as string,
      /PEM text, DER bytes or a KeyObject/,
    ],
  ])('refuses %s', async (_label, publicKey, message) => {
    const error = await expectRefusedOffline({ publicKey }, 'INVALID_PUBLIC_KEY');
    expect(error.message).toMatch(message);
  });

  it('refuses a missing key: there is no built-in AWS key', async () => {
    const error = await expectRefusedOffline({ publicKey: '' }, 'MISSING_PUBLIC_KEY');
    expect(error.message).toMatch(/no global AWS key/);
  });

  it('accepts the right key as PEM, DER or KeyObject', async () => {
    const publicKey = emulator().publicKey;
    for (const form of [emulator().publicKeyPem, publicKey.export({ type: 'spki', format: 'der' }), publicKey]) {
      await expect(ensureEntitled(emulatorOptions(emulator(), { publicKey: form }))).resolves.toMatchObject({
        attempts: 1,
      });
    }
    expect(emulator().calls).toHaveLength(3);
  });

  it('never puts private key material in the message', async () => {
    const privatePem = (await testSigningKey()).export({ type: 'pkcs8', format: 'pem' }).toString();
    const error = await expectRefusedOffline({ publicKey: privatePem }, 'INVALID_PUBLIC_KEY');
    expect(error.message).not.toContain(privatePem.split('\n')[1]);
  });
});

describe('product code, key version and deadline', () => {
  it.each([
    ['empty', ''],
    ['with a space', 'prod code'],
    ['with a forbidden character', 'prod!code'],
    ['of 256 characters', 'p'.repeat(256)],
    ['not a string', 42 as unknown as string],
  ])('refuses a product code %s', async (_label, productCode) => {
    const error = await expectRefusedOffline({ productCode }, 'INVALID_PRODUCT_CODE');
    expect(error.message).toMatch(/Management Portal/);
  });

  it.each([0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, '1' as unknown as number])(
    'refuses public key version %s',
    async (publicKeyVersion) => {
      await expectRefusedOffline({ publicKeyVersion }, 'INVALID_PUBLIC_KEY_VERSION');
    },
  );

  it.each([0, -5, Number.NaN, Number.POSITIVE_INFINITY])('refuses deadlineMs %s', async (deadlineMs) => {
    await expectRefusedOffline({ deadlineMs }, 'INVALID_OPTION');
  });

  it.each([0, -1, Number.NaN, Number.POSITIVE_INFINITY])(
    'refuses requestTimeoutMs %s (a hung request must be abandoned)',
    async (requestTimeoutMs) => {
      const error = await expectRefusedOffline({ requestTimeoutMs }, 'INVALID_OPTION');
      expect(error.message).toContain('requestTimeoutMs');
    },
  );

  it.each(['', 'not a url', 'ftp://127.0.0.1/', 'metering.local:8443'])(
    'refuses endpoint %j rather than silently using AWS',
    async (endpoint) => {
      await expectRefusedOffline({ endpoint }, 'INVALID_OPTION');
    },
  );

  it.each([
    { clockToleranceSec: Number.NaN },
    { clockToleranceSec: -1 },
    { maxTokenAgeSec: Number.NaN },
    { maxTokenAgeSec: -600 },
    { clockToleranceSec: Number.POSITIVE_INFINITY },
    { maxTokenAgeSec: Number.POSITIVE_INFINITY },
  ])('refuses %j before calling AWS (it would switch a check off)', async (option) => {
    await expectRefusedOffline(option, 'INVALID_OPTION');
  });

  it.each([
    { baseDelayMs: 0 },
    { baseDelayMs: 100, maxDelayMs: 50 },
    { stepDelayMs: 0 },
    { maxJitterMs: -1 },
    { doublingLimitMs: Number.NaN },
    { maxDelayMs: Number.POSITIVE_INFINITY },
  ])('refuses retry policy %j', async (retry) => {
    await expectRefusedOffline({ retry }, 'INVALID_OPTION');
  });
});
