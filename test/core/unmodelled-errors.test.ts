/**
 * Answers AWS could send but the emulator does not model, and clients that fail before sending anything, through the
 * real SDK clients of both services (Metering's RegisterUsage, License Manager's CheckoutLicense) against a local HTTP
 * server: each ends in the right typed error and exit code, is retried or not as it should be (counted in requests
 * the server received), and its advice names the service called and its own IAM actions, never the other service's.
 */
import { createPublicKey } from 'node:crypto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  ConfigurationError,
  ensureEntitled,
  EntitlementError,
  ExitCode,
  ServiceUnavailableError,
  type EnsureEntitledOptions,
} from '../../src/index.js';
import { acquireLicense, type AcquireLicenseOptions } from '../../src/license/index.js';
import {
  DUMMY_CREDENTIALS,
  FAST_RETRY,
  rejectionOf,
  startStubServer,
  TEST_PRODUCT_CODE,
  TEST_REGION,
  TEST_SKU,
  testSigningKey,
  USERS,
  type StubReply,
  type StubServer,
} from '../support/index.js';

type CallOptions = Pick<
  EnsureEntitledOptions & AcquireLicenseOptions,
  'endpoint' | 'region' | 'credentials' | 'retry' | 'deadlineMs' | 'logger'
>;

interface Service {
  /** One call of the service through this package's public API. */
  call: (options: CallOptions) => Promise<unknown>;
  /** What every message about this service's calls must say. */
  own: RegExp[];
  /** What it must never say: the other service's name and actions. */
  foreign: RegExp;
}

const SERVICES: Record<string, Service> = {
  'Metering (RegisterUsage)': {
    call: async (options) =>
      ensureEntitled({
        productCode: TEST_PRODUCT_CODE,
        publicKey: createPublicKey(await testSigningKey()),
        ...options,
      }),
    own: [/AWS Marketplace Metering Service/],
    foreign: /license-manager|License Manager/,
  },
  'License Manager (CheckoutLicense)': {
    call: (options) => acquireLicense({ productSku: TEST_SKU, entitlements: [{ ...USERS }], ...options }),
    own: [/AWS License Manager/],
    foreign: /aws-marketplace|Metering|RegisterUsage|MeterUsage/,
  },
};

/** The advice an answer AWS refused with must carry, per service: the role and that service's own actions. */
const ACCESS_ADVICE: Record<string, RegExp[]> = {
  'Metering (RegisterUsage)': [
    /IRSA/,
    /aws-marketplace:RegisterUsage/,
    /aws-marketplace:MeterUsage/,
    /AWSMarketplaceMeteringRegisterUsage/,
  ],
  'License Manager (CheckoutLicense)': [
    /IRSA/,
    /license-manager:CheckoutLicense/,
    /license-manager:ExtendLicenseConsumption/,
    /AWSLicenseManagerConsumptionPolicy/,
  ],
};

const AWS_JSON = 'application/x-amz-json-1.1';
const unknownError = (status: number): StubReply => ({
  status,
  body: { __type: 'BrandNewRefusalException', message: `A refusal this package does not model (${status})` },
  contentType: AWS_JSON,
});
const HTML_PAGE = (status: number): StubReply => ({
  status,
  body: `<html><body><h1>${status}</h1></body></html>`,
  contentType: 'text/html',
});
const MALFORMED_JSON = (status: number): StubReply => ({ status, body: '{"__type": "Trunc', contentType: AWS_JSON });

let server: StubServer | undefined;
afterEach(async () => {
  vi.unstubAllEnvs();
  await server?.close();
  server = undefined;
});

/** A server answering every request with the next of `replies`, the last one repeated. */
async function serve(...replies: StubReply[]): Promise<StubServer> {
  let answered = 0;
  server = await startStubServer({ 'POST /': () => replies[Math.min(answered++, replies.length - 1)]! });
  return server;
}

function optionsFor(stub: StubServer, overrides: Partial<CallOptions> = {}): CallOptions {
  return {
    endpoint: stub.url,
    region: TEST_REGION,
    credentials: { ...DUMMY_CREDENTIALS },
    retry: FAST_RETRY,
    deadlineMs: 10_000,
    logger: {},
    ...overrides,
  };
}

function expectOwnAdvice(label: string, error: Error, advice: RegExp[] = []): void {
  const service = SERVICES[label]!;
  for (const pattern of [...service.own, ...advice]) expect(error.message).toMatch(pattern);
  expect(error.message).not.toMatch(service.foreign);
}

