/**
 * The signed entitlement file: what an init container leaves for the main container as proof of a
 * verified registration (format: docs/entitlement-file.md).
 *
 * One compact JWS, newline-terminated, signed with an Ed25519 key made for this registration only. The
 * RegisterUsage nonce is the RFC 7638 thumbprint of that key, so AWS's signed answer commits to the key:
 * the file cannot be forged without AWS's private key, needs no key distribution (the public key travels
 * in the header), and names the pod or task it was made for. The private key never leaves memory.
 *
 * This module reads and verifies files; prepare-entitlement-file.ts makes and writes them, so `check` (the exec
 * probe) never loads the writing code.
 *
 * @example
 * await ensureEntitled({
 *   productCode,
 *   publicKey,
 *   entitlementFile: '/var/run/marketplace-entitlement/entitlement.jwt'
 * });
 * // later, in the main container:
 * const claims = await verifyEntitlementFileForThisInstance('/var/run/marketplace-entitlement/entitlement.jwt', {
 *   publicKey, productCode, // the instance: the platform's (kubelet pod UID, ECS task ARN)
 * });
 */
import { createHash, createPublicKey, verify } from 'node:crypto';
import { CompactJws, isCanonicalBase64url, type JwsRefusal } from '../common/compact-jws.js';
import { durationOption } from '../common/duration-option.js';
import { VerificationError } from '../common/errors.js';
import { judgedAtSec } from '../common/now-option.js';
import { readInputFile } from '../common/input-file.js';
import { resolveInstanceId, type InstanceBinding } from '../platform/instance-id.js';
import type { PublicKeyInput } from '../registration/public-key.js';
import { isPublicKeyVersion } from '../registration/public-key-version.js';
import { DEFAULT_CLOCK_TOLERANCE_SEC, verifyRegistration } from '../registration/verify.js';
import type { ProcessGuardOptions } from '../hardening/integrity.js';
import { applyHardenedProfile, checkProcessIntegrity } from '../hardening/process-guards.js';

/** The JWS `typ` of an entitlement file. */
export const ENTITLEMENT_FILE_TYPE = 'marketplace-entitlement+jwt';
/** A real file is about 2 KiB; anything far larger is not one. */
const MAX_FILE_BYTES = 64 * 1024;

/** The public Ed25519 key in the header, exactly as RFC 8037 spells it. */
export interface Ed25519PublicJwk {
  /** Key type: always `OKP`. */
  kty: 'OKP';
  /** Curve: always `Ed25519`. */
  crv: 'Ed25519';
  /** The public key, base64url. */
  x: string;
}

/** The verified content of an entitlement file. */
export interface EntitlementFileClaims {
  /** The product the registration was for. */
  productCode: string;
  /** The version of the product key AWS signed with. */
  publicKeyVersion: number;
  /** The RegisterUsage nonce: the thumbprint of the header key. */
  nonce: string;
  /** The AWS RegisterUsage JWT, verbatim. */
  registration: string;
  /** When AWS signed the registration (its `iat`); the file's `iat` when the registration has no usable `iat`. */
  registeredAt: Date;
  /**
   * `'token'`: `registeredAt` is AWS's `iat`; `'received'`: the registration has none, `registeredAt` is the file's
   * `iat`.
   */
  registeredAtSource: 'token' | 'received';
  /** When the file was signed (its `iat`). */
  issuedAt: Date;
  /** The pod UID or ECS task ARN the registration was made for, when known. */
  instance?: string;
  /** When AWS said the key version expires, if it did. */
  publicKeyRotationTimestamp?: Date;
}

/**
 * How {@link verifyEntitlementFile} checks a file: the product key, what the file must be for, and the process guards.
 */
