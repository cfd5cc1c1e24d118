/**
 * The emulator's own contract: AWS JSON 1.1 with SigV4 required, AWS-shaped errors, real PS256 tokens, recorded
 * calls, and the scenario knobs (throttling, token bucket, latency, reset, extra operations).
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  type MarketplaceMeteringClient,
  MeterUsageCommand,
  RegisterUsageCommand,
} from '@aws-sdk/client-marketplace-metering';
import { decodeProtectedHeader } from 'jose';
import { verifyRegistration } from '../../src/index.js';
import {
  EmulatorServiceError,
  startMeteringEmulator,
  type MeteringEmulator,
  type RecordedCall,
} from '../../src/emulator/index.js';
import { sleep } from '../../src/aws/retry.js';
import { TokenBucket } from '../../src/emulator/token-bucket.js';
import { DUMMY_CREDENTIALS, emulatorClient, TEST_REGION, useEmulator, withEmulator } from '../support/index.js';

const emulator = useEmulator();

const REGISTER = { ProductCode: 'prod-emulator', PublicKeyVersion: 1, Nonce: 'nonce-0001' };

/** A well-formed SigV4 Authorization header (the emulator without `credentials` checks only its form and scope). */
function sigV4Headers(service = 'aws-marketplace'): Record<string, string> {
  return {
    authorization: `AWS4-HMAC-SHA256 Credential=AKIDRAW/20250101/${TEST_REGION}/${service}/aws4_request, SignedHeaders=host;x-amz-date, Signature=${'0'.repeat(64)}`,
    'x-amz-date': '20250101T000000Z',
  };
}

/** A raw AWS JSON 1.1 request, bypassing the SDK. */
async function rawCall(target: string, body: unknown, headers: Record<string, string> = sigV4Headers()) {
  const response = await fetch(emulator().url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': target, ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return {
    status: response.status,
    errorType: response.headers.get('x-amzn-errortype'),
    body: (await response.json()) as Record<string, unknown>,
  };
}

/** Sends RegisterUsage through the real SDK (a client of its own unless given) and returns the AWS error name, or 'ok'. */
async function sdkOutcome(client?: MarketplaceMeteringClient, input = REGISTER): Promise<string> {
  const sender = client ?? emulatorClient(emulator());
  try {
    await sender.send(new RegisterUsageCommand(input));
    return 'ok';
  } catch (err) {
    return (err as Error).name;
  } finally {
    if (!client) sender.destroy();
  }
}

