import { configDefaults, defineConfig } from 'vitest/config';

/**
 * The tests that need programs beyond Node and npm. `npm test` leaves them out, so it passes on a machine with only
 * Node and npm; `npm run test:interop` (vitest.interop.config.ts) runs them after scripts/interop-tools.sh installed
 * what is missing. Each fails, never skips, when its program is missing.
 */
export const INTEROP_TESTS = [
  // Debian's python3-botocore, python3-jwt and awscli (AWS CLI v2): independent clients of the emulator and verifier.
  'test/cli/independent-clients.test.ts',
  // python3 with cryptography: the reference entitlement-file verifier in docs/examples.
  'test/cli/python-verifier.test.ts',
];

/** What every run shares. */
export const shared = {
  // Child processes, real servers and key generation: generous, but a hung test still fails.
  testTimeout: 60_000,
  hookTimeout: 60_000,
  // Tests never reach a real instance metadata service. The SDK's Node 20 notice is for users, not the test log.
  env: { AWS_EC2_METADATA_DISABLED: 'true', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
};

export default defineConfig({
  test: { ...shared, include: ['test/**/*.test.ts'], exclude: [...configDefaults.exclude, ...INTEROP_TESTS] },
});
