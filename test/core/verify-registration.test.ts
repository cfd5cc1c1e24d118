/** verifyRegistration on hand-made tokens: malformed compact forms, algorithms, claim spellings, advisory iat and opt-in bounds. */
import { constants, createPublicKey, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { FlattenedSign } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  ConfigurationError,
  ExitCode,
  verifyRegistration,
  VerificationError,
  type VerifyRegistrationOptions,
} from '../../src/index.js';
import {
  encodeSegment,
  PS256_HEADER,
  rejectionOf,
  replaceSegment,
  signToken,
  testSigningKey,
} from '../support/index.js';

const NOW = new Date('2025-03-01T12:00:00Z');
const NOW_SEC = NOW.getTime() / 1000;
const SENT = { productCode: 'prod-verify', publicKeyVersion: 2, nonce: 'n0nce_-Value' };
const CLAIMS = { ...SENT, iat: NOW_SEC };

let privateKey: KeyObject;
let options: VerifyRegistrationOptions;
let valid: string;

beforeAll(async () => {
  privateKey = await testSigningKey();
  options = { publicKey: createPublicKey(privateKey), ...SENT, now: NOW };
  valid = await signToken(privateKey, CLAIMS);
});

/** The VerificationError code `token` is refused with (fails the test if it is accepted). */
async function refusal(token: unknown, overrides: Partial<VerifyRegistrationOptions> = {}): Promise<string> {
  const error = await rejectionOf(verifyRegistration(token, { ...options, ...overrides }), VerificationError);
  expect(error.exitCode).toBe(ExitCode.VERIFICATION_FAILED);
  return error.code;
}

const signClaims = (claims: unknown) => signToken(privateKey, claims);

describe('a valid token', () => {
  it('verifies and returns what was sent and when it was issued', async () => {
    const claims = await verifyRegistration(valid, options);
    expect(claims).toEqual({ ...SENT, issuedAt: NOW, issuedAtSource: 'token', clockSkewSec: 0, payload: CLAIMS });
  });
});

describe('malformed tokens are TOKEN_MALFORMED', () => {
  it.each([
    ['two segments', () => valid.split('.').slice(0, 2).join('.')],
    ['four segments', () => `${valid}.${valid.split('.')[2]}`],
    ['an empty signature segment', () => replaceSegment(valid, 2, '')],
    ['an empty payload segment', () => replaceSegment(valid, 1, '')],
    ['base64 padding on the signature', () => `${valid}=`],
    ['base64 padding on the header', () => replaceSegment(valid, 0, `${valid.split('.')[0]}=`)],
    ['a non-base64url character (+)', () => replaceSegment(valid, 2, `+${valid.split('.')[2]!.slice(1)}`)],
    [
      'a non-base64url character (/) in the payload',
      () => replaceSegment(valid, 1, `/${valid.split('.')[1]!.slice(1)}`),
    ],
    ['whitespace inside', () => valid.replace('.', '. ')],
    ['a header that is not JSON', () => replaceSegment(valid, 0, encodeSegment('{"alg":"PS256"'))],
    ['a header that is a JSON array', () => replaceSegment(valid, 0, encodeSegment(['PS256']))],
    ['a header that is JSON null', () => replaceSegment(valid, 0, encodeSegment('null'))],
    ['the empty string', () => ''],
  ])('%s', async (_label, make) => {
    expect(await refusal(make())).toBe('TOKEN_MALFORMED');
  });

  it.each([undefined, null, 42, { token: 'x' }])('a token that is no string (%s)', async (token) => {
    expect(await refusal(token)).toBe('TOKEN_MALFORMED');
  });

  it('a correctly signed payload that is not a JSON object', async () => {
    expect(await refusal(await signClaims('[1,2,3]'))).toBe('TOKEN_MALFORMED');
  });
});

