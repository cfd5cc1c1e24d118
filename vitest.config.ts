import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Child processes, real servers and key generation: generous, but a hung test still fails.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Tests never reach a real instance metadata service.
    env: { AWS_EC2_METADATA_DISABLED: 'true' },
  },
});
