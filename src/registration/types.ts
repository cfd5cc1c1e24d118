/**
 * What `ensureEntitled` takes and returns. Apart from register.ts so that the entitlement-file code register.ts calls
 * (prepare-entitlement-file.ts) can name them without importing register.ts back.
 *
 * @example
 * const options: EnsureEntitledOptions = { productCode: 'abc123example', publicKey: productPublicKeyPem };
 * const entitlement: Entitlement = await ensureEntitled(options);
 */
import type { ProcessGuardOptions } from '../hardening/integrity.js';
import type { MeteringCallOptions } from '../metering/call.js';
import type { InstanceBinding } from '../platform/instance-id.js';
import type { PublicKeyInput } from './public-key.js';
import type { RegistrationClaims } from './verify.js';

/**
 * Also: `region`, `endpoint`, `credentials`, `client`, `requestTimeoutMs`, `env`, `deadlineMs`, `retry`, `signal`,
 * `logger`.
 */
export interface EnsureEntitledOptions extends Omit<MeteringCallOptions, 'now'>, Omit<ProcessGuardOptions, 'env'> {
  /** The product code from the AWS Marketplace Management Portal. */
  productCode: string;
  /** The public key AWS issued for this product and `publicKeyVersion` (PEM or KeyObject). There is no default. */
  publicKey: PublicKeyInput;
  /** The version of `publicKey`. Default 1. */
  publicKeyVersion?: number;
  /**
   * When set (finite seconds, 0 or more), a token `iat` this far ahead of the local clock is refused. Default: advisory
   * (a warning only).
   */
  clockToleranceSec?: number;
  /**
   * When set (finite seconds, above 0), a token `iat` older than this is refused. Default: advisory (the nonce already
   * proves freshness).
   */
  maxTokenAgeSec?: number;
  /** When given, a signed entitlement file is written there (docs/entitlement-file.md). Default: no file. */
  entitlementFile?: string;
  /**
   * The instance the file is bound to where the platform names none (off Kubernetes and ECS). Where it names one
   * (the kubelet's pod UID, the ECS task ARN) that is used, and a differing value here is a ConfigurationError.
   */
  instanceId?: string;
  /** Fail closed (`INSTANCE_UNKNOWN`) unless this platform names the instance. Default `none`. */
  instanceBinding?: InstanceBinding;
}

/** A verified registration. */
export interface Entitlement {
  /** The product the registration was for. */
  productCode: string;
  /** The version of the product key AWS signed with. */
  publicKeyVersion: number;
  /** The nonce sent and found again in the signed answer. */
  nonce: string;
  /** When AWS signed the registration (`iat`), or when its answer arrived if the token has no usable `iat`. */
  issuedAt: Date;
  /** `'token'`: `issuedAt` is AWS's `iat`; `'received'`: the local time the answer arrived. */
  issuedAtSource: RegistrationClaims['issuedAtSource'];
  /** The AWS JWT, verbatim. */
  registration: string;
  /** Present when AWS says `publicKeyVersion` has expired: rotate to the new key. */
  publicKeyRotationTimestamp?: Date;
  /** RegisterUsage calls made, retries included. */
  attempts: number;
  /** The Region the call went to. */
  region: string;
  /** Where the entitlement file was written, when `entitlementFile` was given. */
  entitlementFile?: string;
  /** The instance the entitlement file is bound to, when known. */
  instance?: string;
}
