/**
 * marketplace-entitlement: AWS Marketplace paid-container entitlement done right.
 *
 * @example
 * import { ensureEntitled } from 'marketplace-entitlement';
 * await ensureEntitled({ productCode: 'abc123', publicKey: productPublicKeyPem });
 */
export { ensureEntitled, registerUsage, newNonce, PRODUCT_CODE_PATTERN, DEFAULT_REQUEST_TIMEOUT_MS } from './register.js';
export type { EnsureEntitledOptions, Entitlement } from './register.js';
export { verifyRegistration, DEFAULT_CLOCK_TOLERANCE_SEC, DEFAULT_MAX_TOKEN_AGE_SEC } from './verify.js';
export type { VerifyRegistrationOptions, RegistrationClaims } from './verify.js';
export {
  EntitlementError,
  NotEntitledError,
  ConfigurationError,
  VerificationError,
  ServiceUnavailableError,
  InputError,
  OutputError,
  ExitCode,
} from './errors.js';
export { loadProductPublicKey, publicKeyFingerprint, AWS_DOC_PLACEHOLDER_KEY_SHA256, MIN_RSA_BITS } from './public-key.js';
export type { PublicKeyInput } from './public-key.js';
export { resolveRegion } from './region.js';
export type { ResolvedRegion } from './region.js';
export { readEcsTaskMetadata } from './ecs-metadata.js';
export { classifyMeteringError } from './aws-errors.js';
export { backoffDelay, retryUntilDeadline, DEFAULT_RETRY_POLICY, DEFAULT_DEADLINE_MS } from './retry.js';
export type { RetryPolicy, RetryOptions } from './retry.js';
export type { Logger, LogFields } from './logger.js';
export { startMeteringEmulator } from './emulator/server.js';
export type { MeteringEmulator, MeteringEmulatorOptions } from './emulator/server.js';
export { TOKEN_FAULTS, REGISTER_USAGE_ERRORS } from './emulator/register-usage.js';
export type { TokenFault } from './emulator/register-usage.js';
export { TRANSPORT_FAULTS, EmulatorServiceError } from './emulator/types.js';
export type { EmulatorScenario, RecordedCall, OperationHandler, OperationContext, TransportFault } from './emulator/types.js';
