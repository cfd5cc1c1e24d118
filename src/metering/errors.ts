/**
 * AWS Marketplace Metering Service as the shared call layer (src/aws/) sees it, and what each metering operation's
 * modelled errors mean, as typed errors whose message says what to fix.
 *
 * {@link METERING} holds the errors any Metering operation may answer (CustomerNotEntitled, InvalidProductCode,
 * DisabledApi, ...) and the advice for the rest: the IAM role and its `aws-marketplace` actions. Each operation adds
 * its own table (METER_USAGE_ERRORS, ...), looked up first.
 *
 * @example
 * const verdict = classifyMeteringError(err, METER_USAGE_ERRORS);
 * if (!verdict.retryable) throw verdict.error;
 */
import { classifyAwsError, type AwsService, type ErrorTable, type ErrorVerdict } from '../aws/aws-errors.js';
import { ConfigurationError, NotEntitledError, VerificationError, type EntitlementError } from '../common/errors.js';

/** The Metering operations this package calls; the name appears in log events and errors. */
export type MeteringOperation = 'MeterUsage' | 'BatchMeterUsage' | 'ResolveCustomer' | 'RegisterUsage';

/** What an unmodelled refusal or missing credentials point at: the container's role and its aws-marketplace actions. */
const ROLE_HINT =
  'Check the IAM role the container runs with: on EKS an IRSA role (ServiceAccount annotation ' +
  'eks.amazonaws.com/role-arn) and on ECS the task role, allowing aws-marketplace:RegisterUsage ' +
  '(iam/register-usage-policy.json, or the managed policy AWSMarketplaceMeteringRegisterUsage) and, where usage is ' +
  'metered, aws-marketplace:MeterUsage (iam/register-and-meter-usage-policy.json). Node roles, EKS Pod Identity and ' +
  'long-term keys are not supported by AWS Marketplace.';

/** AWS Marketplace Metering Service: its errors common to every operation, and its advice. */
export const METERING: AwsService = {
  name: 'AWS Marketplace Metering Service',
  errors: {
    CustomerNotEntitledException: (m) =>
      new NotEntitledError(
        `AWS Marketplace says the account running this container is not subscribed to the product (${m}). Subscribe ` +
          'to the product in AWS Marketplace, or check the product code; the container must not serve until then.',
      ),
    PlatformNotSupportedException: (m) =>
      new ConfigurationError(
        'PLATFORM_NOT_SUPPORTED',
        `AWS says this is not running on ECS, EKS or Fargate (${m}). RegisterUsage only works there; ` +
          'for local runs use the emulator (`marketplace-entitlement emulator`, then --endpoint).',
      ),
    InvalidProductCodeException: (m) =>
      new ConfigurationError(
        'INVALID_PRODUCT_CODE',
        `AWS does not know this product code (${m}). Use the code from the AWS Marketplace Management Portal.`,
      ),
    InvalidPublicKeyVersionException: (m) =>
      new ConfigurationError(
        'INVALID_PUBLIC_KEY_VERSION',
        `AWS rejects the public key version (${m}). Use the version number shown next to the key in the AWS ` +
          'Marketplace Management Portal.',
      ),
    InvalidRegionException: (m) =>
      new ConfigurationError(
        'INVALID_REGION',
        `AWS says RegisterUsage was called in the wrong Region (${m}). Call it in the Region the task or pod runs ` +
          'in: do not hard-code --region; let AWS_REGION or ECS task metadata supply it.',
      ),
    DisabledApiException: (m) =>
      new ConfigurationError('DISABLED_API', `The Metering API is disabled for this call (${m}).`),
  },
  retryable: new Set(['InternalServiceErrorException']),
  accessAdvice: ROLE_HINT,
  podIdentityAdvice:
    'Credentials come from EKS Pod Identity, which AWS Marketplace does not support for the Metering Service: ' +
    'use IAM Roles for Service Accounts (IRSA) for this pod.',
};

/**
 * What an AWS Marketplace Metering failure means for us: retry it, or end with which typed error.
 *
 * Retried: ThrottlingException, InternalServiceErrorException, any 5xx or 429, network failures and timeouts, and
 * unparseable answers. Final: every other modelled error (`operationErrors` first, then {@link METERING}'s), mapped to
 * a typed error whose message says what to fix; unmodelled 4xx (AccessDenied, UnrecognizedClient, expired
 * credentials) and a missing credential chain are configuration errors that point at the IAM role and its
 * aws-marketplace actions.
 *
 * @example
 * const verdict = classifyMeteringError(err);
 * if (!verdict.retryable) throw verdict.error;
 */
export function classifyMeteringError(err: unknown, operationErrors: ErrorTable = {}): ErrorVerdict {
  return classifyAwsError(err, METERING, { errors: operationErrors });
}

