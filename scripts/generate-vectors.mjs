#!/usr/bin/env node
/**
 * Writes the conformance vectors the Go and Python ports (ports/) are tested against, from the TypeScript
 * implementation itself: every verdict below is what the built library (dist/) answers, never a hand-written
 * expectation. Run `npm run build` first.
 *
 *   node scripts/generate-vectors.mjs           # (re)write test/vectors/*.json
 *   node scripts/generate-vectors.mjs retry-policy.json   # (re)write only the files named
 *   node scripts/generate-vectors.mjs --names   # print the case names only (test/core/conformance-vectors.test.ts
 *                                               # compares them with the committed files)
 *
 * - registration.json: RegisterUsage tokens (valid answers, the forgeries of test/core/verify-registration.test.ts,
 *   fixed samples of the mutations test/core/verify-properties.test.ts draws at random) with the verdict of
 *   verifyRegistration: the claims, or the VerificationError / ConfigurationError code.
 * - keys.json: product public keys with the verdict of loadProductPublicKey (accepted, or the error code).
 * - aws-errors.json: AWS errors with the verdict of classifyMeteringError (retried, or the typed error).
 * - emulator-scenarios.json: emulator scenarios (spoiled tokens, PascalCase claims, other iats, a key rotation) with
 *   the verdict of ensureEntitled against the emulator; the ports run them through test/support/emulator-scenario.mjs.
 * - retry-policy.json: DEFAULT_RETRY_POLICY and DEFAULT_DEADLINE_MS, which each port copies, and samples of
 *   backoffDelay (failures, random draw, policy) that each port's backoff must reproduce to the millisecond.
 * - amazon-roots.json: Amazon's root certificates from Node's bundled store, which each port embeds.
 *
 * Tokens and keys are random (RSA-PSS signatures are randomised), so a rerun changes bytes, not names or verdicts.
 */
import { constants, createPublicKey, generateKeyPairSync, randomBytes, sign, X509Certificate } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { rootCertificates } from 'node:tls';
import { FlattenedSign } from 'jose';
import * as root from '../dist/src/index.js';
import * as emulator from '../dist/src/emulator/index.js';
import { classifyMeteringError } from '../dist/src/metering/errors.js';
import { backoffDelay, DEFAULT_DEADLINE_MS, DEFAULT_RETRY_POLICY } from '../dist/src/aws/retry.js';
import { awsErrorVerdict, keyVerdict, registrationVerdict, scenarioVerdict } from './vector-verdicts.mjs';

// What scripts/vector-verdicts.mjs judges with: the root, the emulator and the Metering error classification.
const library = { ...root, ...emulator, classifyMeteringError };
const { TOKEN_FAULTS, TOKEN_IAT_VARIANTS } = emulator;

const OUT = new URL('../test/vectors/', import.meta.url);
const NOW_SEC = Date.parse('2025-03-01T12:00:00Z') / 1000;
const SENT = { productCode: 'prod-vectors', publicKeyVersion: 2, nonce: 'n0nce_-Value' };
const CLAIMS = { ...SENT, iat: NOW_SEC };
const PS256_HEADER = { alg: 'PS256', typ: 'JWT' };
const BASE64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

const pemOf = (key) => key.export({ type: 'spki', format: 'pem' }).toString();
const encodeSegment = (value) =>
  Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
const replaceSegment = (token, index, segment) =>
  token
    .split('.')
    .map((s, i) => (i === index ? segment : s))
    .join('.');

/**
 * A PS256 compact JWS over `payload` (JSON-encoded unless already a string): RSASSA-PSS, SHA-256, MGF1-SHA-256,
 * 32-byte salt, as the emulator signs through jose; by hand so any header (a null crit) can be signed.
 */
const signToken = async (privateKey, payload, header = PS256_HEADER) => {
  const input = `${encodeSegment({ ...header, alg: 'PS256' })}.${encodeSegment(payload)}`;
  const signature = sign('sha256', Buffer.from(input), {
    key: privateKey,
    padding: constants.RSA_PKCS1_PSS_PADDING,
    saltLength: 32,
  });
  return `${input}.${signature.toString('base64url')}`;
};

/** An RSA public key with any modulus and exponent (via JWK): keys no honest generator makes. */
const rsaKey = (modulus, exponent) => {
  const hex = exponent.toString(16);
  const e = Buffer.from(hex.length % 2 ? `0${hex}` : hex, 'hex').toString('base64url');
  return createPublicKey({ key: { kty: 'RSA', n: modulus.toString('base64url'), e }, format: 'jwk' });
};

/** An odd number of exactly `bits` bits with the top bit set: a "modulus" for size limits (vetting checks no primality). */
const oddModulus = (bits) => {
  const bytes = randomBytes(Math.ceil(bits / 8));
  const spare = bytes.length * 8 - bits;
  bytes[0] = (bytes[0] & (0xff >> spare)) | (0x80 >> spare);
  bytes[bytes.length - 1] |= 1;
  return bytes;
};

