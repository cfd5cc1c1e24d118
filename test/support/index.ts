/**
 * Shared test helpers: import from `./index.js`.
 *
 * - emulator.ts: `useEmulator()` / `withEmulator()` / `startTestEmulator()` (one cached RSA-3072 key per test
 *   process), `emulatorOptions()` for `ensureEntitled`, `DUMMY_CREDENTIALS`, `TEST_REGION`, `FAST_RETRY`.
 * - metadata-servers.ts: a local stand-in for EC2 IMDSv2, and `startStubServer()`. (ECS task metadata, ECS
 *   container credentials and STS are the emulator's: `startMeteringEmulator({ ecs, roleCredentials })`.)
 * - aws-as-production.ts: `startAwsAsProduction()`, AWS reached as in production (its own host names over TLS, no
 *   endpoint setting) in a private network and mount namespace.
 * - bundle.ts: `copyBundle()`, the shipped CLI bundle alone in a directory.
 * - logger.ts: `recordingLogger()`.
 * - tokens.ts: `signToken()`, `encodeSegment()`, `replaceSegment()` for hand-made JWTs.
 * - rejection.ts: `rejectionOf(promise, ErrorClass)` returns the typed rejection.
 * - expected-outcomes.ts: `TOKEN_FAULT_CODES`, `REGISTER_USAGE_ERROR_OUTCOMES`: what each emulator fault ends in.
 *
 * @example
 * import { useEmulator, emulatorOptions, recordingLogger } from './index.js';
 */
export * from './emulator.js';
export * from './metadata-servers.js';
export * from './bundle.js';
export * from './logger.js';
export * from './tokens.js';
export * from './expected-outcomes.js';
export * from './rejection.js';
export * from './license.js';
export * from './aws-as-production.js';
