import type { KeyObject } from 'node:crypto';

/** Transport-level misbehaviour, to test what happens below the API. */
export const TRANSPORT_FAULTS = ['reset', 'hang', 'malformed-json', 'empty-signature', 'non-jwt-signature'] as const;
/**
 * A way the emulator can break an answer (`scenario.transportFault`): reset the connection, hang, malformed JSON, a
 * missing or non-JWT signature.
 */
export type TransportFault = (typeof TRANSPORT_FAULTS)[number];

/** Ways the emulator can spoil the token it returns. */
export const TOKEN_FAULTS = [
  'wrong-nonce',
  'wrong-product-code',
  'wrong-key-version',
  'wrong-key',
  'bad-signature',
  'alg-none',
  'hs256',
  'rs256',
] as const;
/**
 * A way the emulator can spoil the RegisterUsage token it returns (`scenario.tokenFault`), e.g. `'wrong-nonce'`,
 * `'alg-none'`.
 */
export type TokenFault = (typeof TOKEN_FAULTS)[number];

/**
 * An `iat` other than the emulator's clock in seconds, as AWS might send it (it documents none): every one is
 * accepted by the verifier, which treats `iat` as advisory.
 */
export const TOKEN_IAT_VARIANTS = ['missing', 'hour-old', 'hour-ahead', 'milliseconds'] as const;
/** One of {@link TOKEN_IAT_VARIANTS}: how `scenario.tokenIat` bends the token's `iat`. */
export type TokenIatVariant = (typeof TOKEN_IAT_VARIANTS)[number];

/** How the emulator behaves; every field can be changed between (or during) tests. */
export interface EmulatorScenario {
  /** false: RegisterUsage answers CustomerNotEntitledException. Default true. */
  entitled: boolean;
  /** A modelled error name every RegisterUsage call answers with, e.g. 'PlatformNotSupportedException'. */
  error?: string | undefined;
  /**
   * By operation name, a modelled error (modelled-errors.ts) every call of that operation answers with, before its
   * input is looked at, e.g. `{ MeterUsage: 'InvalidEndpointRegionException' }`.
   */
  errors?: Record<string, string> | undefined;
  /** Only these product codes exist (InvalidProductCodeException otherwise). Default: any valid code. */
  productCodes?: string[] | undefined;
  /** The first N calls of each operation answer ThrottlingException (Infinity: all). */
  throttleFirst: number;
  /** The first N calls of each operation answer InternalServiceErrorException, HTTP 500. */
  failFirst: number;
  /** A token bucket shared by all operations: `perSecond` refill, `burst` capacity (default perSecond). */
  rateLimit?: { perSecond: number; burst?: number } | undefined;
  /** Delay before every answer. */
  latencyMs: number;
  /** Spoil the RegisterUsage token in this way. */
  tokenFault?: TokenFault | undefined;
  /** Send this kind of `iat` instead of the emulator's clock in seconds. */
  tokenIat?: TokenIatVariant | undefined;
  /** Claim names in the token. Default camelCase, like production verifiers read. */
  claimSpelling: 'camelCase' | 'PascalCase';
  /** Return PublicKeyRotationTimestamp (the key version expired at this time). */
  rotationTimestamp?: Date | undefined;
  /** Misbehave at the transport level on the first `transportFaultFirst` calls (default: every call). */
  transportFault?: TransportFault | undefined;
  /** Apply `transportFault` only to the first N calls (default: every call). */
  transportFaultFirst?: number | undefined;
  /**
   * MeterUsage/BatchMeterUsage: only these dimensions exist (InvalidUsageDimensionException otherwise). Default: any.
   */
  dimensions?: string[] | undefined;
  /**
   * MeterUsage/BatchMeterUsage are denied: a DryRun answers UnauthorizedException, a real call AccessDeniedException.
   */
  meteringDenied?: boolean | undefined;
  /** BatchMeterUsage: the first N calls leave every other record (the 1st, 3rd, ...) in UnprocessedRecords. */
  unprocessedFirst?: number | undefined;
  /** BatchMeterUsage: only these customers (identifier or AWS account id) are subscribed. Default: every customer. */
  subscribedCustomers?: string[] | undefined;
  /** ResolveCustomer: the registration tokens that exist; any other token is InvalidTokenException. */
  registrationTokens?: Record<string, RegistrationTokenGrant> | undefined;
}

