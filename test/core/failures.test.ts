/**
 * Every way RegisterUsage can fail, end to end through the real SDK: spoiled tokens (VerificationError), modelled
 * AWS errors (their class, code and exit code) and unmodelled client errors (ConfigurationError).
 */
import { describe, expect, it } from 'vitest';
import {
  ConfigurationError,
  ensureEntitled,
  EntitlementError,
  ExitCode,
  NotEntitledError,
  ServiceUnavailableError,
  VerificationError,
} from '../../src/index.js';
import { REGISTER_USAGE_ERRORS, TOKEN_FAULTS, type TransportFault } from '../../src/emulator/index.js';
import {
  DUMMY_CREDENTIALS,
  emulatorOptions,
  REGISTER_USAGE_ERROR_OUTCOMES,
  rejectionOf,
  TOKEN_FAULT_CODES,
  useEmulator,
  withEmulator,
} from '../support/index.js';

const emulator = useEmulator();

/** The typed error class for each exit code an AWS error can end in. */
const CLASS_BY_EXIT_CODE: Record<number, new (...args: never[]) => EntitlementError> = {
  [ExitCode.NOT_ENTITLED]: NotEntitledError,
  [ExitCode.CONFIGURATION]: ConfigurationError,
  [ExitCode.SERVICE_UNAVAILABLE]: ServiceUnavailableError,
};

describe('spoiled tokens are refused with the failed check as the code', () => {
  it('covers every fault the emulator can inject', () => {
    expect(Object.keys(TOKEN_FAULT_CODES).sort()).toEqual([...TOKEN_FAULTS].sort());
  });

  it.each(TOKEN_FAULTS)('%s', async (fault) => {
    emulator().scenario.tokenFault = fault;
    const error = await rejectionOf(ensureEntitled(emulatorOptions(emulator())), VerificationError);

    expect(error).toMatchObject({ code: TOKEN_FAULT_CODES[fault], exitCode: ExitCode.VERIFICATION_FAILED });
    expect(emulator().calls).toHaveLength(1); // a bad answer is final: never retried
  });

  it.each<TransportFault>(['empty-signature', 'non-jwt-signature'])('%s is TOKEN_MALFORMED', async (transportFault) => {
    emulator().scenario.transportFault = transportFault;
    const error = await rejectionOf(ensureEntitled(emulatorOptions(emulator())), VerificationError);

    expect(error).toMatchObject({ code: 'TOKEN_MALFORMED', exitCode: ExitCode.VERIFICATION_FAILED });
  });

  it('a token for another public key version is refused under the PascalCase spelling too', async () => {
    Object.assign(emulator().scenario, { claimSpelling: 'PascalCase', tokenFault: 'wrong-key-version' });
    const error = await rejectionOf(ensureEntitled(emulatorOptions(emulator())), VerificationError);

    expect(error).toMatchObject({ code: 'PUBLIC_KEY_VERSION_MISMATCH' });
    expect(error.message).toContain('PublicKeyVersion');
  });
});

describe('modelled RegisterUsage errors', () => {
  it('are all covered here', () => {
    expect(Object.keys(REGISTER_USAGE_ERROR_OUTCOMES).sort()).toEqual(Object.keys(REGISTER_USAGE_ERRORS).sort());
  });

  it.each(Object.keys(REGISTER_USAGE_ERRORS))('%s', async (awsError) => {
    const expected = REGISTER_USAGE_ERROR_OUTCOMES[awsError]!;
    emulator().scenario.error = awsError;
    const error = await rejectionOf(ensureEntitled(emulatorOptions(emulator(), { deadlineMs: 300 })), EntitlementError);

    expect(error).toBeInstanceOf(CLASS_BY_EXIT_CODE[expected.exitCode]);
    expect(error).toMatchObject({ code: expected.code, exitCode: expected.exitCode });
    if (expected.retryable) {
      expect((error.cause as Error).name).toBe(awsError);
      expect(emulator().calls.length).toBeGreaterThan(1);
    } else {
      expect(error.message).toContain(`Emulated ${awsError}`); // AWS's own message is kept
      expect(emulator().calls).toHaveLength(1); // final at once
    }
  });

  it('an unsubscribed buyer is NotEntitledError, exit 77, whose message says to subscribe', async () => {
    emulator().scenario.entitled = false;
    const error = await rejectionOf(ensureEntitled(emulatorOptions(emulator())), NotEntitledError);

    expect(error.exitCode).toBe(77);
    expect(error.message).toMatch(/subscribe/i);
  });

  it('an unknown product code is INVALID_PRODUCT_CODE', async () => {
    emulator().scenario.productCodes = ['some-other-product'];
    const error = await rejectionOf(ensureEntitled(emulatorOptions(emulator())), ConfigurationError);

    expect(error.code).toBe('INVALID_PRODUCT_CODE');
  });
});

describe('unmodelled client errors point at the IAM role', () => {
  const credentials = {
    accessKeyId: DUMMY_CREDENTIALS.accessKeyId,
    secretAccessKey: 'the-secret-the-emulator-expects',
  };

  it.each([
    ['a wrong secret', { ...credentials, secretAccessKey: 'a-wrong-secret' }, 'InvalidSignatureException'],
    ['an unknown access key', { ...credentials, accessKeyId: 'AKIDSOMEONEELSE' }, 'UnrecognizedClientException'],
  ])('%s', async (_label, clientCredentials, awsError) => {
    await withEmulator({ credentials }, async (emulator) => {
      const error = await rejectionOf(
        ensureEntitled(emulatorOptions(emulator, { credentials: clientCredentials })),
        ConfigurationError,
      );

      expect(error).toMatchObject({ code: 'AWS_CLIENT_ERROR', exitCode: ExitCode.CONFIGURATION });
      expect(error.message).toContain(awsError);
      expect(error.message).toMatch(/IAM role/);
      expect(error.message).toMatch(/IRSA/);
      expect(error.message).not.toContain(clientCredentials.secretAccessKey);
      expect(emulator.calls.map((call) => call.errorType)).toEqual([awsError]);
    });
  });

  it('the right credentials pass the full SigV4 check', async () => {
    await withEmulator({ credentials }, async (emulator) => {
      const entitlement = await ensureEntitled(emulatorOptions(emulator, { credentials }));
      expect(entitlement.attempts).toBe(1);
      expect(emulator.calls[0]).toMatchObject({ statusCode: 200, accessKeyId: credentials.accessKeyId });
    });
  });
});

describe('failures of the client itself are final, not retried for 30 minutes', () => {
  it('frozen credentials are copied, not written to by the SDK', async () => {
    const frozen = Object.freeze({ ...DUMMY_CREDENTIALS });
    const entitlement = await ensureEntitled(emulatorOptions(emulator(), { credentials: frozen }));

    expect(entitlement.attempts).toBe(1);
  });

  it('a programming error inside the client ends at once as CLIENT_FAILURE', async () => {
    const credentials = async () => {
      throw new TypeError('credential provider bug');
    };
    const error = await rejectionOf(
      ensureEntitled(emulatorOptions(emulator(), { credentials, deadlineMs: 20_000 })),
      ConfigurationError,
    );

    expect(error).toMatchObject({ code: 'CLIENT_FAILURE', exitCode: ExitCode.CONFIGURATION });
    expect(error.message).toContain('credential provider bug');
    expect(emulator().calls).toHaveLength(0);
  });
});
