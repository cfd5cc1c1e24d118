/**
 * Verification of the RegisterUsage `Signature`: a PS256 JWT signed by AWS under the product's key.
 *
 * Conservative by design: the algorithm is pinned to PS256 before any key is used (so `none`, HS256 with
 * the public key as a secret, or RS256 are refused whatever the key), every segment must be canonical base64url,
 * a `crit` header is refused, the signature is checked with `node:crypto` under pinned PS256 parameters (SHA-256,
 * MGF1-SHA-256, a 32-byte salt), and every claim we sent (nonce, product code, key version) must come back
 * unchanged. Not jose's verifier: it goes through WebCrypto, which cost the exec probe about a seventh of a bare
 * Node start (docs/benchmarks.md); jose still signs the emulator's tokens, and the tests verify those here.
 * AWS's prose spells the claims in PascalCase, working verifiers read camelCase: both are accepted, and when
 * both are present both must match.
 *
 * `iat` is advisory. AWS documents neither the claim, its unit nor its clock, and independent verifiers (the
 * NGINX Ingress Controller, AWS's Java sample) do not require it; freshness is already proven by the nonce we
 * generated and found in the signed answer. So a token without a plausible NumericDate `iat` is accepted, with
 * `issuedAt` the local time the answer was judged (`issuedAtSource: 'received'`), and the age and future
 * checks apply only when the caller sets `maxTokenAgeSec` / `clockToleranceSec` (then a token without a
 * usable `iat` is refused: the caller asked for a bound that cannot be checked).
 *
 * @example
 * const claims = await verifyRegistration(response.Signature, {
 *   publicKey, productCode: 'abc123', publicKeyVersion: 1, nonce,
 * });
 * console.log(claims.issuedAt);
 */
import { constants, verify, type KeyObject } from 'node:crypto';
import { CompactJws, type JwsRefusal } from '../common/compact-jws.js';
import { durationOption } from '../common/duration-option.js';
import { VerificationError } from '../common/errors.js';
import { judgedAtSec } from '../common/now-option.js';
import { loadProductPublicKey, type PublicKeyInput } from './public-key.js';

/**
 * Allowed skew for times in the future in the entitlement file's own `iat`, and the skew of AWS's `iat` worth a
 * warning.
 */
export const DEFAULT_CLOCK_TOLERANCE_SEC = 300;
/**
 * An `iat` outside these bounds (2016-01-01, the Metering API's release, to 2100-01-01) is not a NumericDate in
 * seconds (milliseconds, for instance, land far beyond 2100): it is treated as absent.
 */
export const PLAUSIBLE_IAT_RANGE_SEC = Object.freeze({ min: 1_451_606_400, max: 4_102_444_800 });

/** What {@link verifyRegistration} checks the token against: the values that were sent. */
export interface VerifyRegistrationOptions {
  /** The product's public key for `publicKeyVersion` (PEM or KeyObject). */
  publicKey: PublicKeyInput;
  /** The product code sent. */
  productCode: string;
  /** The key version sent. */
  publicKeyVersion: number;
  /** The nonce sent with RegisterUsage. */
  nonce: string;
  /**
   * When set (finite, 0 or more), a token `iat` more than this many seconds after `now` is refused (`IAT_IN_FUTURE`).
   * Default: not checked.
   */
  clockToleranceSec?: number;
  /**
   * When set (finite, above 0), a token `iat` more than this many seconds before `now` is refused (`TOKEN_TOO_OLD`).
   * Default: not checked.
   */
  maxTokenAgeSec?: number;
  /** The moment the token is judged at. Default: the current time. */
  now?: Date;
}

