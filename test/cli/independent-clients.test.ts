/**
 * The emulator held to independent implementations: Debian's botocore (its own SigV4, JSON protocol, error
 * parsing and retry logic), PyJWT and the AWS CLI v2 call it over HTTP as real child processes. Every operation
 * succeeds, every modelled error of every operation comes back under its modelled name and status, throttling
 * is what botocore's retry logic calls throttling, a wrong secret is refused, and the RegisterUsage token is one
 * PyJWT verifies as PS256 with the expected claims (and refuses when our verifier refuses).
 *
 * The tools come from Debian (`.ci/run` installs awscli, python3-botocore, python3-jwt): when one is missing the
 * test fails saying so, never skips.
 */
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyRegistration } from '../../src/index.js';
import type { MeteringEmulator } from '../../src/emulator/index.js';
import { MODELLED_ERRORS } from '../../src/emulator/modelled-errors.js';
import { DUMMY_CREDENTIALS, rejectionOf, startTestEmulator, TEST_PRODUCT_CODE, TEST_REGION } from '../support/index.js';
import { VerificationError } from '../../src/common/errors.js';

/** Debian's interpreter and CLI: the packages install there, whatever else is first on PATH. */
const DEBIAN_PYTHON = '/usr/bin/python3';
const DEBIAN_AWS_CLI = '/usr/bin/aws';
const DRIVER = fileURLToPath(new URL('./fixtures/botocore_client.py', import.meta.url));
const INSTALL_HINT =
  'install the Debian packages awscli, python3-botocore and python3-jwt (.ci/run does: apt-get install -y awscli python3-botocore python3-jwt)';

interface BotocoreAnswer {
  ok: boolean;
  response?: Record<string, unknown>;
  code?: string;
  status?: number;
  requestId?: string;
  attempts?: number;
  throttling?: boolean;
  header?: Record<string, unknown>;
  claims?: Record<string, unknown>;
  error?: string;
}

/** Fails with what is missing and how to install it, rather than letting a test skip or hang. */
function requireTools(): void {
  const probe = spawnSync(DEBIAN_PYTHON, ['-c', 'import botocore, jwt, cryptography'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) {
    throw new Error(
      `${DEBIAN_PYTHON} cannot import botocore, jwt and cryptography (${probe.error?.message ?? probe.stderr.trim()}): ${INSTALL_HINT}.`,
    );
  }
  const cli = spawnSync(DEBIAN_AWS_CLI, ['--version'], { encoding: 'utf8' });
  if (cli.error || !/^aws-cli\/2\./.test(cli.stdout)) {
    throw new Error(
      `${DEBIAN_AWS_CLI} is not the AWS CLI v2 (${cli.error?.message ?? cli.stdout.trim()}): ${INSTALL_HINT}.`,
    );
  }
}

let emulator: MeteringEmulator;
let driver: ChildProcessWithoutNullStreams;
let driverErrors = '';
const pending: ((answer: BotocoreAnswer) => void)[] = [];

beforeAll(async () => {
  requireTools();
  emulator = await startTestEmulator({ credentials: DUMMY_CREDENTIALS });
  driver = spawn(DEBIAN_PYTHON, [DRIVER, emulator.url, TEST_REGION, DUMMY_CREDENTIALS.accessKeyId], {
    env: { PATH: process.env.PATH, HOME: tmpdir() },
  });
  driver.stderr.on('data', (chunk: Buffer) => (driverErrors += chunk.toString()));
  createInterface({ input: driver.stdout }).on('line', (line) => pending.shift()?.(JSON.parse(line) as BotocoreAnswer));
});

afterAll(async () => {
  driver?.stdin.end();
  await emulator?.close();
});

/** One request to the botocore driver, one answer back. */
function botocore(request: Record<string, unknown>): Promise<BotocoreAnswer> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`no answer from botocore within 30 s; its stderr:\n${driverErrors}`)),
      30_000,
    );
    pending.push((answer) => {
      clearTimeout(timer);
      resolve(answer);
    });
    driver.stdin.write(`${JSON.stringify(request)}\n`);
  });
}