describe('the algorithm is pinned to PS256, whatever the key', () => {
  it.each(['none', 'HS256', 'RS256', 'PS384', 'ES256', 'ps256', undefined])(
    'alg %s is ALGORITHM_NOT_ALLOWED',
    async (alg) => {
      const [, payload, signature] = valid.split('.');
      expect(await refusal(`${encodeSegment({ ...PS256_HEADER, alg })}.${payload}.${signature}`)).toBe(
        'ALGORITHM_NOT_ALLOWED',
      );
    },
  );

  it('a valid signature under another key is SIGNATURE_INVALID', async () => {
    const other = generateKeyPairSync('rsa', { modulusLength: 2048 });
    expect(await refusal(await signToken(other.privateKey, CLAIMS))).toBe('SIGNATURE_INVALID');
  });

  it('a crit header is TOKEN_MALFORMED: AWS sends none, and b64:false would make the payload read differ from the one verified', async () => {
    // Unencoded payload (RFC 7797): the signature covers the payload segment's text itself.
    const payloadSegment = encodeSegment(CLAIMS);
    const unencoded = await new FlattenedSign(Buffer.from(payloadSegment))
      .setProtectedHeader({ alg: 'PS256', b64: false, crit: ['b64'] })
      .sign(privateKey);
    expect(await refusal(`${unencoded.protected}.${payloadSegment}.${unencoded.signature}`)).toBe('TOKEN_MALFORMED');
    expect(await refusal(await signToken(privateKey, CLAIMS, { b64: true, crit: ['b64'] }))).toBe('TOKEN_MALFORMED');
  });

  // The PS256 parameters are pinned (RFC 7518 3.5): SHA-256, MGF1-SHA-256, a 32-byte salt. Each token below is signed
  // with the right key over the right bytes; only one parameter differs.
  const signedWith = (algorithm: string, padding: number, saltLength?: number) => {
    const [header, payload] = valid.split('.');
    const signature = sign(algorithm, Buffer.from(`${header}.${payload}`), {
      key: privateKey,
      padding,
      ...(saltLength !== undefined && { saltLength }),
    });
    return `${header}.${payload}.${signature.toString('base64url')}`;
  };

  it('the 32-byte PSS salt is what verifies (the same signing, as a control)', async () => {
    await expect(
      verifyRegistration(signedWith('sha256', constants.RSA_PKCS1_PSS_PADDING, 32), options),
    ).resolves.toMatchObject(SENT);
  });

  it.each([
    ['a PSS salt of 0 bytes', 'sha256', constants.RSA_PKCS1_PSS_PADDING, 0],
    ['a PSS salt of 20 bytes', 'sha256', constants.RSA_PKCS1_PSS_PADDING, 20],
    ['a PSS salt of 64 bytes', 'sha256', constants.RSA_PKCS1_PSS_PADDING, 64],
    ['the longest PSS salt', 'sha256', constants.RSA_PKCS1_PSS_PADDING, constants.RSA_PSS_SALTLEN_MAX_SIGN],
    ['PSS with SHA-384', 'sha384', constants.RSA_PKCS1_PSS_PADDING, 32],
    ['PKCS#1 v1.5 (RS256) under a PS256 header', 'sha256', constants.RSA_PKCS1_PADDING, undefined],
  ])('%s is SIGNATURE_INVALID', async (_label, algorithm, padding, saltLength) => {
    expect(await refusal(signedWith(algorithm, padding, saltLength))).toBe('SIGNATURE_INVALID');
  });

  it('a signature one byte short or one byte long is SIGNATURE_INVALID', async () => {
    const signature = Buffer.from(valid.split('.')[2]!, 'base64url');
    for (const changed of [signature.subarray(1), Buffer.concat([Buffer.alloc(1), signature])]) {
      expect(await refusal(replaceSegment(valid, 2, changed.toString('base64url')))).toBe('SIGNATURE_INVALID');
    }
  });

  it('an RSA-PSS key restricted to SHA-512 verifies nothing (SIGNATURE_INVALID, not a crash)', async () => {
    const restricted = generateKeyPairSync('rsa-pss', {
      modulusLength: 2048,
      hashAlgorithm: 'sha512',
      mgf1HashAlgorithm: 'sha512',
    });
    expect(await refusal(valid, { publicKey: restricted.publicKey })).toBe('SIGNATURE_INVALID');
  });

  it('extra header fields do not matter once the signature covers them', async () => {
    const token = await signToken(privateKey, CLAIMS, { typ: 'JWT', kid: 'ignored' });
    await expect(verifyRegistration(token, options)).resolves.toMatchObject(SENT);
  });
});