/** The verified content of a RegisterUsage token. */
export interface RegistrationClaims {
  /** The product the token is for. */
  productCode: string;
  /** The key version AWS signed with. */
  publicKeyVersion: number;
  /** The nonce sent (and signed back). */
  nonce: string;
  /**
   * The token's `iat` when it is a plausible NumericDate in seconds; otherwise the time the answer was judged (`now`).
   */
  issuedAt: Date;
  /** Where `issuedAt` came from: the token's `iat`, or the local clock when the answer was received. */
  issuedAtSource: 'token' | 'received';
  /** The token's `iat` minus the local clock, in seconds (positive: ahead), when `issuedAtSource` is `'token'`. */
  clockSkewSec?: number;
  /** The decoded payload, as AWS sent it. */
  payload: Record<string, unknown>;
}

/**
 * PS256 (RFC 7518 section 3.5): RSASSA-PSS with SHA-256, MGF1 with SHA-256 (Node uses the signature's digest) and a
 * salt as long as the hash. The salt length is pinned: Node's default for verification accepts any length.
 */
const PS256_PARAMETERS = { padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 } as const;

/** The RegisterUsage verifier's words for a token that is not a compact JWS of two JSON objects. */
const refuseToken: JwsRefusal = (defect) => {
  switch (defect.kind) {
    case 'not-compact':
    case 'not-canonical':
      return new VerificationError(
        'TOKEN_MALFORMED',
        'The RegisterUsage signature is not a compact JWT (three non-empty unpadded base64url segments).',
      );
    case 'not-json':
      return new VerificationError('TOKEN_MALFORMED', `The RegisterUsage token ${defect.part} is not valid JSON.`, {
        cause: defect.cause,
      });
    case 'not-object':
      return new VerificationError('TOKEN_MALFORMED', `The RegisterUsage token ${defect.part} is not a JSON object.`);
  }
};

/** Throws {@link VerificationError} (its `code` names the failed check) unless `token` passes every check. */
export async function verifyRegistration(
  token: unknown,
  options: VerifyRegistrationOptions,
): Promise<RegistrationClaims> {
  const key: KeyObject = loadProductPublicKey(options.publicKey);
  const jws = CompactJws.read(token, refuseToken);
  // The algorithm is judged before the other segments, so an unsigned (alg none) token is reported as what it is.
  const header = jws.header();
  if (header.alg !== 'PS256') {
    throw new VerificationError(
      'ALGORITHM_NOT_ALLOWED',
      `The RegisterUsage token uses alg ${JSON.stringify(header.alg)}; only PS256 is accepted.`,
    );
  }
  // AWS sends no crit; jose honours crit b64:false, under which the verified payload is the raw segment,
  // not the base64url-decoded JSON read below.
  if (Object.hasOwn(header, 'crit')) {
    throw new VerificationError('TOKEN_MALFORMED', 'The RegisterUsage token header has a crit member; AWS sends none.');
  }
  jws.requireCanonical();
  if (!ps256Verifies(Buffer.from(jws.signingInput), jws.signature(), key)) {
    throw new VerificationError(
      'SIGNATURE_INVALID',
      'The RegisterUsage token signature does not verify under the configured public key. Check that the key is the ' +
        'one AWS issued for this product and that --public-key-version matches it; otherwise the answer was forged.',
    );
  }
  // Only a payload under a valid signature is read: a forged token is refused for its signature, whatever it holds.
  const payload = jws.payload();
  const nonce = expectClaim(payload, ['nonce', 'Nonce'], options.nonce, 'NONCE_MISMATCH', 'nonce');
  const productCode = expectClaim(
    payload,
    ['productCode', 'ProductCode'],
    options.productCode,
    'PRODUCT_CODE_MISMATCH',
    'product code',
  );
  const publicKeyVersion = expectClaim(
    payload,
    ['publicKeyVersion', 'PublicKeyVersion'],
    options.publicKeyVersion,
    'PUBLIC_KEY_VERSION_MISMATCH',
    'public key version',
    (v) => (typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : v),
  );
  return { productCode, publicKeyVersion, nonce, ...checkIssuedAt(payload.iat, options), payload };
}

/**
 * Whether `signature` is a PS256 signature of `input` under `key`. A key that cannot make one (an RSA-PSS key
 * restricted to another hash) makes none.
 */