const botocoreCall = (call: string, params: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
  botocore({ call, params, secret: DUMMY_CREDENTIALS.secretAccessKey, ...extra });

/** Valid parameters for each operation (timestamps as epoch seconds, which botocore serializes as the JSON protocol wants). */
function validParams(): Record<string, Record<string, unknown>> {
  const now = Date.now() / 1000;
  return {
    RegisterUsage: { ProductCode: TEST_PRODUCT_CODE, PublicKeyVersion: 1, Nonce: 'independent-client-nonce' },
    MeterUsage: { ProductCode: TEST_PRODUCT_CODE, Timestamp: now, UsageDimension: 'requests', UsageQuantity: 1 },
    BatchMeterUsage: {
      ProductCode: TEST_PRODUCT_CODE,
      UsageRecords: [{ Timestamp: now, CustomerIdentifier: 'cust-1', Dimension: 'requests', Quantity: 1 }],
    },
    ResolveCustomer: { RegistrationToken: 'token-valid' },
  };
}

function resetScenario(): void {
  emulator.reset();
  emulator.scenario.registrationTokens = {
    'token-valid': { productCode: TEST_PRODUCT_CODE, customerIdentifier: 'cust-1' },
  };
}

const lastCall = () => emulator.calls.at(-1)!;

describe('botocore (Debian) against the emulator, SigV4 verified', () => {
  it('succeeds on every operation, with the request id botocore reports equal to the one the emulator sent', async () => {
    resetScenario();
    const expected: Record<string, string> = {
      RegisterUsage: 'Signature',
      MeterUsage: 'MeteringRecordId',
      BatchMeterUsage: 'Results',
      ResolveCustomer: 'CustomerIdentifier',
    };
    for (const [operation, params] of Object.entries(validParams())) {
      const answer = await botocoreCall(operation, params);
      expect(answer, operation).toMatchObject({ ok: true, attempts: 1 });
      expect(answer.response, operation).toHaveProperty(expected[operation]!);
      expect(answer.requestId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
      expect(lastCall()).toMatchObject({
        operation,
        statusCode: 200,
        accessKeyId: DUMMY_CREDENTIALS.accessKeyId,
        requestId: answer.requestId,
      });
    }
    expect(Object.keys(expected).sort()).toEqual(Object.keys(MODELLED_ERRORS).sort());
  });

  const everyModelledError = Object.entries(MODELLED_ERRORS).flatMap(([operation, errors]) =>
    Object.entries(errors).map(([name, status]) => [operation, name, status] as const),
  );

  it.each(everyModelledError)('%s answers %s (HTTP %i), reported by that name', async (operation, name, status) => {
    resetScenario();
    emulator.scenario.errors = { [operation]: name };
    const answer = await botocoreCall(operation, validParams()[operation]!);
    expect(answer).toMatchObject({ ok: false, code: name, status, throttling: name === 'ThrottlingException' });
    expect(answer.requestId).toBe(lastCall().requestId);
  });

  it("throttling is retried by botocore's standard retry mode, as throttling", async () => {
    resetScenario();
    emulator.scenario.throttleFirst = Infinity;
    const answer = await botocoreCall('RegisterUsage', validParams().RegisterUsage!, { maxAttempts: 2 });
    expect(answer).toMatchObject({
      ok: false,
      code: 'ThrottlingException',
      status: 400,
      throttling: true,
      attempts: 2,
    });
    expect(emulator.calls.map((c) => c.errorType)).toEqual(['ThrottlingException', 'ThrottlingException']);
  });

  it('a wrong secret is refused before any operation runs', async () => {
    resetScenario();
    const answer = await botocoreCall('RegisterUsage', validParams().RegisterUsage!, { secret: 'not-the-secret' });
    expect(answer).toMatchObject({ ok: false, code: 'InvalidSignatureException', status: 403 });
    expect(emulator.calls).toEqual([
      expect.objectContaining({ statusCode: 403, errorType: 'InvalidSignatureException' }),
    ]);
  });

  it('input rules as the model states them: a 32-bit key version, lengths in characters', async () => {
    resetScenario();
    const register = validParams().RegisterUsage!;
    const beyond = await botocoreCall('RegisterUsage', { ...register, PublicKeyVersion: 2 ** 31 });
    expect(beyond).toMatchObject({ ok: false, code: 'InvalidPublicKeyVersionException', status: 400 });
    expect(await botocoreCall('RegisterUsage', { ...register, PublicKeyVersion: 2 ** 31 - 1 })).toMatchObject({
      ok: true,
    });
    const emoji = '\u{1F600}';
    expect(await botocoreCall('RegisterUsage', { ...register, Nonce: emoji.repeat(200) })).toMatchObject({ ok: true });
    expect(await botocoreCall('RegisterUsage', { ...register, Nonce: emoji.repeat(256) })).toMatchObject({
      ok: false,
      code: 'ValidationException',
    });
    const meter = validParams().MeterUsage!;
    expect(await botocoreCall('MeterUsage', { ...meter, UsageDimension: emoji.repeat(255) })).toMatchObject({
      ok: true,
    });
  });
});

describe('the RegisterUsage token under PyJWT (Debian python3-jwt) and under our verifier', () => {
  async function tokenAndVerdicts(nonce: string) {
    const answer = await botocoreCall('RegisterUsage', { ...validParams().RegisterUsage!, Nonce: nonce });
    expect(answer.ok).toBe(true);
    const token = answer.response!.Signature as string;
    const pyjwt = await botocore({ verifyJwt: token, publicKeyPem: emulator.publicKeyPem });
    const ours = verifyRegistration(token, {
      publicKey: emulator.publicKeyPem,
      productCode: TEST_PRODUCT_CODE,
      publicKeyVersion: 1,
      nonce,
    });
    return { pyjwt, ours };
  }

  it('a genuine token: PyJWT verifies it as PS256 with the expected claims, and so do we', async () => {
    resetScenario();
    const { pyjwt, ours } = await tokenAndVerdicts('pyjwt-genuine');
    expect(pyjwt).toMatchObject({ ok: true, header: { alg: 'PS256', typ: 'JWT' } });
    expect(pyjwt.claims).toMatchObject({ productCode: TEST_PRODUCT_CODE, publicKeyVersion: 1, nonce: 'pyjwt-genuine' });
    expect(typeof pyjwt.claims!.iat).toBe('number');
    await expect(ours).resolves.toMatchObject({
      nonce: 'pyjwt-genuine',
      issuedAtSource: 'token',
      issuedAt: new Date((pyjwt.claims!.iat as number) * 1000),
    });
  });

  it.each(['bad-signature', 'wrong-key', 'rs256', 'alg-none', 'hs256'] as const)(
    'a %s token: PyJWT refuses it, and so do we',
    async (fault) => {
      resetScenario();
      emulator.scenario.tokenFault = fault;
      const { pyjwt, ours } = await tokenAndVerdicts(`pyjwt-${fault}`);
      expect(pyjwt.ok, JSON.stringify(pyjwt)).toBe(false);
      await rejectionOf(ours, VerificationError);
    },
  );
});

describe('the AWS CLI v2 (Debian awscli) against the emulator', () => {
  /** Asynchronous: the emulator answering it runs in this process, so a synchronous spawn would deadlock. */
  async function awsCli(...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
    const home = mkdtempSync(join(tmpdir(), 'aws-cli-home-'));
    const child = spawn(
      DEBIAN_AWS_CLI,
      ['meteringmarketplace', ...args, '--endpoint-url', emulator.url, '--region', TEST_REGION, '--output', 'json'],
      {
        timeout: 60_000,
        env: {
          PATH: process.env.PATH,
          HOME: home,
          AWS_CONFIG_FILE: join(home, 'config'),
          AWS_SHARED_CREDENTIALS_FILE: join(home, 'credentials'),
          AWS_ACCESS_KEY_ID: DUMMY_CREDENTIALS.accessKeyId,
          AWS_SECRET_ACCESS_KEY: DUMMY_CREDENTIALS.secretAccessKey,
          AWS_PAGER: '',
          AWS_MAX_ATTEMPTS: '1',
          AWS_EC2_METADATA_DISABLED: 'true',
        },
      },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise<number | null>((resolve, reject) => child.on('error', reject).on('close', resolve));
    return { code, stdout, stderr };
  }

  it('register-usage returns a token we verify; a modelled error is reported by its name', async () => {
    resetScenario();
    const ok = await awsCli(
      'register-usage',
      '--product-code',
      TEST_PRODUCT_CODE,
      '--public-key-version',
      '1',
      '--nonce',
      'aws-cli-nonce',
    );
    expect(ok.code, ok.stderr).toBe(0);
    const { Signature } = JSON.parse(ok.stdout) as { Signature: string };
    await expect(
      verifyRegistration(Signature, {
        publicKey: emulator.publicKeyPem,
        productCode: TEST_PRODUCT_CODE,
        publicKeyVersion: 1,
        nonce: 'aws-cli-nonce',
      }),
    ).resolves.toMatchObject({ nonce: 'aws-cli-nonce' });

    emulator.scenario.errors = { MeterUsage: 'InvalidEndpointRegionException' };
    const failed = await awsCli(
      'meter-usage',
      '--product-code',
      TEST_PRODUCT_CODE,
      '--timestamp',
      new Date().toISOString(),
      '--usage-dimension',
      'requests',
      '--usage-quantity',
      '1',
    );
    expect(failed.code).not.toBe(0);
    expect(failed.stderr).toContain('(InvalidEndpointRegionException) when calling the MeterUsage operation');
  });
});
