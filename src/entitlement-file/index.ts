/// <reference types="node" preserve="true" />
/**
 * marketplace-entitlement/entitlement-file: the signed entitlement file (docs/entitlement-file.md). Its format and
 * verification, making one and reusing a valid one, its default path, and `inspect`. `ensureEntitled({
 * entitlementFile })` from the root writes one too.
 *
 * @example
 * import { readFileSync } from 'node:fs';
 * import {
 *   DEFAULT_ENTITLEMENT_FILE,
 *   verifyEntitlementFileForThisInstance
 * } from 'marketplace-entitlement/entitlement-file';
 * const claims = await verifyEntitlementFileForThisInstance(DEFAULT_ENTITLEMENT_FILE, {
 *   publicKey: readFileSync('/etc/marketplace/product-key.pem', 'utf8'),
 *   productCode: 'abc123example',
 * });
 * console.log(`registered at ${claims.registeredAt.toISOString()} for ${claims.instance}`);
 */
export {
  verifyEntitlementFile,
  verifyEntitlementToken,
  verifyEntitlementFileForThisInstance,
  jwkThumbprint,
  ENTITLEMENT_FILE_TYPE,
} from './entitlement-file.js';
export type {
  EntitlementFileClaims,
  VerifyEntitlementFileOptions,
  Ed25519PublicJwk,
  VerifyForThisInstanceOptions,
} from './entitlement-file.js';
export { prepareEntitlementFile } from './prepare-entitlement-file.js';
export type { PendingEntitlementFile } from './prepare-entitlement-file.js';
export { DEFAULT_ENTITLEMENT_FILE, ENTITLEMENT_FILE_ENV, entitlementFilePath } from './entitlement-file-path.js';
export { ensureEntitlementFile } from './ensure-entitlement-file.js';
export type { EntitlementFileOutcome, EnsureEntitlementFileOptions } from './ensure-entitlement-file.js';
export { inspectToken, formatInspection } from './inspect.js';
export type { Inspection, InspectOptions } from './inspect.js';