function ps256Verifies(input: Buffer, signature: Buffer, key: KeyObject): boolean {
  try {
    return verify('sha256', input, { key, ...PS256_PARAMETERS }, signature);
  } catch {
    return false;
  }
}

function expectClaim<T extends string | number>(
  payload: Record<string, unknown>,
  names: string[],
  expected: T,
  code: string,
  label: string,
  normalize: (v: unknown) => unknown = (v) => v,
): T {
  const present = names.filter((n) => Object.hasOwn(payload, n));
  if (present.length === 0) {
    throw new VerificationError(code, `The RegisterUsage token has no ${label} claim (${names.join(' or ')}).`);
  }
  for (const name of present) {
    if (normalize(payload[name]) !== expected) {
      throw new VerificationError(
        code,
        `The RegisterUsage token's ${name} is ${JSON.stringify(payload[name])}, ` +
          `but ${JSON.stringify(expected)} was sent.`,
      );
    }
  }
  return expected;
}

type IssuedAt = Pick<RegistrationClaims, 'issuedAt' | 'issuedAtSource' | 'clockSkewSec'>;

function checkIssuedAt(iat: unknown, options: VerifyRegistrationOptions): IssuedAt {
  const nowSec = judgedAtSec(options.now);
  const { clockToleranceSec: tolerance, maxTokenAgeSec: maxAge } = iatBounds(options);
  if (!isPlausibleIat(iat)) {
    if (tolerance !== undefined || maxAge !== undefined) {
      throw new VerificationError(
        'IAT_MISSING',
        `The RegisterUsage token has no iat in NumericDate seconds (got ${JSON.stringify(iat) ?? 'none'}), so the ` +
          'clockToleranceSec / maxTokenAgeSec you set cannot be checked. Leave them unset to rely on the nonce alone.',
      );
    }
    return { issuedAt: new Date(nowSec * 1000), issuedAtSource: 'received' };
  }
  if (tolerance !== undefined && iat > nowSec + tolerance) {
    throw new VerificationError(
      'IAT_IN_FUTURE',
      `The RegisterUsage token was issued ${Math.round(iat - nowSec)} s in the future (tolerance ${tolerance} s). ` +
        "Check this host's clock (NTP).",
    );
  }
  if (maxAge !== undefined && nowSec - iat > maxAge) {
    throw new VerificationError(
      'TOKEN_TOO_OLD',
      `The RegisterUsage token was issued ${Math.round(nowSec - iat)} s ago ` +
        `(limit ${maxAge} s): a replayed or delayed answer.`,
    );
  }
  return { issuedAt: new Date(iat * 1000), issuedAtSource: 'token', clockSkewSec: Math.round(iat - nowSec) };
}

/**
 * The optional bounds on AWS's `iat`, checked (`ConfigurationError` `INVALID_OPTION`): a tolerance of finite
 * seconds, 0 or more (0: no skew allowed), an age of finite seconds above 0 (0 would refuse every token).
 * `ensureEntitled` checks them before calling AWS, so a bad bound never wastes a registration.
 *
 * @example
 * const { clockToleranceSec, maxTokenAgeSec } = iatBounds(options);
 */
export function iatBounds(
  options: Pick<VerifyRegistrationOptions, 'clockToleranceSec' | 'maxTokenAgeSec'>,
): Pick<VerifyRegistrationOptions, 'clockToleranceSec' | 'maxTokenAgeSec'> {
  return {
    clockToleranceSec: durationOption('clockToleranceSec', options.clockToleranceSec, {
      unit: 'seconds',
      allowZero: true,
    }),
    maxTokenAgeSec: durationOption('maxTokenAgeSec', options.maxTokenAgeSec, { unit: 'seconds', allowZero: false }),
  };
}

function isPlausibleIat(iat: unknown): iat is number {
  return typeof iat === 'number' && iat >= PLAUSIBLE_IAT_RANGE_SEC.min && iat < PLAUSIBLE_IAT_RANGE_SEC.max;
}