// ---- keys.json ---------------------------------------------------------------------------------------------------

async function keyCases() {
  const good = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const modulus = Buffer.from(good.publicKey.export({ format: 'jwk' }).n, 'base64url');
  const placeholderPem = readFileSync(new URL('../test/fixtures/aws-doc-example-key.pem', import.meta.url), 'utf8');
  const placeholder = createPublicKey(placeholderPem);
  const placeholderJwk = placeholder.export({ format: 'jwk' });
  const certificate = execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      '/dev/null',
      '-subj',
      '/CN=not-a-product-key',
      '-days',
      '1',
    ],
    {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    },
  );
  const pkcs1 = (key) => key.export({ type: 'pkcs1', format: 'pem' }).toString();
  /** The same modulus and exponent under the id-RSASSA-PSS algorithm identifier (OID 1.2.840.113549.1.1.10, no parameters). */
  const asRsaPss = (key) => {
    const rsaPublicKey = key.export({ type: 'pkcs1', format: 'der' });
    const bitString = Buffer.concat([
      Buffer.from([0x03]),
      derLength(rsaPublicKey.length + 1),
      Buffer.from([0]),
      rsaPublicKey,
    ]);
    const algorithm = Buffer.from('300b06092a864886f70d01010a', 'hex');
    const body = Buffer.concat([algorithm, bitString]);
    return createPublicKey({
      key: Buffer.concat([Buffer.from([0x30]), derLength(body.length), body]),
      format: 'der',
      type: 'spki',
    });
  };
  const wrap = (der, label) =>
    `-----BEGIN ${label}-----\n${der
      .toString('base64')
      .match(/.{1,64}/g)
      .join('\n')}\n-----END ${label}-----\n`;
  const cases = [
    ['RSA-2048, e = 65537, SPKI PEM', pemOf(good.publicKey)],
    ['RSA-2048 as PKCS#1 "RSA PUBLIC KEY"', pkcs1(good.publicKey)],
    [
      'RSA-2048 with surrounding whitespace and CRLF line ends',
      `\n\n${pemOf(good.publicKey).replace(/\n/g, '\r\n')}  \n`,
    ],
    ['RSA-2048 under the RSASSA-PSS algorithm identifier', pemOf(asRsaPss(good.publicKey))],
    ['RSA of exactly 16384 bits', pemOf(rsaKey(oddModulus(16384), 65537))],
    ['RSA of 16385 bits', pemOf(rsaKey(oddModulus(16385), 65537))],
    ['RSA of 2047 bits', pemOf(rsaKey(oddModulus(2047), 65537))],
    ['RSA-1024 (not the placeholder)', pemOf(generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey)],
    ['an RSA key with e = 1 (any "signature" verifies)', pemOf(rsaKey(modulus, 1))],
    ['an RSA key with e = 3', pemOf(rsaKey(modulus, 3))],
    ['an RSA key with e = 65539', pemOf(rsaKey(modulus, 65539))],
    ['the AWS documentation placeholder', placeholderPem],
    ['the placeholder as PKCS#1 "RSA PUBLIC KEY"', pkcs1(placeholder)],
    ['the placeholder under the RSASSA-PSS algorithm identifier', pemOf(asRsaPss(placeholder))],
    [
      'the placeholder modulus with e = 3 (not the placeholder: refused for its exponent)',
      pemOf(rsaKey(Buffer.from(placeholderJwk.n, 'base64url'), 3)),
    ],
    ['an X.509 certificate', certificate],
    [
      'two PEM blocks (a prepended key)',
      `${pemOf(generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey)}${pemOf(good.publicKey)}`,
    ],
    ['a PEM block with text before it', `comment\n${pemOf(good.publicKey)}`],
    ['a PEM block with text after it', `${pemOf(good.publicKey)}trailing`],
    ['mismatched BEGIN and END labels', pemOf(good.publicKey).replace('END PUBLIC KEY', 'END RSA PUBLIC KEY')],
    ['a PKCS#8 private key', good.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()],
    ['a PKCS#1 "RSA PRIVATE KEY"', good.privateKey.export({ type: 'pkcs1', format: 'pem' }).toString()],
    ['an EC P-256 public key', pemOf(generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey)],
    ['an Ed25519 public key', pemOf(generateKeyPairSync('ed25519').publicKey)],
    ['a PUBLIC KEY block of garbage', wrap(randomBytes(64), 'PUBLIC KEY')],
    ['a PUBLIC KEY block with a non-base64 character', pemOf(good.publicKey).replace(/\n(.)/, '\n!')],
    ['a byte-order mark before the PEM block', `\ufeff${pemOf(good.publicKey)}`],
    ['a non-breaking space inside the PEM body', pemOf(good.publicKey).replace(/\n(.)/, '\n\u00a0$1')],
    ['a vertical tab inside the PEM body', pemOf(good.publicKey).replace(/\n(.)/, '\n\u000b$1')],
    ['a form feed inside the PEM body', pemOf(good.publicKey).replace(/\n(.)/, '\n\f$1')],
    ['a tab and spaces inside the PEM body', pemOf(good.publicKey).replace(/\n(.)/, '\n\t  $1')],
    [
      'the PEM body on one line',
      pemOf(good.publicKey)
        .replace(/\n(?!-----END)(?=[A-Za-z0-9+/=])/g, '')
        .replace('-----BEGIN PUBLIC KEY-----', '-----BEGIN PUBLIC KEY-----\n'),
    ],
    ['an empty string', ''],
    ['only whitespace', ' \n'],
  ];
  const out = [];
  for (const [name, pem] of cases) {
    out.push({ name, pem, expect: await keyVerdict(library, pem) });
  }
  return out;
}