describe('claims', () => {
  it('PascalCase spellings are accepted', async () => {
    const token = await signClaims({
      ProductCode: SENT.productCode,
      PublicKeyVersion: SENT.publicKeyVersion,
      Nonce: SENT.nonce,
      iat: NOW_SEC,
    });
    await expect(verifyRegistration(token, options)).resolves.toMatchObject(SENT);
  });

  it('both spellings present and agreeing are accepted', async () => {
    await expect(
      verifyRegistration(await signClaims({ ...CLAIMS, Nonce: SENT.nonce }), options),
    ).resolves.toMatchObject(SENT);
  });

  it.each([
    ['ProductCode', 'other-product', 'PRODUCT_CODE_MISMATCH'],
    ['Nonce', 'other-nonce', 'NONCE_MISMATCH'],
    ['PublicKeyVersion', 3, 'PUBLIC_KEY_VERSION_MISMATCH'],
  ])('both spellings present but %s disagreeing is refused', async (name, value, code) => {
    expect(await refusal(await signClaims({ ...CLAIMS, [name]: value }))).toBe(code);
  });

  it.each([
    ['productCode', 'PRODUCT_CODE_MISMATCH'],
    ['nonce', 'NONCE_MISMATCH'],
    ['publicKeyVersion', 'PUBLIC_KEY_VERSION_MISMATCH'],
  ])('a missing %s is refused', async (name, code) => {
    const claims: Record<string, unknown> = { ...CLAIMS };
    delete claims[name];
    expect(await refusal(await signClaims(claims))).toBe(code);
  });

  it.each([
    ['the number 2', '2', true],
    ['2.0', '2.0', true],
    ['the string "2"', '"2"', true],
    ['the number 3', '3', false],
    ['the string "02x"', '"02x"', false],
    ['the string " 2"', '" 2"', false],
    ['true', 'true', false],
    ['null', 'null', false],
  ])('publicKeyVersion as %s (2 was sent)', async (_label, json, accepted) => {
    const token = await signClaims(
      `{"productCode":"${SENT.productCode}","nonce":"${SENT.nonce}","iat":${NOW_SEC},"publicKeyVersion":${json}}`,
    );
    if (accepted) await expect(verifyRegistration(token, options)).resolves.toMatchObject({ publicKeyVersion: 2 });
    else expect(await refusal(token)).toBe('PUBLIC_KEY_VERSION_MISMATCH');
  });

  it('a version that only matches as a string is refused when a different number was sent', async () => {
    expect(await refusal(await signClaims({ ...CLAIMS, publicKeyVersion: '1' }))).toBe('PUBLIC_KEY_VERSION_MISMATCH');
  });

  it('the nonce is compared exactly (case matters)', async () => {
    expect(await refusal(await signClaims({ ...CLAIMS, nonce: SENT.nonce.toUpperCase() }))).toBe('NONCE_MISMATCH');
  });
});

