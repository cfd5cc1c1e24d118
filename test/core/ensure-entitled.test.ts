/** ensureEntitled end to end: the real AWS SDK over HTTP to the emulator, on the happy paths. */
import { describe, expect, it } from 'vitest';
import { ensureEntitled, verifyRegistration } from '../../src/index.js';
import {
  DUMMY_CREDENTIALS,
  emulatorClient,
  emulatorOptions,
  recordingLogger,
  TEST_PRODUCT_CODE,
  TEST_REGION,
  useEmulator,
} from '../support/index.js';

const emulator = useEmulator();

describe('ensureEntitled against the emulator', () => {
  it('returns a verified entitlement for what was sent', async () => {
    const before = Date.now();
    const entitlement = await ensureEntitled(emulatorOptions(emulator(), { publicKeyVersion: 3 }));

    expect(entitlement).toMatchObject({
      productCode: TEST_PRODUCT_CODE,
      publicKeyVersion: 3,
      attempts: 1,
      region: TEST_REGION,
    });
    expect(entitlement.publicKeyRotationTimestamp).toBeUndefined();
    expect(entitlement.issuedAt.getTime()).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000);
    const [call] = emulator().calls;
    expect(emulator().calls).toHaveLength(1);
    expect(call).toMatchObject({
      operation: 'RegisterUsage',
      statusCode: 200,
      region: TEST_REGION,
      accessKeyId: DUMMY_CREDENTIALS.accessKeyId,
      input: { ProductCode: TEST_PRODUCT_CODE, PublicKeyVersion: 3, Nonce: entitlement.nonce },
    });
    // The registration is the AWS token verbatim: it verifies on its own.
    const claims = await verifyRegistration(entitlement.registration, {
      publicKey: emulator().publicKey,
      productCode: TEST_PRODUCT_CODE,
      publicKeyVersion: 3,
      nonce: entitlement.nonce,
    });
    expect(claims.issuedAt).toEqual(entitlement.issuedAt);
  });

  it.each(['camelCase', 'PascalCase'] as const)('accepts %s claim names', async (claimSpelling) => {
    emulator().scenario.claimSpelling = claimSpelling;
    const entitlement = await ensureEntitled(emulatorOptions(emulator()));
    const payload = JSON.parse(Buffer.from(entitlement.registration.split('.')[1]!, 'base64url').toString()) as object;
    const names =
      claimSpelling === 'camelCase'
        ? ['productCode', 'publicKeyVersion', 'nonce']
        : ['ProductCode', 'PublicKeyVersion', 'Nonce'];
    expect(Object.keys(payload).sort()).toEqual([...names, 'iat'].sort());
    expect(entitlement.productCode).toBe(TEST_PRODUCT_CODE);
  });

  it('accepts a product code of the maximum length, 255', async () => {
    const productCode = `p${'x'.repeat(254)}`;
    await expect(ensureEntitled(emulatorOptions(emulator(), { productCode }))).resolves.toMatchObject({ productCode });
  });

  it('reports an expired key version through the logger and the result', async () => {
    const rotatedAt = new Date('2025-01-02T03:04:05Z');
    emulator().scenario.rotationTimestamp = rotatedAt;
    const logger = recordingLogger();
    const entitlement = await ensureEntitled(emulatorOptions(emulator(), { logger }));

    expect(entitlement.publicKeyRotationTimestamp).toEqual(rotatedAt);
    const warning = logger.entries.find((e) => e.fields?.event === 'register.key_rotation');
    expect(warning?.level).toBe('warn');
    expect(warning?.message).toContain(rotatedAt.toISOString());
    expect(warning?.fields).toMatchObject({ publicKeyVersion: 1, rotatedAt: rotatedAt.toISOString() });
  });

  it('logs start and success without the token or the credentials', async () => {
    const logger = recordingLogger();
    const entitlement = await ensureEntitled(emulatorOptions(emulator(), { logger }));

    expect(logger.events('info')).toEqual(['register.start', 'register.verified']);
    const logged = JSON.stringify(logger.entries);
    expect(logged).not.toContain(entitlement.registration.split('.')[2]);
    expect(logged).not.toContain(DUMMY_CREDENTIALS.secretAccessKey);
  });

  it('uses a caller-supplied client and reports its Region', async () => {
    const client = emulatorClient(emulator(), { region: 'ca-central-1' });
    const entitlement = await ensureEntitled(
      emulatorOptions(emulator(), { client, region: undefined, endpoint: undefined }),
    );

    expect(entitlement.region).toBe('ca-central-1');
    expect(emulator().calls[0]?.region).toBe('ca-central-1');
    client.destroy();
  });
});

describe('nonces', () => {
  it('are fresh, at most 255 base64url characters, and distinct over many calls', async () => {
    const client = emulatorClient(emulator());
    const options = emulatorOptions(emulator(), { client });
    const results = [];
    for (let i = 0; i < 40; i += 1) results.push(await ensureEntitled(options));
    client.destroy();

    const sent = emulator().calls.map((call) => call.input.Nonce);
    expect(sent).toEqual(results.map((r) => r.nonce));
    expect(new Set(sent).size).toBe(sent.length);
    for (const nonce of sent) {
      expect(nonce).toMatch(/^[A-Za-z0-9_-]{1,255}$/);
    }
  });
});