function derLength(length) {
  if (length < 0x80) return Buffer.from([length]);
  const bytes = Buffer.from(length.toString(16).padStart(length > 0xff ? 4 : 2, '0'), 'hex');
  return Buffer.concat([Buffer.from([0x80 | bytes.length]), bytes]);
}

// ---- registration.json -------------------------------------------------------------------------------------------

async function registrationCases() {
  const signers = {
    rsa3072: generateKeyPairSync('rsa', { modulusLength: 3072 }).privateKey,
    rsa2048: generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey,
  };
  const stranger = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
  const pssRestricted = generateKeyPairSync('rsa-pss', {
    modulusLength: 2048,
    hashAlgorithm: 'sha512',
    mgf1HashAlgorithm: 'sha512',
  });
  const pssSha256 = generateKeyPairSync('rsa-pss', {
    modulusLength: 2048,
    hashAlgorithm: 'sha256',
    mgf1HashAlgorithm: 'sha256',
    saltLength: 32,
  });
  const pssUnrestricted = generateKeyPairSync('rsa-pss', { modulusLength: 2048 });
  const keys = {
    rsa3072: pemOf(createPublicKey(signers.rsa3072)),
    rsa2048: pemOf(createPublicKey(signers.rsa2048)),
    'rsa-pss-sha512-restricted': pemOf(pssRestricted.publicKey),
    'rsa-pss-sha256-restricted': pemOf(pssSha256.publicKey),
    'rsa-pss-unrestricted': pemOf(pssUnrestricted.publicKey),
    placeholder: readFileSync(new URL('../test/fixtures/aws-doc-example-key.pem', import.meta.url), 'utf8'),
  };
  const privateKey = signers.rsa3072;
  const valid = await signToken(privateKey, CLAIMS);
  const cases = [];
  /** One case: `token` judged under `key` with the default sent values and `options`. */
  const add = (name, token, { key = 'rsa3072', options = {}, sent = SENT } = {}) =>
    cases.push({ name, key, token, sent, options });
  const signClaims = (claims) => signToken(privateKey, claims);

  // verify-registration.test.ts, in its order.
  add('a valid token', valid);
  add('malformed: two segments', valid.split('.').slice(0, 2).join('.'));
  add('malformed: four segments', `${valid}.${valid.split('.')[2]}`);
  add('malformed: an empty signature segment', replaceSegment(valid, 2, ''));
  add('malformed: an empty payload segment', replaceSegment(valid, 1, ''));
  add('malformed: base64 padding on the signature', `${valid}=`);
  add('malformed: base64 padding on the header', replaceSegment(valid, 0, `${valid.split('.')[0]}=`));
  add('malformed: a non-base64url character (+)', replaceSegment(valid, 2, `+${valid.split('.')[2].slice(1)}`));
  add(
    'malformed: a non-base64url character (/) in the payload',
    replaceSegment(valid, 1, `/${valid.split('.')[1].slice(1)}`),
  );
  add('malformed: whitespace inside', valid.replace('.', '. '));
  add('malformed: a header that is not JSON', replaceSegment(valid, 0, encodeSegment('{"alg":"PS256"')));
  add('malformed: a header that is a JSON array', replaceSegment(valid, 0, encodeSegment(['PS256'])));
  add('malformed: a header that is JSON null', replaceSegment(valid, 0, encodeSegment('null')));
  add('malformed: the empty string', '');
  add('malformed: a correctly signed payload that is not a JSON object', await signClaims('[1,2,3]'));
  add('malformed: a correctly signed payload that is not JSON', await signClaims('{"nonce":'));
  add(
    'malformed: a correctly signed payload with NaN',
    await signClaims(`{"productCode":"${SENT.productCode}","nonce":"${SENT.nonce}","publicKeyVersion":2,"iat":NaN}`),
  );
  add(
    'malformed: a header with a byte-order mark',
    replaceSegment(valid, 0, encodeSegment(`\ufeff${JSON.stringify(PS256_HEADER)}`)),
  );
  const [, payloadSegment, signatureSegment] = valid.split('.');
  for (const alg of ['none', 'HS256', 'RS256', 'PS384', 'ES256', 'ps256', undefined, null, 256]) {
    add(
      `alg ${JSON.stringify(alg) ?? 'absent'}`,
      `${encodeSegment({ ...PS256_HEADER, alg })}.${payloadSegment}.${signatureSegment}`,
    );
  }
  add(
    'an unsigned token (alg none, empty signature)',
    `${encodeSegment({ alg: 'none', typ: 'JWT' })}.${payloadSegment}.`,
  );
  add('a valid signature under another key', await signToken(stranger, CLAIMS));
  const unencoded = await new FlattenedSign(Buffer.from(encodeSegment(CLAIMS)))
    .setProtectedHeader({ alg: 'PS256', b64: false, crit: ['b64'] })
    .sign(privateKey);
  add(
    'a crit header with b64:false (RFC 7797)',
    `${unencoded.protected}.${encodeSegment(CLAIMS)}.${unencoded.signature}`,
  );
  add('a crit header with b64:true', await signToken(privateKey, CLAIMS, { b64: true, crit: ['b64'] }));
  add('a crit header that is null', await signToken(privateKey, CLAIMS, { typ: 'JWT', crit: null }));
  const signedWith = (algorithm, padding, saltLength) => {
    const [header, payload] = valid.split('.');
    const signature = sign(algorithm, Buffer.from(`${header}.${payload}`), {
      key: privateKey,
      padding,
      ...(saltLength !== undefined && { saltLength }),
    });
    return `${header}.${payload}.${signature.toString('base64url')}`;
  };
  add('a PSS salt of 32 bytes (the control)', signedWith('sha256', constants.RSA_PKCS1_PSS_PADDING, 32));
  add('a PSS salt of 0 bytes', signedWith('sha256', constants.RSA_PKCS1_PSS_PADDING, 0));
  add('a PSS salt of 20 bytes', signedWith('sha256', constants.RSA_PKCS1_PSS_PADDING, 20));
  add('a PSS salt of 64 bytes', signedWith('sha256', constants.RSA_PKCS1_PSS_PADDING, 64));
  add(
    'the longest PSS salt',
    signedWith('sha256', constants.RSA_PKCS1_PSS_PADDING, constants.RSA_PSS_SALTLEN_MAX_SIGN),
  );
  add('PSS with SHA-384', signedWith('sha384', constants.RSA_PKCS1_PSS_PADDING, 32));
  add('PSS with SHA-1', signedWith('sha1', constants.RSA_PKCS1_PSS_PADDING, 20));
  add('PKCS#1 v1.5 (RS256) under a PS256 header', signedWith('sha256', constants.RSA_PKCS1_PADDING, undefined));
  const signature = Buffer.from(signatureSegment, 'base64url');
  add('a signature one byte short', replaceSegment(valid, 2, signature.subarray(1).toString('base64url')));
  add(
    'a signature one byte long (a leading zero)',
    replaceSegment(valid, 2, Buffer.concat([Buffer.alloc(1), signature]).toString('base64url')),
  );
  add('a signature of zeros', replaceSegment(valid, 2, Buffer.alloc(signature.length).toString('base64url')));
  add(
    'a signature equal to the modulus',
    replaceSegment(
      valid,
      2,
      Buffer.from(createPublicKey(privateKey).export({ format: 'jwk' }).n, 'base64url').toString('base64url'),
    ),
  );
  add('an RSA-PSS key restricted to SHA-512 verifies nothing', valid, { key: 'rsa-pss-sha512-restricted' });
  add('an RSA-PSS key restricted to SHA-256 and salt 32', await signToken(pssSha256.privateKey, CLAIMS), {
    key: 'rsa-pss-sha256-restricted',
  });
  add('an RSA-PSS key without restrictions', await signToken(pssUnrestricted.privateKey, CLAIMS), {
    key: 'rsa-pss-unrestricted',
  });
  add(
    'extra header fields (typ, kid) covered by the signature',
    await signToken(privateKey, CLAIMS, { typ: 'JWT', kid: 'ignored' }),
  );
  add('a header without typ', await signToken(privateKey, CLAIMS, {}));

  add(
    'claims: PascalCase spellings',
    await signClaims({
      ProductCode: SENT.productCode,
      PublicKeyVersion: SENT.publicKeyVersion,
      Nonce: SENT.nonce,
      iat: NOW_SEC,
    }),
  );
  add(
    'claims: both spellings present and agreeing',
    await signClaims({
      ...CLAIMS,
      Nonce: SENT.nonce,
      ProductCode: SENT.productCode,
      PublicKeyVersion: SENT.publicKeyVersion,
    }),
  );
  for (const [name, value] of [
    ['ProductCode', 'other-product'],
    ['Nonce', 'other-nonce'],
    ['PublicKeyVersion', 3],
  ]) {
    add(`claims: both spellings present but ${name} disagreeing`, await signClaims({ ...CLAIMS, [name]: value }));
  }
  for (const name of ['productCode', 'nonce', 'publicKeyVersion']) {
    const claims = { ...CLAIMS };
    delete claims[name];
    add(`claims: ${name} missing`, await signClaims(claims));
  }
  add('claims: all three missing (the nonce is judged first)', await signClaims({ iat: NOW_SEC }));
  add(
    'claims: wrong nonce and wrong product code (the nonce is judged first)',
    await signClaims({ ...CLAIMS, nonce: 'x', productCode: 'y' }),
  );
  add('claims: nonce null', await signClaims({ ...CLAIMS, nonce: null }));
  add('claims: nonce as a number', await signClaims({ ...CLAIMS, nonce: 12 }));
  add(
    'claims: product code with a different case',
    await signClaims({ ...CLAIMS, productCode: SENT.productCode.toUpperCase() }),
  );
  add('claims: nonce with a different case', await signClaims({ ...CLAIMS, nonce: SENT.nonce.toUpperCase() }));
  add('claims: nonce with a trailing space', await signClaims({ ...CLAIMS, nonce: `${SENT.nonce} ` }));
  add(
    'claims: nonce written with a JSON escape',
    await signClaims(JSON.stringify(CLAIMS).replace(`"${SENT.nonce}"`, `"${SENT.nonce.replace('n', '\\u006e')}"`)),
  );
  add(
    'claims: a duplicated nonce member, the last one wrong',
    await signClaims(JSON.stringify(CLAIMS).replace(/}$/, ',"nonce":"other"}')),
  );
  add(
    'claims: a duplicated nonce member, the last one right',
    await signClaims(JSON.stringify({ nonce: 'other', ...CLAIMS })),
  );
  for (const [label, json] of [
    ['the number 2', '2'],
    ['2.0', '2.0'],
    ['2e0', '2e0'],
    ['20e-1', '20e-1'],
    ['the string "2"', '"2"'],
    ['the string "02"', '"02"'],
    ['the number 3', '3'],
    ['the number 2.5', '2.5'],
    ['the string "2.0"', '"2.0"'],
    ['the string "02x"', '"02x"'],
    ['the string " 2"', '" 2"'],
    ['the string ""', '""'],
    ['the string "-2"', '"-2"'],
    ['true', 'true'],
    ['null', 'null'],
    ['an array [2]', '[2]'],
    ['an object', '{"v":2}'],
    ['the number 1e400', '1e400'],
  ]) {
    add(
      `publicKeyVersion as ${label} (2 was sent)`,
      await signClaims(
        `{"productCode":"${SENT.productCode}","nonce":"${SENT.nonce}","iat":${NOW_SEC},"publicKeyVersion":${json}}`,
      ),
    );
  }
  add(
    'PublicKeyVersion as true beside publicKeyVersion 2 (1 was sent)',
    await signClaims({ ...CLAIMS, publicKeyVersion: 1, PublicKeyVersion: true }),
    {
      sent: { ...SENT, publicKeyVersion: 1 },
    },
  );
  add('publicKeyVersion "1" when 2 was sent', await signClaims({ ...CLAIMS, publicKeyVersion: '1' }));

  // iat is advisory; bounds only when the caller sets them.
  for (const [label, iat] of [
    ['missing', undefined],
    ['a string', String(NOW_SEC)],
    ['null', null],
    ['an ISO date', new Date(NOW_SEC * 1000).toISOString()],
    ['in milliseconds', NOW_SEC * 1000],
    ['before the Metering API existed (2015)', 1_420_070_400],
    ['negative', -1],
    ['true', true],
    ['at the lower bound (2016-01-01)', 1_451_606_400],
    ['at the upper bound (2100-01-01, excluded)', 4_102_444_800],
    ['a fraction of a second', NOW_SEC + 0.5],
  ]) {
    add(`iat ${label}`, await signClaims({ ...SENT, iat }));
  }
  for (const [label, offset] of [
    ['an hour ahead', 3_600],
    ['a day old', -86_400],
    ['a year old', -365 * 86_400],
    ['2.4 s ahead', 2.4],
    ['2.6 s old', -2.6],
  ]) {
    add(`iat ${label}, no bound set`, await signClaims({ ...SENT, iat: NOW_SEC + offset }));
  }
  const ahead = await signClaims({ ...SENT, iat: NOW_SEC + 30 });
  const old = await signClaims({ ...SENT, iat: NOW_SEC - 120 });
  add('iat 30 s ahead, clockToleranceSec 10', ahead, { options: { clockToleranceSec: 10 } });
  add('iat 30 s ahead, clockToleranceSec 30', ahead, { options: { clockToleranceSec: 30 } });
  add('iat 120 s old, maxTokenAgeSec 60', old, { options: { maxTokenAgeSec: 60 } });
  add('iat 120 s old, maxTokenAgeSec 120', old, { options: { maxTokenAgeSec: 120 } });
  add('iat 120 s old, both bounds, tolerance 0', old, { options: { maxTokenAgeSec: 600, clockToleranceSec: 0 } });
  for (const [label, bound] of [
    ['maxTokenAgeSec', { maxTokenAgeSec: 600 }],
    ['clockToleranceSec', { clockToleranceSec: 300 }],
  ]) {
    for (const [iatLabel, iat] of [
      ['missing', undefined],
      ['in milliseconds', NOW_SEC * 1000],
      ['"now"', 'now'],
    ]) {
      add(`iat ${iatLabel} with ${label} set`, await signClaims({ ...SENT, iat }), { options: bound });
    }
  }
  add('the placeholder key is refused whatever the token', valid, { key: 'placeholder' });
  add('a bad token under the placeholder key (the key is judged first)', 'x', { key: 'placeholder' });

  // verify-properties.test.ts: deterministic samples of its random changes, for RSA-3072 and RSA-2048 (whose
  // signature's last character carries spare bits).
  for (const keyName of ['rsa3072', 'rsa2048']) {
    const token = await signToken(signers[keyName], { ...CLAIMS, publicKeyVersion: SENT.publicKeyVersion });
    const opts = { key: keyName };
    const segments = token.split('.');
    add(`${keyName}: the unchanged token`, token, opts);
    segments.forEach((segment, index) => {
      const last = segment.at(-1);
      const lastValue = BASE64URL.indexOf(last);
      // Characters that decode to the same bytes (only the spare low bits differ), then a few that do not.
      const spareBits = (segment.length * 6) % 8;
      const aliases = [...BASE64URL].filter(
        (c) => c !== last && BASE64URL.indexOf(c) >> spareBits === lastValue >> spareBits,
      );
      const others = [...BASE64URL]
        .filter((c) => BASE64URL.indexOf(c) >> spareBits !== lastValue >> spareBits)
        .slice(0, 2);
      for (const [n, char] of aliases.entries()) {
        add(
          `${keyName}: segment ${index} last character replaced, alias ${n + 1} (same bytes)`,
          replaceSegment(token, index, segment.slice(0, -1) + char),
          opts,
        );
      }
      for (const [n, char] of others.entries()) {
        add(
          `${keyName}: segment ${index} last character replaced, other ${n + 1}`,
          replaceSegment(token, index, segment.slice(0, -1) + char),
          opts,
        );
      }
      const bytes = Buffer.from(segment, 'base64url');
      for (const at of [0, Math.floor(bytes.length / 2), bytes.length - 1]) {
        for (const bit of [0, 7]) {
          const flipped = Buffer.from(bytes);
          flipped[at] ^= 1 << bit;
          add(
            `${keyName}: segment ${index} byte ${at} bit ${bit} flipped`,
            replaceSegment(token, index, flipped.toString('base64url')),
            opts,
          );
        }
      }
    });
    for (const [at, char] of [
      [0, 'B'],
      [5, '.'],
      [40, '='],
      [100, '+'],
      [150, ' '],
      [token.length - 1, '\n'],
      [60, 'é'],
      [70, '\u0000'],
      [token.indexOf('.'), 'A'],
    ]) {
      add(
        `${keyName}: character ${at} replaced by ${JSON.stringify(char)}`,
        token.slice(0, at) + char + token.slice(at + 1),
        opts,
      );
    }
    for (const [at, removed, inserted] of [
      [0, 0, 'A'],
      [token.length, 0, 'A'],
      [token.length, 0, '.'],
      [20, 1, ''],
      [token.indexOf('.'), 1, ''],
      [token.length - 4, 4, ''],
      [token.lastIndexOf('.') + 1, 0, 'AAAA'],
    ]) {
      add(
        `${keyName}: at ${at}, ${removed} removed, ${JSON.stringify(inserted)} inserted`,
        token.slice(0, at) + inserted + token.slice(at + removed),
        opts,
      );
    }
    const claims = { ...CLAIMS };
    const payloadJsons = [
      ['re-serialised with indentation', JSON.stringify(claims, null, 2)],
      [
        'members reordered',
        JSON.stringify({
          iat: claims.iat,
          nonce: claims.nonce,
          publicKeyVersion: claims.publicKeyVersion,
          productCode: claims.productCode,
        }),
      ],
      ['a member added', JSON.stringify({ ...claims, extra: true })],
      ['iat dropped', JSON.stringify({ ...claims, iat: undefined })],
      ['nonce changed', JSON.stringify({ ...claims, nonce: 'forged' })],
      ['Nonce added with another value', JSON.stringify({ ...claims, Nonce: 'forged' })],
    ];
    for (const [label, json] of payloadJsons)
      add(`${keyName}: payload ${label}`, replaceSegment(token, 1, encodeSegment(json)), opts);
    const headerJsons = [
      ['typ dropped', { alg: 'PS256' }],
      ['kid added', { ...PS256_HEADER, kid: '1' }],
      ['members reordered', { typ: 'JWT', alg: 'PS256' }],
      ['jku added', { ...PS256_HEADER, jku: 'https://attacker.example/keys' }],
      ['jwk added', { ...PS256_HEADER, jwk: createPublicKey(stranger).export({ format: 'jwk' }) }],
      ['crit added', { ...PS256_HEADER, crit: ['exp'] }],
    ];
    for (const [label, json] of headerJsons)
      add(`${keyName}: header ${label}`, replaceSegment(token, 0, encodeSegment(json)), opts);
    const [h, p, s] = segments;
    for (const [label, swapped] of [
      ['payload.header.signature', `${p}.${h}.${s}`],
      ['header.header.signature', `${h}.${h}.${s}`],
      ['header.payload.payload', `${h}.${p}.${p}`],
      ['header.signature.payload', `${h}.${s}.${p}`],
    ]) {
      add(`${keyName}: segments as ${label}`, swapped, opts);
    }
  }

  const judged = [];
  for (const c of cases) {
    const options = { publicKey: keys[c.key], ...c.sent, ...c.options, now: new Date(NOW_SEC * 1000) };
    judged.push({ ...c, expect: await registrationVerdict(library, c.token, options) });
  }
  return { keys, cases: judged };
}

