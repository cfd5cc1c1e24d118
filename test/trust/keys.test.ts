/**
 * Key vetting (docs/threat-model.md, "Keys"): RSA public keys only, exponent exactly 65537, 2048 to 16384 bits,
 * exactly one PEM block; certificates and private keys refused with their own messages. All before any network
 * call, in the library, the CLI and `bake`.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigurationError, ensureEntitled, loadProductPublicKey } from '../../src/index.js';
import { emulatorEnv, runCli } from '../cli/helpers.js';
import { emulatorOptions, rejectionOf, TEST_PRODUCT_CODE, useEmulator } from '../support/index.js';
import { pemOf, rsaPublicKey } from './support.js';

const emulator = useEmulator();
const dir = mkdtempSync(join(tmpdir(), 'me-keys-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const good = generateKeyPairSync('rsa', { modulusLength: 2048 });
const modulus = Buffer.from(good.publicKey.export({ format: 'jwk' }).n!, 'base64url');
const otherKeyPem = pemOf(generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey);
/** A self-signed X.509 certificate (openssl req -x509 -subj /CN=not-a-product-key), committed: npm test runs without openssl. */
const certificate = readFileSync(new URL('../fixtures/not-a-product-key-certificate.pem', import.meta.url), 'utf8');
/** An odd 17 000-bit number with the top bit set: a "modulus" no one can verify under in reasonable time. */
const hugeModulus = Buffer.concat([Buffer.from([0xc0]), randomBytes(2124), Buffer.from([0x01])]);

const REFUSED: [label: string, pem: string, message: RegExp][] = [
  ['an RSA key with e = 1 (any "signature" verifies)', pemOf(rsaPublicKey(modulus, 1)), /exponent 1; only 65537/],
  ['an RSA key with e = 3', pemOf(rsaPublicKey(modulus, 3)), /exponent 3; only 65537/],
  ['an RSA key of 17 000 bits', pemOf(rsaPublicKey(hugeModulus, 65537)), /RSA-170\d\d; 2048 to 16384 bits/],
  ['an X.509 certificate', certificate, /certificate/],
  ['two PEM blocks (a prepended key)', `${otherKeyPem}${pemOf(good.publicKey)}`, /exactly one PEM block/],
  ['a PEM block with text around it', `comment\n${pemOf(good.publicKey)}`, /exactly one PEM block/],
  [
    'the placeholder shipped in k8s/base/public-key.pem, left in place',
    readFileSync(new URL('../../k8s/base/public-key.pem', import.meta.url), 'utf8'),
    /still the placeholder shipped in k8s\/base\/public-key\.pem.*public key AWS Marketplace issued for your product \(AWS Marketplace Management Portal/,
  ],
  ['a private key', good.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), /private key/],
];

describe('key vetting', () => {
  it.each(REFUSED)('the library refuses %s before any network call (exit 78)', async (_label, pem, message) => {
    const error = await rejectionOf(
      ensureEntitled(emulatorOptions(emulator(), { publicKey: pem })),
      ConfigurationError,
    );
    expect(error).toMatchObject({ code: 'INVALID_PUBLIC_KEY', exitCode: 78 });
    expect(error.message).toMatch(message);
    expect(emulator().calls).toHaveLength(0);
  });

  it.each(REFUSED)(
    '`register` and `bake` refuse %s with exit 78; nothing is called or written',
    async (_label, pem) => {
      const keyFile = join(dir, `key-${randomBytes(4).toString('hex')}.pem`);
      writeFileSync(keyFile, pem);
      const register = await runCli(
        ['register', '--product-code', TEST_PRODUCT_CODE, '--out', join(dir, 'e.jwt'), '--public-key-file', keyFile],
        {
          env: emulatorEnv(emulator(), { MARKETPLACE_PUBLIC_KEY: '' }),
        },
      );
      expect(register.code, register.stdout).toBe(78);
      expect(emulator().calls).toHaveLength(0);
      const bakeInto = mkdtempSync(join(dir, 'bundle-'));
      const bake = await runCli([
        'bake',
        '--product-code',
        TEST_PRODUCT_CODE,
        '--public-key-file',
        keyFile,
        '--into',
        bakeInto,
      ]);
      expect(bake.code, bake.stdout).toBe(78);
      expect(bake.stderr).toMatch(/INVALID_PUBLIC_KEY/);
      expect(existsSync(join(bakeInto, 'baked-config.json'))).toBe(false);
    },
  );

  it('accepts an RSA-2048 key with e = 65537, as PEM, DER or KeyObject', () => {
    for (const form of [
      pemOf(good.publicKey),
      good.publicKey.export({ type: 'spki', format: 'der' }),
      good.publicKey,
    ]) {
      expect(loadProductPublicKey(form).asymmetricKeyDetails?.publicExponent).toBe(65537n);
    }
  });
});
