/**
 * The one compact-JWS reader (src/common/compact-jws.ts) and the words each verifier gives its refusals: the
 * RegisterUsage token (TOKEN_MALFORMED, with the order its test vectors pin) and the entitlement file (FILE_MALFORMED).
 */
import { createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { CompactJws, isCanonicalBase64url, type JwsDefect } from '../../src/common/compact-jws.js';
import { decodeCompactJws } from '../../src/entitlement-file/entitlement-file.js';
import { ENTITLEMENT_FILE_TYPE, verifyEntitlementToken } from '../../src/entitlement-file/index.js';
import { verifyRegistration, VerificationError } from '../../src/index.js';
import { encodeSegment, rejectionOf, signToken, testSigningKey } from '../support/index.js';

const EMPTY_OBJECT = encodeSegment({}); // 'e30': 18 bits for 2 bytes, so 2 spare bits
const EMPTY_OBJECT_SPARE_BITS_SET = 'e31'; // decodes to the same '{}'
const PS256 = encodeSegment({ alg: 'PS256', typ: 'JWT' });

/** The defect `read` refuses with (fails the test if nothing is refused). */
function defectOf(read: (refuse: (defect: JwsDefect) => Error) => unknown): JwsDefect {
  let seen: JwsDefect | undefined;
  const thrown = (() => {
    try {
      read((defect) => {
        seen = defect;
        return new Error(defect.kind);
      });
    } catch (err) {
      return err;
    }
    return undefined;
  })();
  expect(thrown).toBeInstanceOf(Error);
  return seen!;
}

describe('isCanonicalBase64url', () => {
  it.each([
    ['AA', true],
    [EMPTY_OBJECT, true],
    ['', false],
    ['AB', false], // the spare bits of the last character set: decodes as 'AA' does
    [EMPTY_OBJECT_SPARE_BITS_SET, false],
    ['AA==', false],
    ['A+', false],
    ['A/', false],
    ['A A', false],
  ])('%j: %s', (text, expected) => {
    expect(isCanonicalBase64url(text)).toBe(expected);
  });
});

describe('CompactJws', () => {
  it.each([
    ['not a string', 42],
    ['two segments', `${EMPTY_OBJECT}.${EMPTY_OBJECT}`],
    ['four segments', `${EMPTY_OBJECT}.${EMPTY_OBJECT}.AA.AA`],
    ['the empty string', ''],
  ])('read() refuses %s as not-compact', (_label, token) => {
    expect(defectOf((refuse) => CompactJws.read(token, refuse))).toEqual({ kind: 'not-compact' });
  });

  it('requireCanonical() checks every segment against the alphabet before any for its form', () => {
    const read = (token: string) => defectOf((refuse) => CompactJws.read(token, refuse).requireCanonical());
    expect(read(`${EMPTY_OBJECT}.${EMPTY_OBJECT}.`)).toEqual({ kind: 'not-compact' });
    expect(read(`${EMPTY_OBJECT}.${EMPTY_OBJECT}.AA==`)).toEqual({ kind: 'not-compact' });
    expect(read(`${EMPTY_OBJECT_SPARE_BITS_SET}.${EMPTY_OBJECT}.AA`)).toEqual({ kind: 'not-canonical' });
    expect(read(`${EMPTY_OBJECT_SPARE_BITS_SET}.${EMPTY_OBJECT}.A+`)).toEqual({ kind: 'not-compact' });
  });

  it('decodes only what is asked for, and only from a canonical segment', () => {
    const unsigned = CompactJws.read(`${PS256}.${EMPTY_OBJECT}.`, () => new Error('refused'));
    expect(unsigned.header()).toEqual({ alg: 'PS256', typ: 'JWT' }); // the signature segment is not looked at yet
    expect(unsigned.payload()).toEqual({});
    expect(unsigned.signingInput).toBe(`${PS256}.${EMPTY_OBJECT}`);
    expect(defectOf((refuse) => CompactJws.read(`${PS256}.${EMPTY_OBJECT}.`, refuse).signature())).toEqual({
      kind: 'not-compact',
    });
    expect(defectOf((refuse) => CompactJws.read(`${PS256}.${EMPTY_OBJECT}.AB`, refuse).signature())).toEqual({
      kind: 'not-canonical',
    });
    expect(
      defectOf((refuse) => CompactJws.read(`${EMPTY_OBJECT_SPARE_BITS_SET}.${EMPTY_OBJECT}.AA`, refuse).header()),
    ).toEqual({ kind: 'not-canonical' });
    expect(CompactJws.read(`${PS256}.${EMPTY_OBJECT}.AAE`, () => new Error('refused')).signature()).toEqual(
      Buffer.from([0, 1]),
    );
  });

  it.each([
    ['not JSON', '{"alg":"PS256"', 'not-json'],
    ['a byte-order mark before the JSON', '\uFEFF{}', 'not-json'],
    ['a JSON array', '[1]', 'not-object'],
    ['JSON null', 'null', 'not-object'],
    ['a JSON string', '"PS256"', 'not-object'],
  ])('refuses a header or payload that is %s', (_label, json, kind) => {
    const header = defectOf((refuse) => CompactJws.read(`${encodeSegment(json)}.${EMPTY_OBJECT}.AA`, refuse).header());
    const payload = defectOf((refuse) => CompactJws.read(`${PS256}.${encodeSegment(json)}.AA`, refuse).payload());
    expect(header).toMatchObject({ kind, part: 'header' });
    expect(payload).toMatchObject({ kind, part: 'payload' });
    if (kind === 'not-json') expect((header as { cause: unknown }).cause).toBeInstanceOf(SyntaxError);
  });
});

describe('the RegisterUsage verifier words every refusal of the reader', () => {
  const NOT_COMPACT = 'The RegisterUsage signature is not a compact JWT (three non-empty unpadded base64url segments).';
  let privateKey: KeyObject;
  const sent = { productCode: 'prod-jws', publicKeyVersion: 1, nonce: 'n0nce' };

  beforeAll(async () => {
    privateKey = await testSigningKey();
  });

  async function refusal(token: unknown): Promise<{ code: string; message: string }> {
    const error = await rejectionOf(
      verifyRegistration(token, { publicKey: createPublicKey(privateKey), ...sent }),
      VerificationError,
    );
    return { code: error.code, message: error.message };
  }

  it.each<[string, () => Promise<unknown> | unknown, string, string]>([
    ['not a string', () => undefined, 'TOKEN_MALFORMED', NOT_COMPACT],
    ['two segments', () => `${PS256}.${EMPTY_OBJECT}`, 'TOKEN_MALFORMED', NOT_COMPACT],
    [
      'a header that is not canonical',
      () => `${encodeSegment({ alg: 'PS256' })}x.${EMPTY_OBJECT}.AA`,
      'TOKEN_MALFORMED',
      NOT_COMPACT,
    ],
    [
      'a header that is not JSON',
      () => `${encodeSegment('{"alg"')}.${EMPTY_OBJECT}.AA`,
      'TOKEN_MALFORMED',
      'The RegisterUsage token header is not valid JSON.',
    ],
    [
      'a header that is a JSON array',
      () => `${encodeSegment([1])}.${EMPTY_OBJECT}.AA`,
      'TOKEN_MALFORMED',
      'The RegisterUsage token header is not a JSON object.',
    ],
    // The algorithm is judged before the other segments: an unsigned token is refused for what it is.
    [
      'alg none, empty signature',
      () => `${encodeSegment({ alg: 'none' })}.${EMPTY_OBJECT}.`,
      'ALGORITHM_NOT_ALLOWED',
      'The RegisterUsage token uses alg "none"; only PS256 is accepted.',
    ],
    [
      'a crit header',
      () => `${encodeSegment({ alg: 'PS256', crit: ['b64'] })}.${EMPTY_OBJECT}.AA`,
      'TOKEN_MALFORMED',
      'The RegisterUsage token header has a crit member; AWS sends none.',
    ],
    ['an empty signature', () => `${PS256}.${EMPTY_OBJECT}.`, 'TOKEN_MALFORMED', NOT_COMPACT],
    ['a signature that is not canonical', () => `${PS256}.${EMPTY_OBJECT}.AB`, 'TOKEN_MALFORMED', NOT_COMPACT],
    // The payload is read only under a valid signature: a forged one is refused for its signature.
    [
      'an unsigned payload that is not JSON',
      () => `${PS256}.${encodeSegment('{')}.AA`,
      'SIGNATURE_INVALID',
      expect.stringContaining('does not verify') as unknown as string,
    ],
    [
      'a signed payload that is not JSON',
      () => signToken(privateKey, '{"nonce"'),
      'TOKEN_MALFORMED',
      'The RegisterUsage token payload is not valid JSON.',
    ],
    [
      'a signed payload that is a JSON array',
      () => signToken(privateKey, '[1]'),
      'TOKEN_MALFORMED',
      'The RegisterUsage token payload is not a JSON object.',
    ],
  ])('%s: %s', async (_label, make, code, message) => {
    expect(await refusal(await make())).toEqual({ code, message });
  });
});

describe('the entitlement file words every refusal of the reader (FILE_MALFORMED)', () => {
  const malformed = (why: string) => ({
    code: 'FILE_MALFORMED',
    message: `The entitlement file is malformed: ${why}.`,
  });
  const NOT_COMPACT = malformed('it is not a compact JWS (three non-empty unpadded base64url segments)');
  const EDDSA = encodeSegment({ alg: 'EdDSA' });

  function refusal(text: string): { code: string; message: string } {
    let error: unknown;
    try {
      decodeCompactJws(text);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(VerificationError);
    const { code, message } = error as VerificationError;
    return { code, message };
  }

  it.each([
    ['two segments', `${EDDSA}.${EMPTY_OBJECT}`, NOT_COMPACT],
    ['four segments', `${EDDSA}.${EMPTY_OBJECT}.AA.AA`, NOT_COMPACT],
    ['an empty signature', `${EDDSA}.${EMPTY_OBJECT}.`, NOT_COMPACT],
    ['base64 padding', `${EDDSA}.${EMPTY_OBJECT}.AA==`, NOT_COMPACT],
    [
      'a segment that is not canonical',
      `${EDDSA}.${EMPTY_OBJECT_SPARE_BITS_SET}.AA`,
      malformed('a segment is not canonical base64url'),
    ],
    [
      'a segment that is not canonical beside one outside the alphabet',
      `${EDDSA}.${EMPTY_OBJECT_SPARE_BITS_SET}.A+`,
      NOT_COMPACT,
    ],
    ['a header that is not JSON', `${encodeSegment('{"alg"')}.${EMPTY_OBJECT}.AA`, malformed('its header is not JSON')],
    [
      'a header that is a JSON array',
      `${encodeSegment([1])}.${EMPTY_OBJECT}.AA`,
      malformed('its header is not a JSON object'),
    ],
    ['a payload that is not JSON', `${EDDSA}.${encodeSegment('{')}.AA`, malformed('its payload is not JSON')],
    [
      'a payload that is JSON null',
      `${EDDSA}.${encodeSegment('null')}.AA`,
      malformed('its payload is not a JSON object'),
    ],
  ])('%s', (_label, text, expected) => {
    expect(refusal(text)).toEqual(expected);
  });

  it('decodes a well-formed JWS without verifying it', () => {
    expect(decodeCompactJws(`${EDDSA}.${EMPTY_OBJECT}.AAE`)).toEqual({
      header: { alg: 'EdDSA' },
      payload: {},
      signingInput: `${EDDSA}.${EMPTY_OBJECT}`,
      signature: Buffer.from([0, 1]),
    });
  });

  it('the header key x must be canonical base64url too', async () => {
    const x = generateKeyPairSync('ed25519').publicKey.export({ format: 'jwk' }).x!;
    // 43 characters carry 258 bits for 256: flipping the lowest bit of the last character leaves the key's bytes unchanged.
    const last = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const sibling = `${x.slice(0, -1)}${last[last.indexOf(x.at(-1)!) ^ 1]}`;
    expect(Buffer.from(sibling, 'base64url')).toEqual(Buffer.from(x, 'base64url'));
    const header = encodeSegment({
      alg: 'EdDSA',
      typ: ENTITLEMENT_FILE_TYPE,
      jwk: { kty: 'OKP', crv: 'Ed25519', x: sibling },
    });
    const error = await rejectionOf(
      verifyEntitlementToken(`${header}.${EMPTY_OBJECT}.AA\n`, { publicKey: createPublicKey(await testSigningKey()) }),
      VerificationError,
    );
    expect({ code: error.code, message: error.message }).toEqual(
      malformed('its header key x is not canonical base64url'),
    );
  });
});