describe.each(Object.keys(SERVICES))('%s', (label) => {
  const service = SERVICES[label]!;

  it.each([
    ['an unknown 403 error', 403],
    ['an unknown 400 error', 400],
  ])('%s is final: AWS_CLIENT_ERROR (78) with the service and its IAM actions', async (_case, status) => {
    const stub = await serve(unknownError(status));
    const error = await rejectionOf(service.call(optionsFor(stub)), ConfigurationError);

    expect(error).toMatchObject({ code: 'AWS_CLIENT_ERROR', exitCode: ExitCode.CONFIGURATION });
    expect(error.message).toContain('BrandNewRefusalException');
    expectOwnAdvice(label, error, ACCESS_ADVICE[label]);
    expect(stub.requests).toHaveLength(1);
  });

  it.each([
    ['a 500 with an HTML body', HTML_PAGE(500)],
    ['a 503 with an HTML body', HTML_PAGE(503)],
    ['a 200 whose JSON is cut short', MALFORMED_JSON(200)],
    ['a 502 whose JSON is cut short', MALFORMED_JSON(502)],
  ])('%s is retried', async (_case, reply) => {
    // Twice, then a final answer: the requests counted show the retries without waiting for the deadline.
    const stub = await serve(reply, reply, unknownError(400));
    const error = await rejectionOf(service.call(optionsFor(stub)), ConfigurationError);

    expect(error.code).toBe('AWS_CLIENT_ERROR');
    expect(stub.requests).toHaveLength(3);
  });

  it('5xx until the deadline ends in DEADLINE_EXCEEDED (69), naming the service', async () => {
    const stub = await serve(HTML_PAGE(503));
    const error = await rejectionOf(service.call(optionsFor(stub, { deadlineMs: 300 })), ServiceUnavailableError);

    expect(error).toMatchObject({ code: 'DEADLINE_EXCEEDED', exitCode: ExitCode.SERVICE_UNAVAILABLE });
    expectOwnAdvice(label, error);
  });

  it.each([
    ['a 400 whose JSON is cut short', MALFORMED_JSON(400)],
    ["a proxy's 403 HTML page", HTML_PAGE(403)],
  ])('%s is final: UNEXPECTED_ANSWER (78), not advice on IAM', async (_case, reply) => {
    const stub = await serve(reply);
    const error = await rejectionOf(service.call(optionsFor(stub)), ConfigurationError);

    expect(error).toMatchObject({ code: 'UNEXPECTED_ANSWER', exitCode: ExitCode.CONFIGURATION });
    expect(error.message).toMatch(/proxy/);
    expect(error.message).not.toMatch(/IAM/);
    expectOwnAdvice(label, error);
    expect(stub.requests).toHaveLength(1);
  });

  it('a client failing before the request (a TypeError in the credential provider) is final: CLIENT_FAILURE (78), nothing sent', async () => {
    const stub = await serve(unknownError(400));
    const credentials = async () => {
      throw new TypeError('credential provider bug');
    };
    const error = await rejectionOf(service.call(optionsFor(stub, { credentials })), ConfigurationError);

    expect(error).toMatchObject({ code: 'CLIENT_FAILURE', exitCode: ExitCode.CONFIGURATION });
    expect(error.message).toMatch(/client failed before reaching AWS/);
    expect(error.message).toContain('credential provider bug');
    expectOwnAdvice(label, error);
    expect(stub.requests).toHaveLength(0);
  });

  it('credentials that cannot load are final: NO_CREDENTIALS (78) with the service and its IAM actions, nothing sent', async () => {
    // The SDK's default chain with nothing to find: no keys, no files, no web identity, no container or instance metadata.
    for (const name of [
      'AWS_ACCESS_KEY_ID',
      'AWS_SECRET_ACCESS_KEY',
      'AWS_SESSION_TOKEN',
      'AWS_PROFILE',
      'AWS_WEB_IDENTITY_TOKEN_FILE',
      'AWS_ROLE_ARN',
    ]) {
      vi.stubEnv(name, undefined);
    }
    vi.stubEnv('AWS_CONTAINER_CREDENTIALS_FULL_URI', undefined);
    vi.stubEnv('AWS_CONTAINER_CREDENTIALS_RELATIVE_URI', undefined);
    vi.stubEnv('AWS_CONFIG_FILE', '/nonexistent/aws/config');
    vi.stubEnv('AWS_SHARED_CREDENTIALS_FILE', '/nonexistent/aws/credentials');
    vi.stubEnv('AWS_EC2_METADATA_DISABLED', 'true');
    const stub = await serve(unknownError(400));
    const error = await rejectionOf(service.call(optionsFor(stub, { credentials: undefined })), EntitlementError);

    expect(error).toBeInstanceOf(ConfigurationError);
    expect(error).toMatchObject({ code: 'NO_CREDENTIALS', exitCode: ExitCode.CONFIGURATION });
    expectOwnAdvice(label, error, ACCESS_ADVICE[label]);
    expect(stub.requests).toHaveLength(0);
  });
});
