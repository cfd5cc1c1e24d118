/**
 * The emulator's registration tokens as JSON (`emulator --registration-tokens-file`, or a test's own file): an
 * object from each token to what ResolveCustomer answers for it. Checked field by field, so a typo is an error
 * naming the token and the field rather than a token that resolves oddly.
 *
 * @example
 * const registrationTokens = parseRegistrationTokens(
 *   '{"tok-1": {"productCode": "abc123", "customerIdentifier": "cust-1"}}',
 *   'tokens.json'
 * );
 * await startMeteringEmulator({ scenario: { registrationTokens } });
 */
import { ConfigurationError } from '../common/errors.js';
import type { RegistrationTokenGrant } from './types.js';

/** Every field a grant may have: the keys of {@link RegistrationTokenGrant} (the compiler keeps the two alike). */
export const REGISTRATION_TOKEN_GRANT_FIELDS: readonly (keyof RegistrationTokenGrant)[] = Object.keys({
  productCode: true,
  customerIdentifier: true,
  customerAWSAccountId: true,
  licenseArn: true,
  expiresAt: true,
} satisfies Record<keyof RegistrationTokenGrant, true>) as (keyof RegistrationTokenGrant)[];

const EXAMPLE = '{"TOKEN": {"productCode": "abc123", "customerIdentifier": "cust-1"}}';

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * The registration tokens in `text` (JSON), each grant checked: `productCode` a non-empty string, every other
 * field one of {@link REGISTRATION_TOKEN_GRANT_FIELDS} with a string value, `expiresAt` an ISO 8601 time.
 * `source` (the file's name) starts every error message. Throws {@link ConfigurationError}
 * `INVALID_REGISTRATION_TOKENS` saying what is wrong, at which token, and what to write instead.
 */
export function parseRegistrationTokens(text: string, source: string): Record<string, RegistrationTokenGrant> {
  const bad = (why: string) => new ConfigurationError('INVALID_REGISTRATION_TOKENS', `${source}: ${why}`);
  let tokens: unknown;
  try {
    tokens = JSON.parse(text);
  } catch (err) {
    throw bad(`not JSON (${(err as Error).message}); expected an object like ${EXAMPLE}.`);
  }
  if (!isObject(tokens))
    throw bad(
      `expected an object like ${EXAMPLE}, not ${Array.isArray(tokens) ? 'an array' : JSON.stringify(tokens)}.`,
    );
  const grants: Record<string, RegistrationTokenGrant> = {};
  for (const [token, grant] of Object.entries(tokens)) {
    const at = `token ${JSON.stringify(token)}`;
    if (!isObject(grant) || typeof grant.productCode !== 'string' || grant.productCode === '') {
      throw bad(`${at} needs a "productCode" string (the product the token was issued for).`);
    }
    const field = Object.keys(grant).find(
      (key) => !(REGISTRATION_TOKEN_GRANT_FIELDS as readonly string[]).includes(key) || typeof grant[key] !== 'string',
    );
    if (field !== undefined)
      throw bad(
        `${at}: "${field}" is not one of ${REGISTRATION_TOKEN_GRANT_FIELDS.join(', ')} ` +
          'with a string value; fix or remove it.',
      );
    // Every field is now a known one holding a string.
    const { customerIdentifier, customerAWSAccountId, licenseArn, expiresAt } = grant as Partial<
      Record<keyof RegistrationTokenGrant, string>
    >;
    if (expiresAt !== undefined && Number.isNaN(Date.parse(expiresAt))) {
      throw bad(`${at}: "expiresAt" ${JSON.stringify(expiresAt)} is not an ISO 8601 time, e.g. 2030-01-01T00:00:00Z.`);
    }
    grants[token] = {
      productCode: grant.productCode,
      ...(customerIdentifier !== undefined && { customerIdentifier }),
      ...(customerAWSAccountId !== undefined && { customerAWSAccountId }),
      ...(licenseArn !== undefined && { licenseArn }),
      ...(expiresAt !== undefined && { expiresAt }),
    };
  }
  return grants;
}
