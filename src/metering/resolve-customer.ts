/**
 * `resolveCustomer()`: turns the registration token a buyer's browser posts to a SaaS product's
 * registration page into who the buyer is, with the usual validation and retries. An invalid or expired
 * token is a {@link VerificationError} (`REGISTRATION_TOKEN_INVALID`, `REGISTRATION_TOKEN_EXPIRED`, exit 65).
 * The token itself is never logged.
 *
 * @example
 * const customer = await resolveCustomer({ RegistrationToken: form.get('x-amzn-marketplace-token') });
 * await saveBuyer(customer.customerAWSAccountId ?? customer.customerIdentifier, customer.productCode);
 */
import { ResolveCustomerCommand } from '@aws-sdk/client-marketplace-metering';
import { callMetering, type MeteringCallOptions } from './call.js';
import { RESOLVE_CUSTOMER_ERRORS } from './errors.js';
import { validateResolveCustomerInput, type ResolveCustomerInput } from './validation.js';

/** Who a SaaS registration token belongs to, from {@link resolveCustomer}. */
export interface ResolvedCustomer {
  /** Absent for SaaS products integrated after AWS's Concurrent Agreements change: use the account id. */
  customerIdentifier?: string;
  /** The product the buyer subscribed to. */
  productCode?: string;
  /** The buyer's AWS account id. */
  customerAWSAccountId?: string;
  /** The License Manager license ARN (contract products). */
  licenseArn?: string;
  /** ResolveCustomer calls made. */
  attempts: number;
  /** The Region the call went to. */
  region: string;
}

/** Validates, then calls ResolveCustomer until it answers, fails for good, or the deadline passes. */
export async function resolveCustomer(
  input: ResolveCustomerInput,
  options: MeteringCallOptions = {},
): Promise<ResolvedCustomer> {
  const command = new ResolveCustomerCommand(validateResolveCustomerInput(input));
  const { value, attempts, region } = await callMetering(
    'ResolveCustomer',
    (client, signal) => client.send(command, { abortSignal: signal }),
    options,
    RESOLVE_CUSTOMER_ERRORS,
  );
  return {
    ...(value.CustomerIdentifier && { customerIdentifier: value.CustomerIdentifier }),
    ...(value.ProductCode && { productCode: value.ProductCode }),
    ...(value.CustomerAWSAccountId && { customerAWSAccountId: value.CustomerAWSAccountId }),
    ...(value.LicenseArn && { licenseArn: value.LicenseArn }),
    attempts,
    region,
  };
}