export interface VerifyEntitlementFileOptions extends Omit<ProcessGuardOptions, 'env'> {
  /** The product's public key (AWS Marketplace Management Portal), PEM or KeyObject. */
  publicKey: PublicKeyInput;
  /** When given, the file must be for this key version. */
  publicKeyVersion?: number;
  /** When given, the file must be for this product. */
  productCode?: string;
  /** When given, the file must name this instance (a file without one is rejected). */
  instanceId?: string;
  /**
   * When given (finite seconds, above 0), a registration older than this is rejected (`FILE_TOO_OLD`): its age runs
   * from the older of AWS's token `iat` and the file's own `iat`, so re-signing an old registration does not make it
   * young. When AWS's token carries no usable `iat` (`registeredAtSource: 'received'`), only the file's `iat` bounds
   * it, and whoever signed the file chose that. Default: no limit.
   */
  maxAgeSec?: number;
  /**
   * When given, the file must carry this RegisterUsage nonce (`REGISTRATION_NOT_OURS` otherwise): the registration
   * this process made, so a file replaced after it was written (another registration, a minted file) is refused.
   */
  nonce?: string;
  /** Allowed skew for times in the future, in seconds (finite, 0 or more). Default 300. */
  clockToleranceSec?: number;
  /** The moment the file is judged at. Default: now. */
  now?: Date;
}

/** The RFC 7638 SHA-256 thumbprint (base64url) of an Ed25519 public JWK. */
export function jwkThumbprint(jwk: Ed25519PublicJwk): string {
  // RFC 7638: the required members only, lexicographic order, no whitespace.
  const canonical = `{"crv":"${jwk.crv}","kty":"${jwk.kty}","x":"${jwk.x}"}`;
  return createHash('sha256').update(canonical).digest('base64url');
}

/**
 * Reads and verifies an entitlement file. Missing or unreadable: {@link InputError}
 * `ENTITLEMENT_FILE_MISSING` / `ENTITLEMENT_FILE_UNREADABLE` (exit 66); any failed check:
 * {@link VerificationError} whose code names it (exit 65).
 *
 * @example
 * const { productCode, registeredAt } = await verifyEntitlementFile(path, { publicKey, productCode: 'abc123' });
 */
export async function verifyEntitlementFile(
  path: string,
  given: VerifyEntitlementFileOptions,
): Promise<EntitlementFileClaims> {
  const options = guarded(given, 'verifyEntitlementFile');
  const text = await readInputFile(path, {
    code: 'ENTITLEMENT_FILE',
    what: 'entitlement file',
    hint:
      'It is written by `marketplace-entitlement register` (the init ' +
      'container); check that it ran and that the volume is shared.',
    maxBytes: MAX_FILE_BYTES,
  });
  return verifyEntitlementToken(text, options);
}

/** Options of {@link verifyEntitlementFileForThisInstance}. */
export interface VerifyForThisInstanceOptions extends VerifyEntitlementFileOptions {
  /** Default `process.env` (read for explicit instance settings and the ECS metadata endpoint). */
  env?: NodeJS.ProcessEnv;
  /** Refuse (`INSTANCE_UNKNOWN`, exit 78) unless this platform names the instance. Default `none`. */
  instanceBinding?: InstanceBinding;
}

/**
 * {@link verifyEntitlementFile} for the instance this process runs as, from the one resolver
 * ({@link resolveInstanceId}): in a Kubernetes pod or an ECS task the file must name the platform's instance
 * (`INSTANCE_MISSING`, `INSTANCE_MISMATCH` otherwise), whatever `instanceId` says (a differing one is a
 * ConfigurationError). Use this, not `verifyEntitlementFile`, in an app that checks the file itself.
 *
 * @example
 * const claims = await verifyEntitlementFileForThisInstance(process.env.MARKETPLACE_ENTITLEMENT_FILE!, {
 *   publicKey,
 *   productCode: 'abc123'
 * });
 */
export async function verifyEntitlementFileForThisInstance(
  path: string,
  given: VerifyForThisInstanceOptions,
): Promise<EntitlementFileClaims> {
  const options: VerifyForThisInstanceOptions = guarded(given, 'verifyEntitlementFileForThisInstance', given.env);
  const instance = await resolveInstanceId({
    instanceId: options.instanceId,
    env: options.env,
    binding: options.instanceBinding,
  });
  return verifyEntitlementFile(path, { ...options, instanceId: instance?.instance });
}

/**
 * Verifies the text of an entitlement file (see {@link verifyEntitlementFile}), for callers that read it themselves.
 *
 * @example
 * const claims = await verifyEntitlementToken(fs.readFileSync(path, 'utf8'), { publicKey });
 */
