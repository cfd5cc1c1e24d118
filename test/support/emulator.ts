/**
 * The Metering emulator as a test fixture, plus the options every test passes to `ensureEntitled`.
 *
 * Generating an RSA-3072 key costs up to a second, so one key is generated per test process (vitest runs each
 * test file in its own) and shared by every emulator started here. It lives in memory only.
 *
 * @example
 * const emulator = useEmulator(); // one emulator for the file, reset after each test
 * it('is entitled', async () => {
 *   const entitlement = await ensureEntitled(emulatorOptions(emulator()));
 *   expect(emulator().calls).toHaveLength(1);
 * });
 *
 * @example
 * await withEmulator({ credentials: DUMMY_CREDENTIALS }, async (emulator) => {
 *   await ensureEntitled(emulatorOptions(emulator));
 * });
 */
import type { KeyObject } from 'node:crypto';
import { MarketplaceMeteringClient, type MarketplaceMeteringClientConfig } from '@aws-sdk/client-marketplace-metering';
import { afterAll, afterEach, beforeAll } from 'vitest';
import type { EnsureEntitledOptions } from '../../src/index.js';
import {
  startMeteringEmulator,
  type MeteringEmulator,
  type MeteringEmulatorOptions,
} from '../../src/emulator/index.js';
import { generateRsaKeyPair } from '../../src/emulator/register-usage.js';

/**
 * Dummy static credentials: the emulator checks the SigV4 format (and, when told these, the signature itself).
 * Not frozen: the SDK tags the credentials object it is given (a frozen one makes every call fail).
 */
export const DUMMY_CREDENTIALS = { accessKeyId: 'AKIDTESTEMULATOR', secretAccessKey: 'emulator-test-secret-not-real' };

export const TEST_REGION = 'eu-west-1';
export const TEST_PRODUCT_CODE = 'prod-test-0123456789';

/** Backoff small enough that a handful of retries costs milliseconds. */
export const FAST_RETRY = Object.freeze({ baseDelayMs: 5, maxDelayMs: 20 });

let signingKey: Promise<KeyObject> | undefined;

/** The emulator signing key of this test process (RSA-3072, generated on first use). */
export function testSigningKey(): Promise<KeyObject> {
  signingKey ??= generateRsaKeyPair(3072).then((pair) => pair.privateKey);
  return signingKey;
}

/** `startMeteringEmulator` with the cached signing key unless `options.privateKey` says otherwise. */
export async function startTestEmulator(options: MeteringEmulatorOptions = {}): Promise<MeteringEmulator> {
  return startMeteringEmulator({ privateKey: await testSigningKey(), ...options });
}

/** Runs `body` against a fresh emulator and closes it afterwards, whatever happens. */
export async function withEmulator<T>(
  options: MeteringEmulatorOptions,
  body: (emulator: MeteringEmulator) => Promise<T>,
): Promise<T> {
  const emulator = await startTestEmulator(options);
  try {
    return await body(emulator);
  } finally {
    await emulator.close();
  }
}

/**
 * One emulator for the whole test file: started before the first test, `reset()` after each (initial scenario,
 * no recorded calls), closed at the end. Returns an accessor because the emulator exists only once tests run.
 */
export function useEmulator(options: MeteringEmulatorOptions = {}): () => MeteringEmulator {
  let emulator: MeteringEmulator | undefined;
  beforeAll(async () => {
    emulator = await startTestEmulator(options);
  });
  afterEach(() => emulator?.reset());
  afterAll(async () => emulator?.close());
  return () => {
    if (!emulator) throw new Error('useEmulator(): the emulator exists only inside tests and hooks');
    return emulator;
  };
}

/**
 * `ensureEntitled` options aimed at `emulator`: explicit Region and dummy credentials (no discovery, no
 * metadata traffic), fast retries, a 10 s deadline and a silent logger. `overrides` win.
 */
export function emulatorOptions(
  emulator: MeteringEmulator,
  overrides: Partial<EnsureEntitledOptions> = {},
): EnsureEntitledOptions {
  return {
    productCode: TEST_PRODUCT_CODE,
    publicKey: emulator.publicKeyPem,
    ...emulatorCallOptions(emulator),
    ...overrides,
  };
}

/** How every test call reaches `emulator` (Metering and License Manager alike): Region, dummy credentials, fast retries, 10 s, silent. */
export function emulatorCallOptions(emulator: MeteringEmulator) {
  return {
    endpoint: emulator.url,
    region: TEST_REGION,
    credentials: DUMMY_CREDENTIALS,
    retry: FAST_RETRY,
    deadlineMs: 10_000,
    logger: {},
  };
}

/**
 * A bare SDK client for `emulator`: dummy credentials, `TEST_REGION`, no SDK retries (one call, one answer).
 * Call `destroy()` when done.
 */
export function emulatorClient(
  emulator: MeteringEmulator,
  config: MarketplaceMeteringClientConfig = {},
): MarketplaceMeteringClient {
  return new MarketplaceMeteringClient({
    region: TEST_REGION,
    endpoint: emulator.url,
    credentials: DUMMY_CREDENTIALS,
    maxAttempts: 1,
    ...config,
  });
}