describe('iat is advisory (AWS documents none; the nonce proves freshness)', () => {
  it.each([
    ['missing', undefined],
    ['a string', String(NOW_SEC)],
    ['null', null],
    ['an ISO date', NOW.toISOString()],
    ['in milliseconds', NOW.getTime()],
    ['before the Metering API existed (2015)', 1_420_070_400],
    ['negative', -1],
  ])('%s: accepted, issuedAt is the time the answer was judged', async (_label, iat) => {
    const claims = await verifyRegistration(await signClaims({ ...SENT, iat }), options);
    expect(claims).toMatchObject({ ...SENT, issuedAt: NOW, issuedAtSource: 'received' });
    expect(claims.clockSkewSec).toBeUndefined();
  });

  it.each([
    ['an hour ahead', 3_600],
    ['a day old', -86_400],
    ['a year old', -365 * 86_400],
  ])('issued %s: accepted with the token time and its skew when no bound is set', async (_label, offsetSec) => {
    const claims = await verifyRegistration(await signClaims({ ...SENT, iat: NOW_SEC + offsetSec }), options);
    expect(claims).toMatchObject({
      issuedAt: new Date((NOW_SEC + offsetSec) * 1000),
      issuedAtSource: 'token',
      clockSkewSec: offsetSec,
    });
  });

  it('honours clockToleranceSec and maxTokenAgeSec when the caller sets them', async () => {
    const ahead = await signClaims({ ...SENT, iat: NOW_SEC + 30 });
    const old = await signClaims({ ...SENT, iat: NOW_SEC - 120 });

    expect(await refusal(ahead, { clockToleranceSec: 10 })).toBe('IAT_IN_FUTURE');
    await expect(verifyRegistration(ahead, { ...options, clockToleranceSec: 30 })).resolves.toBeDefined();
    expect(await refusal(old, { maxTokenAgeSec: 60 })).toBe('TOKEN_TOO_OLD');
    await expect(verifyRegistration(old, { ...options, maxTokenAgeSec: 120 })).resolves.toBeDefined();
  });

  it.each([
    ['maxTokenAgeSec', { maxTokenAgeSec: 600 }],
    ['clockToleranceSec', { clockToleranceSec: 300 }],
  ])(
    'with %s set, a token without a usable iat is IAT_MISSING (the bound cannot be checked)',
    async (_label, bound) => {
      for (const iat of [undefined, NOW.getTime(), 'now'])
        expect(await refusal(await signClaims({ ...SENT, iat }), bound)).toBe('IAT_MISSING');
    },
  );

  it('judges against the current time when no `now` is given', async () => {
    const before = Date.now();
    const token = await signClaims({ ...SENT, iat: Math.floor(before / 1000) });
    await expect(verifyRegistration(token, { ...options, now: undefined })).resolves.toMatchObject(SENT);
    expect(await refusal(valid, { now: undefined, maxTokenAgeSec: 600 })).toBe('TOKEN_TOO_OLD'); // issued in March 2025
    const received = await verifyRegistration(await signClaims(SENT), { ...options, now: undefined });
    expect(received.issuedAt.getTime()).toBeGreaterThanOrEqual(before);
  });
});

describe('options that would switch a check off are refused, not taken as "no limit"', () => {
  it.each([
    ['clockToleranceSec NaN', { clockToleranceSec: Number.NaN }],
    ['clockToleranceSec negative', { clockToleranceSec: -1 }],
    ['clockToleranceSec as a string', { clockToleranceSec: '300' as unknown as number }],
    ['maxTokenAgeSec NaN', { maxTokenAgeSec: Number.NaN }],
    ['maxTokenAgeSec negative', { maxTokenAgeSec: -600 }],
    ['clockToleranceSec Infinity', { clockToleranceSec: Number.POSITIVE_INFINITY }],
    ['maxTokenAgeSec Infinity', { maxTokenAgeSec: Number.POSITIVE_INFINITY }],
    ['maxTokenAgeSec 0 (it would refuse every token)', { maxTokenAgeSec: 0 }],
    ['an invalid Date as now', { now: new Date('not a date') }],
  ])('%s is ConfigurationError INVALID_OPTION', async (_label, overrides) => {
    const future = await signClaims({ ...SENT, iat: NOW_SEC + 86_400 });
    const old = await signClaims({ ...SENT, iat: NOW_SEC - 86_400 });
    for (const token of [future, old]) {
      const error = await rejectionOf(verifyRegistration(token, { ...options, ...overrides }), ConfigurationError);
      expect(error).toMatchObject({ code: 'INVALID_OPTION', exitCode: ExitCode.CONFIGURATION });
    }
  });
});

describe('the key', () => {
  it('is vetted like ensureEntitled vets it (the placeholder and short keys are refused)', async () => {
    const placeholder = readFileSync(new URL('../fixtures/aws-doc-example-key.pem', import.meta.url), 'utf8');
    await expect(verifyRegistration(valid, { ...options, publicKey: placeholder })).rejects.toMatchObject({
      code: 'REFUSED_PUBLIC_KEY',
    });
  });
});
