// The public types use Node's (KeyObject, NodeJS.ProcessEnv, http handlers): TypeScript 7 loads no @types by default,
// so the emitted index.d.ts names them itself. A consumer needs @types/node installed, and no "types" setting.
/// <reference types="node" preserve="true" />
/**
 * marketplace-entitlement: AWS Marketplace paid-container entitlement done right.
 *
 * @example
 * import { ensureEntitled } from 'marketplace-entitlement';
 * await ensureEntitled({ productCode: 'abc123', publicKey: productPublicKeyPem });
 */
export { ensureEntitled, registerUsage, newNonce, PRODUCT_CODE_PATTERN, DEFAULT_REQUEST_TIMEOUT_MS } from './registration/register.js';
export type { EnsureEntitledOptions, Entitlement } from './registration/types.js';
export { verifyRegistration, DEFAULT_CLOCK_TOLERANCE_SEC, PLAUSIBLE_IAT_RANGE_SEC } from './registration/verify.js';
export type { VerifyRegistrationOptions, RegistrationClaims } from './registration/verify.js';
export {
  verifyEntitlementFile,
  verifyEntitlementToken,
  verifyEntitlementFileForThisInstance,
  decodeCompactJws,
  jwkThumbprint,
  ENTITLEMENT_FILE_TYPE,
} from './entitlement-file/entitlement-file.js';
export type {
  EntitlementFileClaims,
  VerifyEntitlementFileOptions,
  Ed25519PublicJwk,
  DecodedJws,
  VerifyForThisInstanceOptions,
} from './entitlement-file/entitlement-file.js';
export { prepareEntitlementFile } from './entitlement-file/prepare-entitlement-file.js';
export type { PendingEntitlementFile } from './entitlement-file/prepare-entitlement-file.js';
export { DEFAULT_ENTITLEMENT_FILE, ENTITLEMENT_FILE_ENV, entitlementFilePath } from './entitlement-file/entitlement-file-path.js';
export { readInputFile } from './common/input-file.js';
export type { InputFileOptions } from './common/input-file.js';
export { resolveInstanceId, INSTANCE_BINDINGS } from './platform/instance-id.js';
export type { ResolvedInstance, ResolveInstanceOptions, InstanceBinding, InstanceSource } from './platform/instance-id.js';
export { findCodeInjection, CODE_LOADING_VARIABLES } from './hardening/integrity.js';
export { checkProcessIntegrity } from './hardening/process-guards.js';
export type { ProcessGuardOptions, GuardMode } from './hardening/integrity.js';
export { parseMountInfo, podUidsInMounts, readMountInfo } from './platform/mountinfo.js';
export type { MountEntry } from './platform/mountinfo.js';
export { inspectToken, formatInspection } from './entitlement-file/inspect.js';
export type { Inspection, InspectOptions } from './entitlement-file/inspect.js';
export { ensureEntitlementFile } from './entitlement-file/ensure-entitlement-file.js';
export type { EntitlementFileOutcome, EnsureEntitlementFileOptions } from './entitlement-file/ensure-entitlement-file.js';
export { serveEntitlement } from './gates/serve.js';
export type { ServeEntitlementOptions, EntitlementService } from './gates/serve.js';
export { runEntitled, FORWARDED_SIGNALS } from './gates/run-entitled.js';
export type { RunEntitledOptions } from './gates/run-entitled.js';
export { formatMetrics, PROMETHEUS_CONTENT_TYPE } from './gates/prometheus.js';
export type { Metric } from './gates/prometheus.js';
export {
  EntitlementError,
  NotEntitledError,
  ConfigurationError,
  VerificationError,
  ServiceUnavailableError,
  InputError,
  OutputError,
  UntrustedServerError,
  ValidationError,
  ExitCode,
} from './common/errors.js';
export { loadProductPublicKey, publicKeyFingerprint, AWS_DOC_PLACEHOLDER_KEY_SHA256, MIN_RSA_BITS, MAX_RSA_BITS, RSA_PUBLIC_EXPONENT } from './registration/public-key.js';
export type { PublicKeyInput } from './registration/public-key.js';
export { createEntitlementGate } from './gates/gate.js';
export type { EntitlementGate, EntitlementGateOptions, EntitlementGateStatus, EntitlementGateStats } from './gates/gate.js';
export { resolveRegion } from './platform/region.js';
export type { ResolvedRegion } from './platform/region.js';
export { readEcsTaskMetadata } from './platform/ecs-metadata.js';
export { classifyMeteringError } from './metering/errors.js';
export { meteringClient } from './metering/client.js';
export type { MeteringClientOptions } from './metering/client.js';
export { amazonRootCertificates, DEFAULT_TLS_ROOTS } from './aws/tls-roots.js';
export type { TlsRoots } from './aws/tls-roots.js';
export { meterUsage } from './metering/meter-usage.js';
export type { MeterUsageResult } from './metering/meter-usage.js';
export { batchMeterUsage, UnprocessedRecordsError } from './metering/batch-meter-usage.js';
export type { BatchMeterUsageResult } from './metering/batch-meter-usage.js';
export { resolveCustomer } from './metering/resolve-customer.js';
export type { ResolvedCustomer } from './metering/resolve-customer.js';
export type { MeteringCallOptions } from './metering/call.js';
export {
  validateMeterUsageInput,
  validateBatchMeterUsageInput,
  validateResolveCustomerInput,
  validateRegisterUsageInput,
  METER_USAGE_MAX_AGE_MS,
  BATCH_METER_USAGE_MAX_AGE_MS,
} from './metering/validation.js';
export type {
  MeterUsageInput,
  BatchMeterUsageInput,
  UsageRecordInput,
  UsageAllocationInput,
  TagInput,
  ResolveCustomerInput,
  RegisterUsageInput,
  TimestampInput,
} from './metering/validation.js';
export { create } from './metering/datafire-client.js';
export type { DataFireAccount, MeteringMarketplaceClient } from './metering/datafire-client.js';
export { createUsageMeter, usageClientToken } from './metering/usage-meter.js';
export type { UsageMeter, UsageMeterOptions, FlushReport, FlushOptions, SentUsage, LostUsage, FailedUsage } from './metering/usage-meter.js';
export type { UsageMeterStats } from './metering/usage-meter.js';
export { handleUsageRequest, isLoopbackAddress, USAGE_PATH } from './metering/usage-endpoint.js';
export { backoffDelay, backoffWindow, retryUntilDeadline, DEFAULT_RETRY_POLICY, DEFAULT_DEADLINE_MS } from './aws/retry.js';
export type { RetryPolicy, RetryOptions } from './aws/retry.js';
export type { Logger, LoggerLike, LogFields } from './common/logger.js';
export { startMeteringEmulator } from './emulator/server.js';
export type { MeteringEmulator, MeteringEmulatorOptions } from './emulator/server.js';
export { REGISTER_USAGE_ERRORS } from './emulator/register-usage.js';
export { TOKEN_FAULTS, TOKEN_IAT_VARIANTS, TRANSPORT_FAULTS, EmulatorServiceError } from './emulator/types.js';
export type { EmulatorScenario, RecordedCall, OperationHandler, OperationContext, TokenFault, TokenIatVariant, TransportFault, RegistrationTokenGrant, RoleCredentials } from './emulator/types.js';
export type { EcsStandInOptions, EcsStandIns } from './emulator/ecs.js';
export { createTestCertificateAuthority } from './emulator/certificates.js';
export type { TestCertificateAuthority, ServerNames, ServerCertificate } from './emulator/certificates.js';
export { awsHostNames } from './emulator/aws-host-names.js';
export type { AwsHostNames } from './emulator/aws-host-names.js';
export { meteringOperations } from './emulator/metering-operations.js';
export { acquireLicense, AWS_MARKETPLACE_KEY_FINGERPRINT, DEFAULT_RECHECK_MS, CHECKOUT_TYPES, parseAwsTime } from './license/lease.js';
export type { AcquireLicenseOptions, Lease, LeaseStatus, RequestedEntitlement, AllowedEntitlement, CheckoutTypeName } from './license/lease.js';
export { classifyLicenseManagerError, LICENSE_MANAGER_ERRORS, LICENSE_MANAGER_ACTIONS } from './license/errors.js';
export { licenseManagerClient, callLicenseManager } from './license/call.js';
export type { LicenseManagerClientOptions, LicenseManagerCallOptions, LicenseManagerOperation } from './license/call.js';
export { createLicenseManagerEmulator } from './emulator/license-manager.js';
export type { LicenseManagerEmulator, LicenseManagerScenario, EmulatedLicense, EmulatedLicenseInput, EmulatedEntitlement } from './emulator/license-manager.js';
export { ensureMeteringEntitled } from './metering/custom-entitlement.js';
export type { MeteringEntitlementOptions, MeteringEntitlement } from './metering/custom-entitlement.js';