/**
 * The IAM errors AWS answers when the role lacks `aws-marketplace:<operation>`; the service's advice names
 * RegisterUsage and MeterUsage only, so each operation maps these itself.
 *
 * @example const errors = { ...permissionErrors('MeterUsage', 'the task or pod role'), ...OTHER };
 */
export function permissionErrors(operation: MeteringOperation, principal: string): ErrorTable {
  const denied = (m: string): EntitlementError =>
    new ConfigurationError(
      'ACCESS_DENIED',
      `AWS denied ${operation} (${m}). Allow aws-marketplace:${operation} on * for ${principal}.`,
    );
  return { AccessDeniedException: denied, UnauthorizedException: denied, UnauthorizedOperation: denied };
}

/**
 * An error-table entry that maps an AWS exception to a {@link ConfigurationError} with a fixed code and advice.
 *
 * @example const errors = { InvalidTagException: configurationError('INVALID_TAG', 'Fix the tag.') };
 */
export function configurationError(code: string, advice: string): (message: string) => EntitlementError {
  return (m) => new ConfigurationError(code, `${m}. ${advice}`);
}

const CONTAINER_ROLE =
  'the ECS task role or the EKS IRSA role (node roles, Pod Identity and long-term keys are not supported)';
const SELLER_ROLE = "the seller account's role that runs the SaaS application";

/** Errors about the usage itself, shared by MeterUsage and BatchMeterUsage. */
const USAGE_ERRORS: ErrorTable = {
  InvalidUsageDimensionException: configurationError(
    'INVALID_USAGE_DIMENSION',
    'Use a dimension API name configured for this product in the AWS Marketplace Management Portal.',
  ),
  InvalidTagException: configurationError(
    'INVALID_TAG',
    'Tags: 1-5 per allocation, keys 1-100 and values 1-256 characters.',
  ),
  InvalidUsageAllocationsException: configurationError(
    'INVALID_USAGE_ALLOCATIONS',
    'Allocated quantities must sum to the usage quantity and each allocation needs its own tag set.',
  ),
};

export const METER_USAGE_ERRORS: ErrorTable = {
  ...permissionErrors('MeterUsage', CONTAINER_ROLE),
  ...USAGE_ERRORS,
  DuplicateRequestException: configurationError(
    'DUPLICATE_REQUEST',
    'A different quantity was already metered for this dimension and hour from this task or pod; AWS keeps the ' +
      "first. Send each hour's total once (createUsageMeter does).",
  ),
  IdempotencyConflictException: configurationError(
    'IDEMPOTENCY_CONFLICT',
    'This ClientToken was already used with other parameters; reuse a ClientToken only to retry the identical request.',
  ),
  InvalidEndpointRegionException: configurationError(
    'INVALID_ENDPOINT_REGION',
    'Call MeterUsage in the Region the task or pod runs in: do not hard-code the Region.',
  ),
  TimestampOutOfBoundsException: configurationError(
    'TIMESTAMP_OUT_OF_BOUNDS',
    'MeterUsage accepts usage up to 6 hours old and not in the future; this usage can no longer be reported.',
  ),
};

export const BATCH_METER_USAGE_ERRORS: ErrorTable = {
  ...permissionErrors('BatchMeterUsage', SELLER_ROLE),
  ...USAGE_ERRORS,
  InvalidCustomerIdentifierException: configurationError(
    'INVALID_CUSTOMER_IDENTIFIER',
    'Use the CustomerIdentifier ResolveCustomer returned for this buyer (or CustomerAWSAccountId).',
  ),
  InvalidLicenseException: configurationError(
    'INVALID_LICENSE',
    "The LicenseArn must be valid, belong to the customer, and the usage must fall in the license's active period.",
  ),
  TimestampOutOfBoundsException: configurationError(
    'TIMESTAMP_OUT_OF_BOUNDS',
    'BatchMeterUsage refuses records 6 hours old or more; one late ' +
      'record rejects the whole batch, so remove it and resend the rest.',
  ),
};

export const RESOLVE_CUSTOMER_ERRORS: ErrorTable = {
  ...permissionErrors('ResolveCustomer', SELLER_ROLE),
  InvalidTokenException: (m) =>
    new VerificationError(
      'REGISTRATION_TOKEN_INVALID',
      `AWS does not recognise the registration token (${m}). Pass the x-amzn-marketplace-token form field the ` +
        "buyer's browser posted, unmodified, and call ResolveCustomer from the account that published the product.",
    ),
  ExpiredTokenException: (m) =>
    new VerificationError(
      'REGISTRATION_TOKEN_EXPIRED',
      `AWS says the token has expired (${m}). Redeem a registration token as soon as the buyer's browser posts it, ` +
        "once; if the message is about the security token, it is the AWS credentials' session that expired instead.",
    ),
};
