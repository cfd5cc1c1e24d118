/**
 * How a conformance verdict is taken from the TypeScript implementation, shared by the generator
 * (scripts/generate-vectors.mjs, over dist/) and the check in npm test (test/core/conformance-vectors.test.ts, over
 * src/): each function takes the library it judges with.
 *
 * @example
 * const expect = await registrationVerdict(library, { token, publicKey, ...sent, now });
 */

/** `{ valid: true, ...describe(result) }`, or the typed error's class, code and exit code. */
export async function verdictOf(library, run, describe) {
  try {
    return { valid: true, ...describe(await run()) };
  } catch (err) {
    if (!(err instanceof library.EntitlementError)) throw err;
    return { valid: false, error: err.name, code: err.code, exitCode: err.exitCode };
  }
}

/** verifyRegistration's verdict: the claims a port must return too, or the refusal. */
export function registrationVerdict(library, token, options) {
  return verdictOf(
    library,
    () => library.verifyRegistration(token, options),
    (claims) => ({
      productCode: claims.productCode,
      publicKeyVersion: claims.publicKeyVersion,
      nonce: claims.nonce,
      issuedAt: claims.issuedAt.getTime() / 1000,
      issuedAtSource: claims.issuedAtSource,
      ...(claims.clockSkewSec !== undefined && { clockSkewSec: claims.clockSkewSec }),
    }),
  );
}

/** loadProductPublicKey's verdict: the key size, or the refusal. */
export function keyVerdict(library, pem) {
  return verdictOf(
    library,
    () => library.loadProductPublicKey(pem),
    (key) => ({ bits: key.asymmetricKeyDetails.modulusLength }),
  );
}

/** classifyMeteringError's verdict on an AWS error `name` answered with HTTP `status`. */
export function awsErrorVerdict(library, name, status) {
  const verdict = library.classifyMeteringError(
    Object.assign(new Error(`${name} from the service`), { name, $metadata: { httpStatusCode: status } }),
  );
  return verdict.retryable
    ? { retryable: true }
    : { retryable: false, error: verdict.error.name, code: verdict.error.code, exitCode: verdict.error.exitCode };
}

/**
 * ensureEntitled's verdict against an emulator started with `scenario` (`rotationTimestamp` in epoch seconds), and
 * how many calls the emulator answered.
 */
export async function scenarioVerdict(library, scenario) {
  const { rotationTimestamp, ...rest } = scenario;
  const emulator = await library.startMeteringEmulator({
    port: 0,
    host: '127.0.0.1',
    scenario: {
      ...rest,
      ...(rotationTimestamp !== undefined && { rotationTimestamp: new Date(rotationTimestamp * 1000) }),
    },
  });
  try {
    const verdict = await verdictOf(
      library,
      () =>
        library.ensureEntitled({
          productCode: 'prod-scenarios',
          publicKey: emulator.publicKeyPem,
          endpoint: emulator.url,
          region: 'us-east-1',
          credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' },
          logger: {},
        }),
      (entitlement) => ({
        issuedAtSource: entitlement.issuedAtSource,
        ...(entitlement.publicKeyRotationTimestamp && {
          publicKeyRotationTimestamp: entitlement.publicKeyRotationTimestamp.getTime() / 1000,
        }),
      }),
    );
    return { verdict, calls: emulator.calls.length };
  } finally {
    await emulator.close();
  }
}
