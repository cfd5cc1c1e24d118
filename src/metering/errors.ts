/**
 * What each metering operation's modelled errors mean, as typed errors whose message says what to fix.
 * Handed to `classifyMeteringError` as its per-operation map (the shared map already covers
 * CustomerNotEntitled, InvalidProductCode, DisabledApi and missing credentials).
 *
 * @example
 * const verdict = classifyMeteringError(err, METER_USAGE_ERRORS);
 */
import { VerificationError } from '../common/errors.js';
import { configurationError, permissionErrors, type FatalErrorMap } from './call.js';

const CONTAINER_ROLE = 'the ECS task role or the EKS IRSA role (node roles, Pod Identity and long-term keys are not supported)';
const SELLER_ROLE = "the seller account's role that runs the SaaS application";

/** Errors about the usage itself, shared by MeterUsage and BatchMeterUsage. */
const USAGE_ERRORS: FatalErrorMap = {
  InvalidUsageDimensionException: configurationError(
    'INVALID_USAGE_DIMENSION',
    'Use a dimension API name configured for this product in the AWS Marketplace Management Portal.',
  ),
  InvalidTagException: configurationError('INVALID_TAG', 'Tags: 1-5 per allocation, keys 1-100 and values 1-256 characters.'),
  InvalidUsageAllocationsException: configurationError(
    'INVALID_USAGE_ALLOCATIONS',
    'Allocated quantities must sum to the usage quantity and each allocation needs its own tag set.',
  ),
};

export const METER_USAGE_ERRORS: FatalErrorMap = {
  ...permissionErrors('MeterUsage', CONTAINER_ROLE),
  ...USAGE_ERRORS,
  DuplicateRequestException: configurationError(
    'DUPLICATE_REQUEST',
    'A different quantity was already metered for this dimension and hour from this task or pod; AWS keeps the first. ' +
      'Send each hour\'s total once (createUsageMeter does).',
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

export const BATCH_METER_USAGE_ERRORS: FatalErrorMap = {
  ...permissionErrors('BatchMeterUsage', SELLER_ROLE),
  ...USAGE_ERRORS,
  InvalidCustomerIdentifierException: configurationError(
    'INVALID_CUSTOMER_IDENTIFIER',
    'Use the CustomerIdentifier ResolveCustomer returned for this buyer (or CustomerAWSAccountId).',
  ),
  InvalidLicenseException: configurationError(
    'INVALID_LICENSE',
    'The LicenseArn must be valid, belong to the customer, and the usage must fall in the license\'s active period.',
  ),
  TimestampOutOfBoundsException: configurationError(
    'TIMESTAMP_OUT_OF_BOUNDS',
    'BatchMeterUsage refuses records 6 hours old or more; one late record rejects the whole batch, so remove it and resend the rest.',
  ),
};

export const RESOLVE_CUSTOMER_ERRORS: FatalErrorMap = {
  ...permissionErrors('ResolveCustomer', SELLER_ROLE),
  InvalidTokenException: (m) =>
    new VerificationError(
      'REGISTRATION_TOKEN_INVALID',
      `AWS does not recognise the registration token (${m}). Pass the x-amzn-marketplace-token form field the buyer's browser posted, unmodified, ` +
        'and call ResolveCustomer from the account that published the product.',
    ),
  ExpiredTokenException: (m) =>
    new VerificationError(
      'REGISTRATION_TOKEN_EXPIRED',
      `AWS says the token has expired (${m}). Redeem a registration token as soon as the buyer's browser posts it, once; ` +
        'if the message is about the security token, it is the AWS credentials\' session that expired instead.',
    ),
};
