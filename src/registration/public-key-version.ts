/**
 * The version of a product's public key, as RegisterUsage takes it and AWS signs it back: the one rule shared by
 * registration, the DataFire client's input checks, the entitlement file and the sealed CLI. A module of its own,
 * with no imports, so the exec probe (`check`) reads it without the Metering API's input rules.
 *
 * @example
 * if (!isPublicKeyVersion(version)) throw new Error(`a whole number from 1 to ${MAX_PUBLIC_KEY_VERSION}`);
 */

/** The version assumed when none is given: a product's first key is version 1. */
export const DEFAULT_PUBLIC_KEY_VERSION = 1;

/** RegisterUsage's PublicKeyVersion is the model's `integer`: 32-bit signed, at least 1. */
export const MAX_PUBLIC_KEY_VERSION = 2_147_483_647;

/**
 * A RegisterUsage PublicKeyVersion: a whole number from 1 to 2^31-1 (the API model's 32-bit integer).
 *
 * @example isPublicKeyVersion(2 ** 31) // false
 */
export function isPublicKeyVersion(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= MAX_PUBLIC_KEY_VERSION;
}
