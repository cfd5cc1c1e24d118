/**
 * What an AWS Metering failure means for us: retry it, or end with which typed error.
 *
 * Retried: ThrottlingException, InternalServiceErrorException, any 5xx or 429, network failures and timeouts,
 * and unparseable answers. Final: every other modelled error, mapped to a typed error whose message says
 * what to fix; unmodelled 4xx (AccessDenied, UnrecognizedClient, expired credentials) and a missing
 * credential chain are configuration errors that point at the IAM role.
 *
 * @example
 * const verdict = classifyMeteringError(err);
 * if (!verdict.retryable) throw verdict.error;
 */
import { ConfigurationError, EntitlementError, NotEntitledError } from '../common/errors.js';

export type MeteringErrorVerdict = { retryable: true } | { retryable: false; error: EntitlementError };

const ROLE_HINT =
  'Check the IAM role the container runs with: on EKS an IRSA role (ServiceAccount annotation eks.amazonaws.com/role-arn) ' +
  'and on ECS the task role, allowing the aws-marketplace action being called (RegisterUsage: managed policy ' +
  'AWSMarketplaceMeteringRegisterUsage; MeterUsage where usage is metered). ' +
  'Node roles, EKS Pod Identity and long-term keys are not supported by AWS Marketplace.';

/** Modelled, non-retryable errors: AWS exception name -> our error. Other operations add their own. */
const FATAL: Record<string, (message: string, err?: unknown) => EntitlementError> = {
  CustomerNotEntitledException: (m) =>
    new NotEntitledError(
      `AWS Marketplace says the account running this container is not subscribed to the product (${m}). ` +
        'Subscribe to the product in AWS Marketplace, or check the product code; the container must not serve until then.',
    ),
  PlatformNotSupportedException: (m) =>
    new ConfigurationError(
      'PLATFORM_NOT_SUPPORTED',
      `AWS says this is not running on ECS, EKS or Fargate (${m}). RegisterUsage only works there; ` +
        'for local runs use the emulator (`marketplace-entitlement emulator`, then --endpoint).',
    ),
  InvalidProductCodeException: (m) =>
    new ConfigurationError('INVALID_PRODUCT_CODE', `AWS does not know this product code (${m}). Use the code from the AWS Marketplace Management Portal.`),
  InvalidPublicKeyVersionException: (m) =>
    new ConfigurationError(
      'INVALID_PUBLIC_KEY_VERSION',
      `AWS rejects the public key version (${m}). Use the version number shown next to the key in the AWS Marketplace Management Portal.`,
    ),
  InvalidRegionException: (m) =>
    new ConfigurationError(
      'INVALID_REGION',
      `AWS says RegisterUsage was called in the wrong Region (${m}). Call it in the Region the task or pod runs in: ` +
        'do not hard-code --region; let AWS_REGION or ECS task metadata supply it.',
    ),
  DisabledApiException: (m) => new ConfigurationError('DISABLED_API', `The Metering API is disabled for this call (${m}).`),
  CredentialsProviderError: (m) =>
    new ConfigurationError('NO_CREDENTIALS', `No AWS credentials were found (${m}). ${ROLE_HINT}`),
};

const PROGRAMMING_ERRORS = new Set(['TypeError', 'RangeError', 'ReferenceError']);

const NO_NAMES: ReadonlySet<string> = new Set();

const RETRYABLE_NAMES = new Set(['ThrottlingException', 'InternalServiceErrorException', 'TimeoutError', 'RequestTimeout']);

/**
 * `fatal` maps the operation's own modelled errors (the mapper also gets the SDK error, for fields such as
 * `Location`); `retryable` names further exceptions to retry whatever their HTTP status (License Manager's
 * RateLimitExceededException is sent as 429 or as 400).
 */
export function classifyMeteringError(
  err: unknown,
  fatal: Record<string, (message: string, err?: unknown) => EntitlementError> = {},
  retryable: ReadonlySet<string> = NO_NAMES,
): MeteringErrorVerdict {
  if (err instanceof EntitlementError) return { retryable: false, error: err };
  const e = (err ?? {}) as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
  const name = e.name ?? 'Error';
  const message = (e.message ?? String(err)).replace(/\.+$/, '');
  const mapper = fatal[name] ?? FATAL[name];
  if (mapper) return { retryable: false, error: mapper(message, err) };
  if (RETRYABLE_NAMES.has(name) || retryable.has(name)) return { retryable: true };
  const status = e.$metadata?.httpStatusCode;
  if (status !== undefined && status >= 400 && status < 500 && status !== 429) {
    return {
      retryable: false,
      error: new ConfigurationError('AWS_CLIENT_ERROR', `AWS refused the call: ${name}: ${message}. ${ROLE_HINT}`, { cause: err }),
    };
  }
  if (PROGRAMMING_ERRORS.has(name) && e.$metadata === undefined) {
    // A bug or a misuse of the SDK (not an answer from AWS): retrying for 30 minutes would only hide it.
    return {
      retryable: false,
      error: new ConfigurationError('CLIENT_FAILURE', `The Metering client failed before reaching AWS: ${name}: ${message}.`, { cause: err }),
    };
  }
  return { retryable: true };
}