// ---- aws-errors.json ---------------------------------------------------------------------------------------------

function awsErrorCases() {
  const errors = [
    ['CustomerNotEntitledException', 400],
    ['PlatformNotSupportedException', 400],
    ['InvalidProductCodeException', 400],
    ['InvalidPublicKeyVersionException', 400],
    ['InvalidRegionException', 400],
    ['DisabledApiException', 400],
    ['ThrottlingException', 400],
    ['InternalServiceErrorException', 500],
    ['AccessDeniedException', 400],
    ['UnrecognizedClientException', 400],
    ['ExpiredTokenException', 400],
    ['SomethingNew', 400],
    ['SomethingNew', 429],
    ['SomethingNew', 500],
    ['SomethingNew', 503],
  ];
  return errors.map(([name, status]) => ({ name, status, expect: awsErrorVerdict(library, name, status) }));
}

// ---- emulator-scenarios.json -------------------------------------------------------------------------------------

/** The scenarios the CLI's emulator has no flag for, each judged by ensureEntitled over HTTP. */
async function emulatorScenarios() {
  const scenarios = [
    ...TOKEN_FAULTS.map((tokenFault) => [`token fault ${tokenFault}`, { tokenFault }]),
    ['PascalCase claims', { claimSpelling: 'PascalCase' }],
    ...TOKEN_IAT_VARIANTS.map((tokenIat) => [`iat ${tokenIat}`, { tokenIat }]),
    ['a key rotation reported', { rotationTimestamp: 1_740_830_400 }],
  ];
  const out = [];
  for (const [name, scenario] of scenarios)
    out.push({ name, scenario, expect: (await scenarioVerdict(library, scenario)).verdict });
  return out;
}

