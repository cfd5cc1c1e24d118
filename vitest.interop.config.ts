import { defineConfig } from 'vitest/config';
import { INTEROP_TESTS, shared } from './vitest.config.js';

/** `npm run test:interop`: the tests that need python3 libraries, the AWS CLI or kubectl (see INTEROP_TESTS). */
export default defineConfig({ test: { ...shared, include: INTEROP_TESTS } });