describe('wire protocol', () => {
  it('binds to 127.0.0.1 and serves a PS256 JWT over what was sent, verifiable with its public key', async () => {
    expect(emulator().url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const answer = await rawCall('AWSMPMeteringService.RegisterUsage', REGISTER);

    expect(answer.status).toBe(200);
    const token = answer.body.Signature as string;
    expect(decodeProtectedHeader(token)).toEqual({ alg: 'PS256', typ: 'JWT' });
    const claims = await verifyRegistration(token, {
      publicKey: emulator().publicKeyPem,
      productCode: REGISTER.ProductCode,
      publicKeyVersion: 1,
      nonce: REGISTER.Nonce,
    });
    expect(Object.keys(claims.payload).sort()).toEqual(['iat', 'nonce', 'productCode', 'publicKeyVersion']);
  });

  it('generates an RSA-3072 signing key when none is given', async () => {
    const fresh = await startMeteringEmulator();
    await fresh.close();
    expect(fresh.publicKey.asymmetricKeyDetails?.modulusLength).toBe(3072);
    expect(fresh.publicKeyPem).toMatch(/^-----BEGIN PUBLIC KEY-----/);
  });

  it.each([
    ['an unsigned request', {}, 'MissingAuthenticationTokenException'],
    ['a malformed Authorization header', { authorization: 'Bearer abc' }, 'IncompleteSignatureException'],
    ['a signature scoped to another service', sigV4Headers('execute-api'), 'InvalidSignatureException'],
  ])('rejects %s with 403', async (_label, headers, errorType) => {
    const answer = await rawCall('AWSMPMeteringService.RegisterUsage', REGISTER, headers);

    expect(answer).toMatchObject({ status: 403, errorType, body: { __type: errorType } });
    expect(emulator().calls).toMatchObject([{ statusCode: 403, errorType, input: {} }]);
  });

  it('with credentials, a body changed after signing is refused, whatever x-amz-content-sha256 claims', async () => {
    await withEmulator({ credentials: DUMMY_CREDENTIALS }, async (strict) => {
      const outcome = async (tamper: boolean) => {
        const client = emulatorClient(strict);
        // Before signing: a payload-hash header over the original body, which the signer then uses as is.
        client.middlewareStack.add(
          (next) => async (args) => {
            const request = args.request as { headers: Record<string, string>; body: string };
            request.headers['x-amz-content-sha256'] = createHash('sha256').update(request.body).digest('hex');
            return next(args);
          },
          { step: 'build', name: 'payloadHashHeader' },
        );
        // The deserialize step sees the request after signing: another product code in the body, as a man in
        // the middle would send it.
        client.middlewareStack.add(
          (next) => async (args) => {
            const request = args.request as { body: string };
            if (tamper) request.body = request.body.replace(REGISTER.ProductCode, 'prod-tampered');
            return next(args);
          },
          { step: 'deserialize', name: 'tamperAfterSigning' },
        );
        return sdkOutcome(client).finally(() => client.destroy());
      };
      expect(await outcome(false)).toBe('ok');
      expect(await outcome(true)).toBe('InvalidSignatureException');
    });
  });

  it('names the expected signing service when the scope is wrong', async () => {
    const answer = await rawCall('AWSMPMeteringService.RegisterUsage', REGISTER, sigV4Headers('execute-api'));
    expect(answer.body.message).toContain("'aws-marketplace'");
  });

  it.each([
    ['an unknown operation', 'AWSMPMeteringService.NoSuchOperation', REGISTER, 'UnknownOperationException'],
    ['another service prefix', 'SomeOtherService.RegisterUsage', REGISTER, 'UnknownOperationException'],
    ['a body that is no JSON object', 'AWSMPMeteringService.RegisterUsage', '[1,2]', 'SerializationException'],
  ])('answers %s with a 400 %s', async (_label, target, body, errorType) => {
    const answer = await rawCall(target, body);
    expect(answer).toMatchObject({ status: 400, errorType, body: { __type: errorType } });
  });

  it.each([
    ['a product code off the pattern', { ...REGISTER, ProductCode: 'bad code' }, 'InvalidProductCodeException'],
    ['key version 0', { ...REGISTER, PublicKeyVersion: 0 }, 'InvalidPublicKeyVersionException'],
    [
      "key version 2^31, beyond the model's 32-bit integer",
      { ...REGISTER, PublicKeyVersion: 2 ** 31 },
      'InvalidPublicKeyVersionException',
    ],
    ['key version 2^31-1, the largest', { ...REGISTER, PublicKeyVersion: 2 ** 31 - 1 }, 'ok'],
    ['a nonce over 255 characters', { ...REGISTER, Nonce: 'n'.repeat(256) }, 'ValidationException'],
    ['a nonce of 255 emoji (510 UTF-16 units, 255 characters)', { ...REGISTER, Nonce: '\u{1F600}'.repeat(255) }, 'ok'],
  ])('validates RegisterUsage input like AWS: %s', async (_label, input, errorType) => {
    expect(await sdkOutcome(undefined, input)).toBe(errorType);
  });
});

describe('recorded calls', () => {
  it('records operation, input, SigV4 scope, status and time, and reports each to onCall', async () => {
    const seen: RecordedCall[] = [];
    await withEmulator({ onCall: (call) => seen.push(call) }, async (local) => {
      const client = emulatorClient(local, { region: 'me-central-1' });
      const before = Date.now();
      await client.send(new RegisterUsageCommand(REGISTER));
      local.scenario.entitled = false;
      await client.send(new RegisterUsageCommand(REGISTER)).catch(() => undefined);
      client.destroy();

      expect(local.calls).toMatchObject([
        {
          operation: 'RegisterUsage',
          input: REGISTER,
          region: 'me-central-1',
          accessKeyId: DUMMY_CREDENTIALS.accessKeyId,
          statusCode: 200,
        },
        { operation: 'RegisterUsage', statusCode: 400, errorType: 'CustomerNotEntitledException' },
      ]);
      expect(local.calls[0]!.at.getTime()).toBeGreaterThanOrEqual(before - 1);
      expect(seen).toEqual(local.calls);
    });
  });

  it('reset() restores the initial scenario and forgets calls and counters', async () => {
    await withEmulator({ scenario: { throttleFirst: 1 } }, async (local) => {
      const client = emulatorClient(local);
      expect(await sdkOutcome(client)).toBe('ThrottlingException');
      local.scenario.entitled = false;
      local.reset();

      expect(local.calls).toHaveLength(0);
      expect(local.scenario).toMatchObject({ entitled: true, throttleFirst: 1 });
      expect(await sdkOutcome(client)).toBe('ThrottlingException'); // the counter starts again
      expect(await sdkOutcome(client)).toBe('ok');
      client.destroy();
    });
  });
});

describe('scenario knobs', () => {
  it('throttles the first N calls, then answers', async () => {
    emulator().scenario.throttleFirst = 2;
    const outcomes = [await sdkOutcome(), await sdkOutcome(), await sdkOutcome()];
    expect(outcomes).toEqual(['ThrottlingException', 'ThrottlingException', 'ok']);
  });

  it('fails the first N calls with HTTP 500 InternalServiceErrorException', async () => {
    emulator().scenario.failFirst = 1;
    expect([await sdkOutcome(), await sdkOutcome()]).toEqual(['InternalServiceErrorException', 'ok']);
    expect(emulator().calls.map((call) => call.statusCode)).toEqual([500, 200]);
  });

  it('a token bucket (burst 5, 1/s): the 6th immediate call is throttled, a second later one passes', async () => {
    emulator().scenario.rateLimit = { perSecond: 1, burst: 5 };
    const client = emulatorClient(emulator());
    const outcomes = await Promise.all(Array.from({ length: 6 }, () => sdkOutcome(client)));

    expect(outcomes.filter((o) => o === 'ok')).toHaveLength(5);
    expect(outcomes.filter((o) => o === 'ThrottlingException')).toHaveLength(1);
    await sleep(1_100);
    expect(await sdkOutcome(client)).toBe('ok');
    client.destroy();
  });

  it('the bucket on explicit times (the code the herd simulator runs): full at first, refills at perSecond, a throttled call takes nothing', () => {
    const bucket = new TokenBucket();
    const limit = { perSecond: 5, burst: 2 };
    expect([0, 0, 0].map((t) => bucket.take(t, limit))).toEqual([true, true, false]);
    expect(bucket.msUntilToken(limit)).toBe(200);
    expect(bucket.take(199, limit)).toBe(false); // 0.995 tokens: not yet
    expect(bucket.take(200, limit)).toBe(true); // the throttled call at 199 took nothing
    expect(bucket.take(10_000, limit)).toBe(true); // refilled, but never past the burst
    expect(bucket.take(10_000, limit)).toBe(true);
    expect(bucket.take(10_000, limit)).toBe(false);
    const noBurst = new TokenBucket(); // burst defaults to perSecond
    expect(Array.from({ length: 6 }, () => noBurst.take(0, { perSecond: 5 }))).toEqual([
      true,
      true,
      true,
      true,
      true,
      false,
    ]);
  });

  it('delays every answer by latencyMs', async () => {
    emulator().scenario.latencyMs = 250;
    const started = performance.now();
    expect(await sdkOutcome()).toBe('ok');
    expect(performance.now() - started).toBeGreaterThanOrEqual(240);
  });

  it('answers with PublicKeyRotationTimestamp in epoch seconds', async () => {
    emulator().scenario.rotationTimestamp = new Date('2025-06-01T00:00:00Z');
    const answer = await rawCall('AWSMPMeteringService.RegisterUsage', REGISTER);
    expect(answer.body.PublicKeyRotationTimestamp).toBe(Date.parse('2025-06-01T00:00:00Z') / 1000);
  });
});

describe('extra operations', () => {
  async function withMeterUsage(body: (local: MeteringEmulator) => Promise<void>): Promise<void> {
    await withEmulator(
      {
        operations: {
          MeterUsage: (input) => {
            if (input.UsageDimension === 'duplicate')
              throw new EmulatorServiceError('DuplicateRequestException', 'Already metered');
            return { MeteringRecordId: 'record-1' };
          },
        },
      },
      body,
    );
  }

  it('answers the SDK through a registered handler, and its EmulatorServiceError as an AWS error', async () => {
    await withMeterUsage(async (local) => {
      const client = emulatorClient(local);
      const input = { ProductCode: 'prod', Timestamp: new Date(), UsageDimension: 'cpu', UsageQuantity: 1 };
      await expect(client.send(new MeterUsageCommand(input))).resolves.toMatchObject({ MeteringRecordId: 'record-1' });
      await expect(client.send(new MeterUsageCommand({ ...input, UsageDimension: 'duplicate' }))).rejects.toMatchObject(
        {
          name: 'DuplicateRequestException',
          $metadata: { httpStatusCode: 400 },
        },
      );
      client.destroy();
      expect(local.calls.map((call) => call.operation)).toEqual(['MeterUsage', 'MeterUsage']);
    });
  });
});