export async function verifyEntitlementToken(
  text: string,
  given: VerifyEntitlementFileOptions,
): Promise<EntitlementFileClaims> {
  const options = guarded(given, 'verifyEntitlementToken');
  const nowSec = judgedAtSec(options.now);
  const { clockToleranceSec: tolerance, maxAgeSec } = fileTimeBounds(options);
  const { header, payload, signingInput, signature } = decodeCompactJws(text.endsWith('\n') ? text.slice(0, -1) : text);
  if (header.alg !== 'EdDSA') {
    throw new VerificationError(
      'FILE_ALGORITHM_NOT_ALLOWED',
      `The entitlement file uses alg ${JSON.stringify(header.alg)}; only EdDSA is accepted.`,
    );
  }
  if (header.typ !== ENTITLEMENT_FILE_TYPE || Object.hasOwn(header, 'crit')) {
    throw malformed(`its header must have typ "${ENTITLEMENT_FILE_TYPE}" and no crit member`);
  }
  const jwk = headerKey(header.jwk);
  if (!verify(null, Buffer.from(signingInput), createPublicKey({ key: { ...jwk }, format: 'jwk' }), signature)) {
    throw new VerificationError(
      'FILE_SIGNATURE_INVALID',
      'The entitlement file signature does not verify under the key in its header: the file was altered.',
    );
  }
  const claims = fileClaims(payload);
  if (claims.nonce !== jwkThumbprint(jwk)) {
    throw new VerificationError(
      'NONCE_NOT_KEY_THUMBPRINT',
      'The entitlement file nonce is not the thumbprint of its signing key: the file was re-signed with another key.',
    );
  }
  if (claims.iat > nowSec + tolerance) {
    throw new VerificationError(
      'FILE_IAT_IN_FUTURE',
      `The entitlement file was signed ${Math.round(claims.iat - nowSec)} s in the future ` +
        `(tolerance ${tolerance} s). Check this host's clock (NTP).`,
    );
  }
  const registration = await verifyInnerRegistration(claims, options);
  expectMatch('PRODUCT_CODE_MISMATCH', 'product code', claims.productCode, options.productCode);
  expectMatch('PUBLIC_KEY_VERSION_MISMATCH', 'public key version', claims.publicKeyVersion, options.publicKeyVersion);
  if (options.instanceId !== undefined) {
    if (claims.instance === undefined) {
      throw new VerificationError(
        'INSTANCE_MISSING',
        `The entitlement file names no instance, but it must be for ${JSON.stringify(options.instanceId)}. ` +
          'Register with --instance-id (or POD_UID set from the downward API) so the file is bound to its pod.',
      );
    }
    expectMatch('INSTANCE_MISMATCH', 'instance', claims.instance, options.instanceId);
  }
  if (options.nonce !== undefined && claims.nonce !== options.nonce) {
    throw new VerificationError(
      'REGISTRATION_NOT_OURS',
      'The entitlement file holds another registration than the one ' +
        'this process made: it was replaced after it was written.',
    );
  }
  const agedFromSec = registrationAgedFrom(claims.iat, registration);
  if (maxAgeSec !== undefined && nowSec - agedFromSec > maxAgeSec) {
    const what =
      agedFromSec < claims.iat
        ? "AWS's registration inside the entitlement file was signed"
        : 'The entitlement file was signed';
    throw new VerificationError(
      'FILE_TOO_OLD',
      `${what} ${Math.round(nowSec - agedFromSec)} s ago, more than the ${maxAgeSec} s allowed. Register again.`,
    );
  }
  return {
    productCode: claims.productCode,
    publicKeyVersion: claims.publicKeyVersion,
    nonce: claims.nonce,
    registration: claims.registration,
    registeredAt: registration.issuedAt,
    registeredAtSource: registration.issuedAtSource,
    issuedAt: new Date(claims.iat * 1000),
    ...(claims.instance !== undefined && { instance: claims.instance }),
    ...(claims.publicKeyRotationTimestamp !== undefined && {
      publicKeyRotationTimestamp: new Date(claims.publicKeyRotationTimestamp * 1000),
    }),
  };
}