/** What a registration token resolves to in the emulator. */
export interface RegistrationTokenGrant {
  /** The buyer's customer identifier ResolveCustomer returns. */
  customerIdentifier?: string | undefined;
  /** The buyer's AWS account id ResolveCustomer returns. */
  customerAWSAccountId?: string | undefined;
  /** The product the token was issued for. */
  productCode: string;
  /** The License Manager license ARN ResolveCustomer returns (contract products). */
  licenseArn?: string | undefined;
  /**
   * From this instant (a Date, or ISO 8601 when the scenario comes from JSON) the token answers ExpiredTokenException.
   * Default: never.
   */
  expiresAt?: Date | string | undefined;
}

/** The address the emulator binds when none is given: this host only, never exposed beyond it unless asked. */
export const DEFAULT_EMULATOR_HOST = '127.0.0.1';

/** The scenario an emulator starts with, unless told otherwise: every call answered at once and entitled. */
export const DEFAULT_SCENARIO: Readonly<EmulatorScenario> = Object.freeze({
  entitled: true,
  throttleFirst: 0,
  failFirst: 0,
  latencyMs: 0,
  claimSpelling: 'camelCase',
});

/** What an operation handler sees. */
export interface OperationContext {
  /** The emulator's current scenario. */
  scenario: EmulatorScenario;
  /** The emulator's RSA signing key. */
  privateKey: KeyObject;
  /** Its public key, SPKI PEM. */
  publicKeyPem: string;
  /** The emulator's clock. */
  now: () => Date;
  /** The Region from the request's SigV4 credential scope. */
  region: string;
  /** The caller's access key id (SigV4): who "this task or pod" is for the once-per-hour rule. */
  accessKeyId?: string | undefined;
}

/**
 * An operation's implementation: the parsed JSON input in, the JSON output out; throw an {@link EmulatorServiceError}
 * for an AWS error.
 */
export type OperationHandler = (input: Record<string, unknown>, ctx: OperationContext) => Promise<unknown> | unknown;

/** A modelled AWS error, answered as `{"__type","message"}` with its HTTP status. */
export class EmulatorServiceError extends Error {
  constructor(
    readonly errorType: string,
    message: string,
    readonly statusCode = errorType === 'InternalServiceErrorException' ? 500 : 400,
  ) {
    super(message);
  }
}

/**
 * Temporary credentials the emulator's STS (AssumeRoleWithWebIdentity) and ECS container credentials stand-ins
 * hand out, as AWS does to an IRSA pod or an ECS task role.
 */
export interface RoleCredentials {
  /** The access key id, e.g. `ASIA...`. */
  accessKeyId: string;
  /** The secret access key. */
  secretAccessKey: string;
  /** The session token. */
  sessionToken: string;
}

/** One request the emulator received. */
export interface RecordedCall {
  /** The operation name, e.g. `RegisterUsage`. */
  operation: string;
  /** The request body as parsed JSON. */
  input: Record<string, unknown>;
  /** The Region of the SigV4 credential scope. */
  region?: string;
  /** The access key id of the SigV4 signature. */
  accessKeyId?: string;
  /** The request's Host header: which name the client resolved, e.g. `sts.us-east-1.amazonaws.com`. */
  host?: string;
  /** When the request arrived (emulator clock). */
  at: Date;
  /** The `x-amzn-RequestId` the answer carries (a UUID, as AWS sends). */
  requestId: string;
  /** The HTTP status answered; 0 when no answer was sent (connection reset, hang). */
  statusCode: number;
  /** The AWS error name answered, when the call failed. */
  errorType?: string;
}
