/**
 * Property tests (fast-check): any change to a valid RegisterUsage token, in its header, payload or signature, as
 * characters, as bits, or as re-encoded JSON, is refused with a VerificationError. Run for an RSA-3072 key (what
 * AWS issues) and an RSA-2048 key (whose 342-character signature has spare bits in its last character).
 */
import { createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { verifyRegistration, VerificationError, type VerifyRegistrationOptions } from '../../src/index.js';
import { encodeSegment, replaceSegment, signToken, testSigningKey } from '../support/index.js';

const NOW = new Date('2025-03-01T12:00:00Z');
const CLAIMS: Record<string, unknown> = {
  productCode: 'prod-property',
  publicKeyVersion: 1,
  nonce: 'A-nonce_0123456789',
  iat: NOW.getTime() / 1000,
};
const HEADER: Record<string, unknown> = { alg: 'PS256', typ: 'JWT' };
const RUNS = { numRuns: 150 };

const BASE64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
/** Replacement characters: every base64url character plus separators, padding, base64 and foreign characters. */
const anyChar = fc.constantFrom(...BASE64URL, '.', '=', '+', '/', ' ', '\n', '%', 'é', '\u0000');

/** A different JSON value than `current`. */
const otherJsonThan = (current: unknown) =>
  fc.jsonValue().filter((value) => JSON.stringify(value) !== JSON.stringify(current));

/** Ways to change a JSON object: set a field to something else, add a field, drop a field, re-serialize. */
function objectChanges(original: Record<string, unknown>, names: string[]): fc.Arbitrary<string> {
  const keys = Object.keys(original);
  return fc.oneof(
    fc
      .constantFrom(...names)
      .chain((name) => otherJsonThan(original[name]).map((value) => JSON.stringify({ ...original, [name]: value }))),
    fc
      .tuple(fc.string({ minLength: 1, maxLength: 12 }), fc.jsonValue())
      .filter(([name]) => !Object.hasOwn(original, name))
      .map(([name, value]) => JSON.stringify({ ...original, [name]: value })),
    fc.constantFrom(...keys).map((name) => JSON.stringify({ ...original, [name]: undefined })),
    fc.integer({ min: 1, max: 4 }).map((indent) => JSON.stringify(original, null, indent)),
    fc
      .shuffledSubarray(keys, { minLength: keys.length })
      .map((order) => JSON.stringify(Object.fromEntries(order.map((k) => [k, original[k]])))),
  );
}

describe.each([3072, 2048])('any change to a valid token signed with RSA-%i is refused', (bits) => {
  let options: VerifyRegistrationOptions;
  let valid: string;

  beforeAll(async () => {
    const privateKey: KeyObject =
      bits === 3072 ? await testSigningKey() : generateKeyPairSync('rsa', { modulusLength: bits }).privateKey;
    options = {
      publicKey: createPublicKey(privateKey),
      productCode: CLAIMS.productCode as string,
      publicKeyVersion: 1,
      nonce: CLAIMS.nonce as string,
      now: NOW,
    };
    valid = await signToken(privateKey, CLAIMS, HEADER);
  });

  /** `token` must differ from the valid one and be refused with a VerificationError. */
  async function expectRefused(token: string): Promise<void> {
    fc.pre(token !== valid);
    await expect(verifyRegistration(token, options)).rejects.toBeInstanceOf(VerificationError);
  }

  it('the unchanged token verifies (the properties below are not vacuous)', async () => {
    await expect(verifyRegistration(valid, options)).resolves.toMatchObject({ nonce: CLAIMS.nonce });
    expect(valid.split('.')[2]).toHaveLength(Math.ceil((bits / 8) * (4 / 3)));
  });

  it('a character replaced anywhere', async () => {
    await fc.assert(
      fc.asyncProperty(fc.nat(), anyChar, async (at, char) => {
        const i = at % valid.length;
        await expectRefused(valid.slice(0, i) + char + valid.slice(i + 1));
      }),
      RUNS,
    );
  });

  it('the last character of any segment replaced (where spare bits hide)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(0, 1, 2), fc.constantFrom(...BASE64URL), async (index, char) => {
        const segment = valid.split('.')[index]!;
        await expectRefused(replaceSegment(valid, index as 0 | 1 | 2, segment.slice(0, -1) + char));
      }),
      RUNS,
    );
  });

  it('characters inserted or removed anywhere', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.nat(),
        fc.integer({ min: 0, max: 8 }),
        fc.array(anyChar, { maxLength: 4 }),
        async (at, removed, inserted) => {
          const i = at % (valid.length + 1);
          await expectRefused(valid.slice(0, i) + inserted.join('') + valid.slice(i + removed));
        },
      ),
      RUNS,
    );
  });

  it('a bit flipped in the decoded bytes of any segment', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(0, 1, 2), fc.nat(), fc.integer({ min: 0, max: 7 }), async (index, at, bit) => {
        const bytes = Buffer.from(valid.split('.')[index]!, 'base64url');
        bytes[at % bytes.length]! ^= 1 << bit;
        await expectRefused(replaceSegment(valid, index as 0 | 1 | 2, bytes.toString('base64url')));
      }),
      RUNS,
    );
  });

  it('the payload re-encoded with changed JSON', async () => {
    const claimNames = ['productCode', 'ProductCode', 'publicKeyVersion', 'PublicKeyVersion', 'nonce', 'Nonce', 'iat'];
    await fc.assert(
      fc.asyncProperty(objectChanges(CLAIMS, claimNames), async (json) => {
        await expectRefused(replaceSegment(valid, 1, encodeSegment(json)));
      }),
      RUNS,
    );
  });

  it('the header re-encoded with changed JSON', async () => {
    await fc.assert(
      fc.asyncProperty(objectChanges(HEADER, ['alg', 'typ', 'kid', 'crit', 'b64', 'jku', 'jwk']), async (json) => {
        await expectRefused(replaceSegment(valid, 0, encodeSegment(json)));
      }),
      RUNS,
    );
  });

  it('segments swapped or duplicated', async () => {
    const [h, p, s] = valid.split('.') as [string, string, string];
    for (const token of [`${p}.${h}.${s}`, `${h}.${h}.${s}`, `${h}.${p}.${p}`, `${h}.${s}.${p}`]) {
      await expect(verifyRegistration(token, options)).rejects.toBeInstanceOf(VerificationError);
    }
  });
});