/**
 * The time bounds of file verification, checked (`ConfigurationError` `INVALID_OPTION`): `clockToleranceSec`
 * finite seconds, 0 or more (default {@link DEFAULT_CLOCK_TOLERANCE_SEC}); `maxAgeSec` finite seconds above 0 (0
 * would refuse every file). The gate checks them when it is created, not at its first request.
 *
 * @example
 * const { clockToleranceSec, maxAgeSec } = fileTimeBounds(options);
 */
export function fileTimeBounds(options: Pick<VerifyEntitlementFileOptions, 'clockToleranceSec' | 'maxAgeSec'>): {
  clockToleranceSec: number;
  maxAgeSec: number | undefined;
} {
  return {
    clockToleranceSec: durationOption(
      'clockToleranceSec',
      options.clockToleranceSec,
      { unit: 'seconds', allowZero: true },
      DEFAULT_CLOCK_TOLERANCE_SEC,
    ),
    maxAgeSec: durationOption('maxAgeSec', options.maxAgeSec, { unit: 'seconds', allowZero: false }),
  };
}

/**
 * Where a file's age runs from, in seconds: the older of its own `iat` and AWS's token `iat` (when the token has a
 * usable one). The file's `iat` is chosen by whoever signed the file; AWS's is not.
 */
function registrationAgedFrom(
  fileIatSec: number,
  registration: { issuedAt: Date; issuedAtSource: 'token' | 'received' },
): number {
  return registration.issuedAtSource === 'token'
    ? Math.min(fileIatSec, Math.floor(registration.issuedAt.getTime() / 1000))
    : fileIatSec;
}

/**
 * When a verified file's `maxAgeSec` runs out: from the older of `registeredAt` (AWS's `iat`) and `issuedAt`.
 *
 * @example const expiresAtMs = entitlementFileExpiry(claims, 3600);
 */
export function entitlementFileExpiry(
  claims: Pick<EntitlementFileClaims, 'issuedAt' | 'registeredAt' | 'registeredAtSource'>,
  maxAgeSec: number,
): number {
  const agedFromSec = registrationAgedFrom(claims.issuedAt.getTime() / 1000, {
    issuedAt: claims.registeredAt,
    issuedAtSource: claims.registeredAtSource,
  });
  return agedFromSec * 1000 + maxAgeSec * 1000;
}

/**
 * The process guards of a verifying entry point, checked now (before its first await, so `hardened`'s SIGUSR1 guard
 * is in place), and the options without them: a nested call does not check again.
 */
function guarded<T extends VerifyEntitlementFileOptions>(
  options: T,
  entryPoint: string,
  env?: NodeJS.ProcessEnv,
): Omit<T, 'hardened' | 'codeInjection' | 'allowedPreloads' | 'mountedCode'> {
  const {
    hardened: _applied,
    codeInjection,
    allowedPreloads,
    mountedCode,
    ...expectations
  } = applyHardenedProfile(options, entryPoint, { reachesAws: false });
  checkProcessIntegrity({ codeInjection, allowedPreloads, mountedCode, ...(env && { env }) });
  return expectations;
}

/** A decoded compact JWS. Every segment must be canonical base64url, so no two texts carry the same bytes. */
export interface DecodedJws {
  /** The protected header. */
  header: Record<string, unknown>;
  /** The payload's claims. */
  payload: Record<string, unknown>;
  /** `<header>.<payload>` as received: what the signature covers. */
  signingInput: string;
  /** The signature bytes. */
  signature: Buffer;
}

/**
 * Splits and decodes a compact JWS without verifying it; throws {@link VerificationError} `FILE_MALFORMED`.
 *
 * @example
 * const { header } = decodeCompactJws(token); // header.alg
 */
export function decodeCompactJws(token: string): DecodedJws {
  const jws = CompactJws.read(token, refuseFile);
  jws.requireCanonical();
  return { header: jws.header(), payload: jws.payload(), signingInput: jws.signingInput, signature: jws.signature() };
}

/** The entitlement file's words for a text that is not a compact JWS of two JSON objects. */
const refuseFile: JwsRefusal = (defect) => {
  switch (defect.kind) {
    case 'not-compact':
      return malformed('it is not a compact JWS (three non-empty unpadded base64url segments)');
    case 'not-canonical':
      return malformed('a segment is not canonical base64url');
    case 'not-json':
      return malformed(`its ${defect.part} is not JSON`);
    case 'not-object':
      return malformed(`its ${defect.part} is not a JSON object`);
  }
};