// ---- retry-policy.json ------------------------------------------------------------------------------------------

/** The policy before issue 25: full jitter over a window doubling from 1 s to 30 s, a special case of RetryPolicy. */
const FULL_JITTER_DOUBLING_TO_30S = {
  baseDelayMs: 1_000,
  doublingLimitMs: 30_000,
  stepDelayMs: 1_000,
  maxDelayMs: 30_000,
  maxJitterMs: 30_000,
};

/**
 * backoffDelay at chosen points: every phase of the window (first, doubling, steps, cap), draws at and near 0 and 1
 * (1 - 2^-53 is the largest double below 1), failure counts far past the cap, and windows in fractions of a
 * millisecond, where the two floors of backoffDelay differ from one. `policy` absent: DEFAULT_RETRY_POLICY.
 */
function retrySamples() {
  const nearOne = 1 - 2 ** -53;
  const draws = [0, 1e-9, 0.5, 0.999999, nearOne];
  const points = [
    { failures: [0, 1, 2, 3, 14, 15, 16, 58, 59, 60, 1_000, 2 ** 31 - 1, Number.MAX_SAFE_INTEGER] },
    { policy: FULL_JITTER_DOUBLING_TO_30S, failures: [1, 2, 3, 5, 6, 7, 100, 2 ** 31 - 1] },
    {
      policy: { baseDelayMs: 1_000, doublingLimitMs: 4_000, stepDelayMs: 500, maxDelayMs: 30_000, maxJitterMs: 8_000 },
      failures: [1, 3, 4, 5, 12, 13, 60],
    },
    {
      policy: { baseDelayMs: 100, doublingLimitMs: 1_000, stepDelayMs: 100, maxDelayMs: 1_000, maxJitterMs: 1_000 },
      failures: [1, 3, 4, 5, 6, 1_000],
    },
    // A base above the doubling limit: no doubling at all, steps from the base.
    {
      policy: { baseDelayMs: 5_000, doublingLimitMs: 1_000, stepDelayMs: 250, maxDelayMs: 6_000, maxJitterMs: 2_000 },
      failures: [1, 2, 4, 5, 100],
    },
    // Fractional milliseconds: window 10.5 ms at the 5th failure, spread 8 ms; floor(2.5) + floor(0.999999 * 8) = 9, one floor says 10.
    {
      policy: { baseDelayMs: 1.5, doublingLimitMs: 3, stepDelayMs: 2.5, maxDelayMs: 20.5, maxJitterMs: 8 },
      failures: [1, 2, 3, 4, 5, 7, 100],
    },
  ];
  return points.flatMap(({ policy, failures }) =>
    failures.flatMap((count) =>
      draws.map((random) => ({
        failures: count,
        random,
        ...(policy ? { policy } : {}),
        delayMs: backoffDelay(count, policy ?? DEFAULT_RETRY_POLICY, () => random),
      })),
    ),
  );
}

