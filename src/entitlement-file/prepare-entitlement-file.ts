/**
 * Making an entitlement file (format: docs/entitlement-file.md): the one-time Ed25519 key whose thumbprint is the
 * RegisterUsage nonce, then, once AWS's answer is verified, the signed file written atomically. Kept apart from
 * entitlement-file.ts so `check`, which only reads, never loads the writing code.
 *
 * @example
 * const pending = await prepareEntitlementFile({ ...options, entitlementFile: '/tmp/e.jwt' });
 * const entitlement = await pending.write(await registerUsage(options, pending.nonce));
 */
import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { prepareOutputPath, writeFileAtomic } from '../common/atomic-write.js';
import { ServiceUnavailableError } from '../common/errors.js';
import { resolveInstanceId } from '../platform/instance-id.js';
import type { EnsureEntitledOptions, Entitlement } from '../registration/types.js';
import { ENTITLEMENT_FILE_TYPE, jwkThumbprint, type Ed25519PublicJwk } from './entitlement-file.js';

/** A pending entitlement file: the nonce to register with, and how to write the file once registered. */
export interface PendingEntitlementFile {
  /** The nonce to send to RegisterUsage: the RFC 7638 thumbprint of the file's Ed25519 key. */
  nonce: string;
  /** Signs the verified entitlement with that key and writes the file atomically. */
  write(entitlement: Entitlement): Promise<Entitlement>;
}

/**
 * Prepares `options.entitlementFile` before RegisterUsage is called: resolves the instance, makes sure the
 * directory can exist (an unwritable `--out` fails before any network call) and makes the one-time key
 * whose thumbprint is the nonce. Used by `ensureEntitled`.
 *
 * @example
 * const pending = await prepareEntitlementFile({ ...options, entitlementFile: '/tmp/e.jwt' });
 * const entitlement = await pending.write(await registerUsage(options, pending.nonce));
 */
export async function prepareEntitlementFile(
  options: EnsureEntitledOptions & { entitlementFile: string },
): Promise<PendingEntitlementFile> {
  const path = options.entitlementFile;
  const resolved = await resolveInstanceId({
    instanceId: options.instanceId,
    env: options.env,
    binding: options.instanceBinding,
  });
  await prepareOutputPath(path);
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const jwk = publicJwk(publicKey);
  const nonce = jwkThumbprint(jwk);
  return {
    nonce,
    async write(entitlement) {
      const instance = resolved?.instance;
      const file = signEntitlement(privateKey, jwk, entitlement, instance);
      if (options.signal?.aborted) throw aborted(path, entitlement.attempts);
      await writeFileAtomic(path, file, { mode: 0o644, signal: options.signal }).catch((err: unknown) => {
        throw options.signal?.aborted ? aborted(path, entitlement.attempts) : err;
      });
      return { ...entitlement, entitlementFile: path, ...(instance !== undefined && { instance }) };
    },
  };
}

function aborted(path: string, attempts: number): ServiceUnavailableError {
  return new ServiceUnavailableError('ABORTED', `Stopped before ${path} was written; nothing was written.`, attempts);
}

function publicJwk(key: KeyObject): Ed25519PublicJwk {
  const { x } = key.export({ format: 'jwk' });
  return { kty: 'OKP', crv: 'Ed25519', x: x! };
}

/** The file's text: `header.payload.signature` and a newline. */
function signEntitlement(
  privateKey: KeyObject,
  jwk: Ed25519PublicJwk,
  entitlement: Entitlement,
  instance: string | undefined,
): string {
  const header = { alg: 'EdDSA', typ: ENTITLEMENT_FILE_TYPE, jwk };
  const payload = {
    productCode: entitlement.productCode,
    publicKeyVersion: entitlement.publicKeyVersion,
    nonce: entitlement.nonce,
    registration: entitlement.registration,
    iat: Math.floor(Date.now() / 1000),
    ...(instance !== undefined && { instance }),
    ...(entitlement.publicKeyRotationTimestamp && {
      publicKeyRotationTimestamp: Math.floor(entitlement.publicKeyRotationTimestamp.getTime() / 1000),
    }),
  };
  const signingInput = `${encode(header)}.${encode(payload)}`;
  return `${signingInput}.${sign(null, Buffer.from(signingInput), privateKey).toString('base64url')}\n`;
}

function encode(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}