function malformed(why: string): VerificationError {
  return new VerificationError('FILE_MALFORMED', `The entitlement file is malformed: ${why}.`);
}

/** The header key: a public Ed25519 OKP key with exactly kty, crv and x (a `d` member is refused). */
function headerKey(value: unknown): Ed25519PublicJwk {
  const jwk = value as Record<string, unknown> | null;
  const members = jwk && typeof jwk === 'object' ? Object.keys(jwk).sort().join(',') : '';
  if (
    members !== 'crv,kty,x' ||
    jwk!.kty !== 'OKP' ||
    jwk!.crv !== 'Ed25519' ||
    typeof jwk!.x !== 'string' ||
    !/^[A-Za-z0-9_-]{43}$/.test(jwk!.x)
  ) {
    throw new VerificationError(
      'FILE_KEY_INVALID',
      'The entitlement file header jwk must be a public Ed25519 key ' +
        'with exactly the members kty "OKP", crv "Ed25519" and x.',
    );
  }
  if (!isCanonicalBase64url(jwk!.x as string)) throw malformed('its header key x is not canonical base64url');
  return { kty: 'OKP', crv: 'Ed25519', x: jwk!.x as string };
}

interface FilePayload {
  productCode: string;
  publicKeyVersion: number;
  nonce: string;
  registration: string;
  iat: number;
  instance?: string;
  publicKeyRotationTimestamp?: number;
}

function fileClaims(payload: Record<string, unknown>): FilePayload {
  const wrong = (name: string, kind: string) => malformed(`its payload ${name} must be ${kind}`);
  for (const name of ['productCode', 'nonce', 'registration'] as const) {
    if (typeof payload[name] !== 'string' || payload[name] === '') throw wrong(name, 'a non-empty string');
  }
  if (!isPublicKeyVersion(payload.publicKeyVersion)) throw wrong('publicKeyVersion', 'an integer from 1 to 2147483647');
  if (!Number.isSafeInteger(payload.iat) || (payload.iat as number) < 0)
    throw wrong('iat', 'an integer number of seconds');
  if (payload.instance !== undefined && (typeof payload.instance !== 'string' || payload.instance === ''))
    throw wrong('instance', 'a non-empty string when present');
  if (payload.publicKeyRotationTimestamp !== undefined && !Number.isSafeInteger(payload.publicKeyRotationTimestamp)) {
    throw wrong('publicKeyRotationTimestamp', 'an integer number of seconds when present');
  }
  return payload as unknown as FilePayload;
}

const CLAIM_MISMATCHES = new Set(['NONCE_MISMATCH', 'PRODUCT_CODE_MISMATCH', 'PUBLIC_KEY_VERSION_MISMATCH']);

/**
 * The AWS token inside, judged at the file's iat: its claims must be the file's. Its own `iat` is advisory, as at
 * registration (src/registration/verify.ts): the nonce, the thumbprint of the key that signed this file, already proves
 * the registration was made for this file.
 */
async function verifyInnerRegistration(claims: FilePayload, options: VerifyEntitlementFileOptions) {
  try {
    return await verifyRegistration(claims.registration, {
      publicKey: options.publicKey,
      productCode: claims.productCode,
      publicKeyVersion: claims.publicKeyVersion,
      nonce: claims.nonce,
      now: new Date(claims.iat * 1000),
    });
  } catch (err) {
    if (!(err instanceof VerificationError)) throw err;
    const code = CLAIM_MISMATCHES.has(err.code) ? 'CLAIMS_DIFFER_FROM_REGISTRATION' : err.code;
    throw new VerificationError(code, `The registration inside the entitlement file fails a check: ${err.message}`, {
      cause: err,
    });
  }
}

function expectMatch(
  code: string,
  label: string,
  actual: string | number,
  expected: string | number | undefined,
): void {
  if (expected !== undefined && actual !== expected) {
    throw new VerificationError(
      code,
      `The entitlement file is for ${label} ${JSON.stringify(actual)}, but ${JSON.stringify(expected)} is expected.`,
    );
  }
}
