/// <reference types="node" preserve="true" />
/**
 * marketplace-entitlement/emulator: a local, wire-compatible AWS Marketplace Metering Service and AWS License
 * Manager, for tests and demos with no AWS account. The unmodified AWS SDK talks to it through `endpoint`; faults,
 * throttling and token variants are set per test through `scenario`, and every call is recorded. Also: a test
 * certificate authority and AWS's host names, to serve it over TLS as AWS would be (docs/aws-as-production.md).
 * Never import it in production code: it signs with keys it makes itself.
 *
 * @example
 * import { ensureEntitled } from 'marketplace-entitlement';
 * import { startMeteringEmulator } from 'marketplace-entitlement/emulator';
 * const emulator = await startMeteringEmulator();
 * await ensureEntitled({
 *   productCode: 'prod-abc', publicKey: emulator.publicKeyPem, endpoint: emulator.url, region: 'us-east-1',
 *   credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
 * });
 * await emulator.close();
 */
export { startMeteringEmulator } from './server.js';
export type { MeteringEmulator, MeteringEmulatorOptions } from './server.js';
export { REGISTER_USAGE_ERRORS } from './register-usage.js';
export { TOKEN_FAULTS, TOKEN_IAT_VARIANTS } from './types.js';
export type { TokenFault, TokenIatVariant } from './types.js';
export { TRANSPORT_FAULTS, EmulatorServiceError } from './types.js';
export type {
  EmulatorScenario,
  RecordedCall,
  OperationHandler,
  OperationContext,
  TransportFault,
  RegistrationTokenGrant,
  RoleCredentials,
} from './types.js';
export { meteringOperations } from './metering-operations.js';
export type { EcsStandInOptions, EcsStandIns } from './ecs.js';
export { createLicenseManagerEmulator } from './license-manager.js';
export type {
  LicenseManagerEmulator,
  LicenseManagerScenario,
  EmulatedLicense,
  EmulatedLicenseInput,
  EmulatedEntitlement,
} from './license-manager.js';
export { createTestCertificateAuthority } from './certificates.js';
export type { TestCertificateAuthority, ServerNames, ServerCertificate } from './certificates.js';
export { awsHostNames } from './aws-host-names.js';
export type { AwsHostNames } from './aws-host-names.js';
