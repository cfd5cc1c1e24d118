/**
 * Every error the AWS API model (`marketplace-metering.json`) lists for each Metering operation, with its HTTP
 * status (400 unless the model says otherwise: IdempotencyConflictException 409, InternalServiceErrorException
 * 500). `scenario.errors` may make any operation answer any of its own; the independent-client test checks that
 * botocore reports each by this exact name.
 *
 * @example
 * emulator.scenario.errors = { MeterUsage: 'InvalidEndpointRegionException' };
 * Object.keys(MODELLED_ERRORS.BatchMeterUsage); // ['InternalServiceErrorException', ...]
 */
import { EmulatorServiceError } from './types.js';

const status = (names: string[]): Record<string, number> =>
  Object.fromEntries(
    names.map((name) => [
      name,
      name === 'InternalServiceErrorException' ? 500 : name === 'IdempotencyConflictException' ? 409 : 400,
    ]),
  );

export const MODELLED_ERRORS: Readonly<Record<string, Readonly<Record<string, number>>>> = {
  RegisterUsage: status([
    'CustomerNotEntitledException',
    'PlatformNotSupportedException',
    'InvalidProductCodeException',
    'InvalidPublicKeyVersionException',
    'InvalidRegionException',
    'DisabledApiException',
    'ThrottlingException',
    'InternalServiceErrorException',
  ]),
  MeterUsage: status([
    'InternalServiceErrorException',
    'InvalidProductCodeException',
    'InvalidUsageDimensionException',
    'InvalidTagException',
    'InvalidUsageAllocationsException',
    'InvalidEndpointRegionException',
    'TimestampOutOfBoundsException',
    'DuplicateRequestException',
    'IdempotencyConflictException',
    'ThrottlingException',
    'CustomerNotEntitledException',
  ]),
  BatchMeterUsage: status([
    'InternalServiceErrorException',
    'InvalidProductCodeException',
    'InvalidUsageDimensionException',
    'InvalidTagException',
    'InvalidUsageAllocationsException',
    'InvalidCustomerIdentifierException',
    'TimestampOutOfBoundsException',
    'ThrottlingException',
    'DisabledApiException',
    'InvalidLicenseException',
  ]),
  ResolveCustomer: status([
    'InvalidTokenException',
    'ExpiredTokenException',
    'ThrottlingException',
    'InternalServiceErrorException',
    'DisabledApiException',
  ]),
};

/**
 * The error `scenario.errors` asks `operation` to answer with, or undefined. A name the operation does not model
 * is answered as an emulator fault (HTTP 500 naming the mistake) rather than as something AWS never sends.
 *
 * @example
 * const injected = injectedError('MeterUsage', { MeterUsage: 'InvalidEndpointRegionException' }); // its 400 error
 */
export function injectedError(
  operation: string,
  errors: Readonly<Record<string, string>> | undefined,
): EmulatorServiceError | undefined {
  const name = errors && Object.hasOwn(errors, operation) ? errors[operation] : undefined;
  if (name === undefined) return undefined;
  const modelled = MODELLED_ERRORS[operation];
  if (modelled && !Object.hasOwn(modelled, name)) {
    const models = Object.keys(modelled).join(', ');
    return new EmulatorServiceError(
      'EmulatorScenarioError',
      `scenario.errors: ${operation} does not model ${name}; it models ${models}`,
      500,
    );
  }
  return new EmulatorServiceError(name, `Emulated ${name}`, modelled?.[name] ?? 400);
}
