/**
 * What AWS License Manager's modelled errors mean for a contract-priced container, as typed errors whose
 * message says what to fix (docs/pricing-models.md, "What AWS leaves unconfirmed", has the errors and their sources).
 *
 * Final: NoEntitlementsAllowed and ResourceNotFound (not entitled, exit 77); AccessDenied and Authorization
 * (the IAM role, exit 78, naming the actions); Validation, InvalidParameterValue and
 * UnsupportedDigitalSignatureMethod (a request this package or its caller got wrong, exit 78); Redirect (the
 * wrong Region, exit 78, naming the one AWS points at). Retried: RateLimitExceeded whatever its HTTP status
 * (AWS's SDK retries it only at 429), Conflict ("try your request again"), ServerInternal and every 5xx,
 * network failures and timeouts.
 *
 * @example
 * const verdict = classifyAwsError(err, LICENSE_MANAGER, { operation: 'CheckoutLicense' });
 * if (!verdict.retryable) throw verdict.error;
 */
import type { AwsService, ErrorTable } from '../aws/aws-errors.js';
import { ConfigurationError, NotEntitledError } from '../common/errors.js';

/** The IAM actions a contract-priced container needs (iam/contract-policy.json). */
export const LICENSE_MANAGER_ACTIONS = [
  'license-manager:CheckoutLicense',
  'license-manager:ExtendLicenseConsumption',
  'license-manager:CheckInLicense',
  'license-manager:GetLicense',
  'license-manager:ListReceivedLicenses',
] as const;

/** What a refusal or missing credentials point at: the container's role and the License Manager actions it needs. */
const ROLE_HINT =
  'Check the IAM role the container runs with (the ECS task role, or on EKS the IRSA role): ' +
  `allow ${LICENSE_MANAGER_ACTIONS.join(', ')} on * (iam/contract-policy.json, or the managed policy ` +
  'AWSLicenseManagerConsumptionPolicy).';

const denied = (m: string) =>
  new ConfigurationError('ACCESS_DENIED', `AWS License Manager refused the call (${m}). ${ROLE_HINT}`);

const invalid = (m: string) =>
  new ConfigurationError(
    'INVALID_LICENSE_REQUEST',
    `AWS License Manager rejected the request (${m}). Check the product SKU, the ` +
      "entitlement names and units (they must match the contract dimensions' API names " +
      'and units in the AWS Marketplace Management Portal) and the key fingerprint.',
  );

/** AWS exception name -> typed error, for CheckoutLicense, ExtendLicenseConsumption, CheckInLicense and GetLicense. */
export const LICENSE_MANAGER_ERRORS: ErrorTable = {
  NoEntitlementsAllowedException: (m) =>
    new NotEntitledError(
      `AWS License Manager allowed none of the requested entitlements (${m}): the buyer has no active contract for ` +
        'this product, a floating pool is fully checked out, or a drawdown is used up. The container must not serve ' +
        'until a licence is available.',
    ),
  ResourceNotFoundException: (m) =>
    new NotEntitledError(
      `AWS License Manager found no licence for this request (${m}): the buyer has ` +
        'no contract for this product SKU, or the licence or checkout no longer ' +
        'exists. Check the product SKU from the AWS Marketplace Management Portal.',
    ),
  AccessDeniedException: denied,
  AuthorizationException: denied,
  ValidationException: invalid,
  InvalidParameterValueException: invalid,
  UnsupportedDigitalSignatureMethodException: invalid,
  RedirectException: (m, err) => {
    const location = (err as { Location?: unknown } | undefined)?.Location;
    const where = typeof location === 'string' && location !== '' ? `: AWS points at ${location}` : '';
    return new ConfigurationError(
      'WRONG_REGION',
      `AWS License Manager answered with a redirect (${m})${where}. The licence ` +
        'lives in another Region: set --region (AWS_REGION) to the Region of ' +
        'that endpoint, or leave it to discovery when the task or pod runs there.',
    );
  },
};

/** AWS License Manager: its modelled errors, the ones it asks to retry, and its advice. */
export const LICENSE_MANAGER: AwsService = {
  name: 'AWS License Manager',
  errors: LICENSE_MANAGER_ERRORS,
  // Retried whatever the HTTP status: RateLimitExceeded arrives as 429 or 400; Conflict asks for a retry.
  retryable: new Set(['RateLimitExceededException', 'ServerInternalException', 'ConflictException']),
  accessAdvice: ROLE_HINT,
  // AWS documents Pod Identity as unsupported for MeterUsage and says nothing of License Manager
  // (docs/pricing-models.md).
  podIdentityAdvice:
    'Credentials come from EKS Pod Identity, which AWS does not document for AWS License Manager checkouts of AWS ' +
    'Marketplace licences: use IAM Roles for Service Accounts (IRSA) for this pod, as AWS documents.',
};