// ---- amazon-roots.json -------------------------------------------------------------------------------------------

/** The roots AWS endpoints chain to (Amazon Trust Services), as Node bundles them. */
export const AMAZON_ROOT_SUBJECTS = [
  'Amazon Root CA 1',
  'Amazon Root CA 2',
  'Amazon Root CA 3',
  'Amazon Root CA 4',
  'Starfield Services Root Certificate Authority - G2',
];

function amazonRoots() {
  return AMAZON_ROOT_SUBJECTS.map((subject) => {
    const pem = rootCertificates.find((candidate) =>
      new X509Certificate(candidate).subject.split('\n').includes(`CN=${subject}`),
    );
    if (!pem) throw new Error(`Node's root store has no ${subject}`);
    return { subject, sha256: new X509Certificate(pem).fingerprint256, pem: `${pem.trim()}\n` };
  });
}

// ---- output ------------------------------------------------------------------------------------------------------

const description = (what) =>
  `${what} Generated by scripts/generate-vectors.mjs from the TypeScript implementation; do not edit by hand.`;

const files = {
  'registration.json': async () => {
    const { keys, cases } = await registrationCases();
    return {
      description: description('RegisterUsage tokens with the verdict of verifyRegistration at `now` (epoch seconds).'),
      now: NOW_SEC,
      keys,
      cases,
    };
  },
  'keys.json': async () => ({
    description: description('Product public keys with the verdict of loadProductPublicKey.'),
    cases: await keyCases(),
  }),
  'aws-errors.json': async () => ({
    description: description('AWS errors (name, HTTP status) with the verdict of classifyMeteringError.'),
    cases: awsErrorCases(),
  }),
  'emulator-scenarios.json': async () => ({
    description: description(
      'Emulator scenarios (test/support/emulator-scenario.mjs) with the verdict of ensureEntitled against them.',
    ),
    cases: await emulatorScenarios(),
  }),
  'retry-policy.json': async () => ({
    description: description(
      'The retry policy (DEFAULT_RETRY_POLICY, and DEFAULT_DEADLINE_MS: retries stop at the deadline). After `failures` ' +
        'consecutive failures (k, at least 1) the window starts at baseDelayMs, doubles per failure up to doublingLimitMs, ' +
        'then grows by stepDelayMs per failure, at most maxDelayMs; spread = min(window, maxJitterMs); the delay is ' +
        'floor(window - spread) + floor(random * spread) whole milliseconds, random uniform in [0, 1). `samples`: ' +
        'backoffDelay(failures, policy, () => random) = delayMs, policy absent meaning the default; the policy before ' +
        'issue 25 (full jitter doubling from 1 s to 30 s) is the sample policy with doublingLimitMs = maxJitterMs = maxDelayMs = 30000.',
    ),
    ...DEFAULT_RETRY_POLICY,
    deadlineMs: DEFAULT_DEADLINE_MS,
    samples: retrySamples(),
  }),
  'amazon-roots.json': async () => ({
    description: description("Amazon's root certificates from Node's bundled root store (tls.rootCertificates)."),
    roots: amazonRoots(),
  }),
};

const namesOnly = process.argv.includes('--names');
// Named files only, when given: tokens and keys are fresh each run, so regenerating everything rewrites every file.
const named = process.argv.slice(2).filter((arg) => !arg.startsWith('--'));
const unknown = named.filter((file) => !(file in files));
if (unknown.length > 0) {
  console.error(
    `generate-vectors: no vector file ${unknown.join(', ')}; the files are ${Object.keys(files).join(', ')}.`,
  );
  process.exit(2);
}
mkdirSync(OUT, { recursive: true });
for (const [file, make] of Object.entries(files).filter(([file]) => named.length === 0 || named.includes(file))) {
  const content = await make();
  if (namesOnly) {
    for (const c of content.cases ?? content.roots ?? [])
      console.log(`${file}\t${c.name ?? c.subject}${c.status ? ` ${c.status}` : ''}`);
    continue;
  }
  const target = new URL(file, OUT);
  const temporary = new URL(`.${file}.${process.pid}.tmp`, OUT);
  writeFileSync(temporary, `${JSON.stringify(content, null, 2)}\n`);
  renameSync(temporary, target);
  console.log(`wrote test/vectors/${file}${content.cases ? ` (${content.cases.length} cases)` : ''}`);
}
