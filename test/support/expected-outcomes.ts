/**
 * What every emulator fault must end in, in one place for every suite (library, CLI, fault matrix). Keyed by
 * the emulator's own lists, so a fault added there without an expectation here shows up in the tests that
 * check the keys against `TOKEN_FAULTS` / `REGISTER_USAGE_ERRORS`.
 *
 * @example
 * emulator.scenario.tokenFault = 'wrong-nonce';
 * await expect(ensureEntitled(options)).rejects.toMatchObject({ code: TOKEN_FAULT_CODES['wrong-nonce'] });
 */
import type { TokenFault } from '../../src/emulator/index.js';
import { ExitCode } from '../../src/errors.js';

/** The VerificationError code (exit 65) each spoiled token must be refused with. */
export const TOKEN_FAULT_CODES: Readonly<Record<TokenFault, string>> = {
  'wrong-nonce': 'NONCE_MISMATCH',
  'wrong-product-code': 'PRODUCT_CODE_MISMATCH',
  'wrong-key-version': 'PUBLIC_KEY_VERSION_MISMATCH',
  'wrong-key': 'SIGNATURE_INVALID',
  'bad-signature': 'SIGNATURE_INVALID',
  'alg-none': 'ALGORITHM_NOT_ALLOWED',
  hs256: 'ALGORITHM_NOT_ALLOWED',
  rs256: 'ALGORITHM_NOT_ALLOWED',
};

export interface ErrorOutcome {
  code: string;
  exitCode: number;
  /** Retried until the deadline (and then `DEADLINE_EXCEEDED`) rather than final at once. */
  retryable: boolean;
}

const final = (code: string, exitCode: number = ExitCode.CONFIGURATION): ErrorOutcome => ({
  code,
  exitCode,
  retryable: false,
});
const retried: ErrorOutcome = { code: 'DEADLINE_EXCEEDED', exitCode: ExitCode.SERVICE_UNAVAILABLE, retryable: true };

/** What each modelled RegisterUsage error (`REGISTER_USAGE_ERRORS`) must end in when AWS answers it every time. */
export const REGISTER_USAGE_ERROR_OUTCOMES: Readonly<Record<string, ErrorOutcome>> = {
  CustomerNotEntitledException: final('CUSTOMER_NOT_ENTITLED', ExitCode.NOT_ENTITLED),
  PlatformNotSupportedException: final('PLATFORM_NOT_SUPPORTED'),
  InvalidProductCodeException: final('INVALID_PRODUCT_CODE'),
  InvalidPublicKeyVersionException: final('INVALID_PUBLIC_KEY_VERSION'),
  InvalidRegionException: final('INVALID_REGION'),
  DisabledApiException: final('DISABLED_API'),
  ThrottlingException: retried,
  InternalServiceErrorException: retried,
};
