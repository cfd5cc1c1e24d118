// The `emulator` command's metering flags, through the built CLI: the emulator runs as a child process and is
// driven over HTTP by the `meter` command (another child) and by the library through the real AWS SDK.
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { VerificationError } from '../../src/errors.js';
import { batchMeterUsage, resolveCustomer } from '../../src/metering/index.js';
import { DUMMY_CREDENTIALS, FAST_RETRY, rejectionOf, TEST_PRODUCT_CODE, TEST_REGION } from '../support/index.js';
import { baseEnv, runCli, startCli, startEmulator, useTempDir, waitFor } from './helpers.js';

const tempDir = useTempDir();

const awsEnv = baseEnv({
  AWS_ACCESS_KEY_ID: DUMMY_CREDENTIALS.accessKeyId,
  AWS_SECRET_ACCESS_KEY: DUMMY_CREDENTIALS.secretAccessKey,
  AWS_REGION: TEST_REGION,
});
const meter = (url: string, ...args: string[]) =>
  runCli(
    ['meter', '--product-code', TEST_PRODUCT_CODE, '--endpoint', url, '--deadline', '10s', '--quantity', '1', ...args],
    { env: awsEnv },
  );
const libraryOptions = (url: string) => ({
  endpoint: url,
  region: TEST_REGION,
  credentials: DUMMY_CREDENTIALS,
  retry: FAST_RETRY,
  deadlineMs: 10_000,
  logger: {},
});

describe('emulator metering flags', () => {
  it('--dimensions, --unprocessed-first, --subscribed-customers and --registration-tokens-file steer the metering operations', async () => {
    const tokensFile = join(tempDir(), 'tokens.json');
    await writeFile(
      tokensFile,
      JSON.stringify({
        'token-valid': {
          productCode: TEST_PRODUCT_CODE,
          customerIdentifier: 'cust-1',
          customerAWSAccountId: '123456789012',
        },
        'token-expired': {
          productCode: TEST_PRODUCT_CODE,
          customerIdentifier: 'cust-2',
          expiresAt: '2020-01-01T00:00:00Z',
        },
      }),
    );
    const emulator = await startEmulator([
      '--dimensions',
      'requests,users',
      '--unprocessed-first',
      '1',
      '--subscribed-customers',
      'cust-1',
      '--registration-tokens-file',
      tokensFile,
    ]);

    expect((await meter(emulator.url, '--dimension', 'requests')).code).toBe(0);
    const unknown = await meter(emulator.url, '--dimension', 'storage');
    expect(unknown.code).toBe(78);
    expect(unknown.stderr).toContain('INVALID_USAGE_DIMENSION');

    const now = new Date();
    const batch = await batchMeterUsage(
      {
        ProductCode: TEST_PRODUCT_CODE,
        UsageRecords: [
          { CustomerIdentifier: 'cust-1', Dimension: 'users', Quantity: 2, Timestamp: now },
          { CustomerIdentifier: 'cust-2', Dimension: 'users', Quantity: 3, Timestamp: now },
        ],
      },
      libraryOptions(emulator.url),
    );
    expect(batch.attempts).toBe(2); // the first call left a record unprocessed
    expect(batch.results.map((r) => [r.UsageRecord?.CustomerIdentifier, r.Status]).sort()).toEqual([
      ['cust-1', 'Success'],
      ['cust-2', 'CustomerNotSubscribed'],
    ]);

    expect(await resolveCustomer({ RegistrationToken: 'token-valid' }, libraryOptions(emulator.url))).toMatchObject({
      customerIdentifier: 'cust-1',
      customerAWSAccountId: '123456789012',
      productCode: TEST_PRODUCT_CODE,
    });
    expect(
      (
        await rejectionOf(
          resolveCustomer({ RegistrationToken: 'token-expired' }, libraryOptions(emulator.url)),
          VerificationError,
        )
      ).code,
    ).toBe('REGISTRATION_TOKEN_EXPIRED');
    expect(
      (
        await rejectionOf(
          resolveCustomer({ RegistrationToken: 'token-other' }, libraryOptions(emulator.url)),
          VerificationError,
        )
      ).code,
    ).toBe('REGISTRATION_TOKEN_INVALID');

    emulator.cli.child.kill('SIGTERM');
    const stopped = await emulator.cli.done;
    expect(stopped.code).toBe(0);
    const calls = stopped.logs().filter((l) => l.event === 'emulator.call');
    expect(calls.filter((c) => c.operation === 'BatchMeterUsage')).toHaveLength(2);
    expect(calls.find((c) => c.errorType === 'InvalidUsageDimensionException')).toMatchObject({
      operation: 'MeterUsage',
      dimension: 'storage',
    });
  });

  it('--metering-denied (also as MARKETPLACE_METERING_DENIED) makes a DryRun fail as ACCESS_DENIED', async () => {
    const cli = startCli(['emulator', '--port', '0'], { env: baseEnv({ MARKETPLACE_METERING_DENIED: 'true' }) });
    await waitFor(() => cli.stdout().includes('listening on'), 'the emulator URL', 30_000);
    const url = /listening on (http:\/\/\S+)/.exec(cli.stdout())![1]!;
    const denied = await meter(url, '--dimension', 'requests', '--dry-run');
    expect(denied.code).toBe(78);
    expect(denied.stderr).toContain('ACCESS_DENIED');
    expect(denied.failure()).toContain('aws-marketplace:MeterUsage');
    cli.child.kill('SIGTERM');
    expect((await cli.done).code).toBe(0);
  });

  it('in text mode prints the settings to paste; pasted into a clean environment, register and check succeed with them', async () => {
    const cli = startCli(['emulator', '--port', '0', '--log-format', 'text']);
    await waitFor(() => cli.stdout().includes('MARKETPLACE_PUBLIC_KEY_FILE='), 'the settings to paste', 30_000);
    const pasted = Object.fromEntries(
      [...cli.stdout().matchAll(/^ {2}export (.*?)(?:\s+#.*)?$/gm)].flatMap((m) =>
        m[1]!.split(' ').map((pair) => pair.split('=', 2) as [string, string]),
      ),
    );
    expect(Object.keys(pasted).sort()).toEqual([
      'AWS_ACCESS_KEY_ID',
      'AWS_REGION',
      'AWS_SECRET_ACCESS_KEY',
      'MARKETPLACE_ENDPOINT',
      'MARKETPLACE_PUBLIC_KEY_FILE',
    ]);
    const env = baseEnv(pasted);
    const out = join(tempDir(), 'pasted.jwt');
    const register = await runCli(
      ['register', '--product-code', TEST_PRODUCT_CODE, '--out', out, '--instance-id', 'pod-a'],
      { env },
    );
    expect(register.code, register.stdout + register.stderr).toBe(0);
    const check = await runCli(['check', '--file', out], { env });
    expect(check.code, check.stdout + check.stderr).toBe(0);
    cli.child.kill('SIGTERM');
    expect((await cli.done).code).toBe(0);
    // The scratch key file is the emulator's own: gone once it stopped.
    expect(existsSync(pasted.MARKETPLACE_PUBLIC_KEY_FILE!)).toBe(false);
  });

  it('describes the metering operations and flags in --help', async () => {
    const help = await runCli(['emulator', '--help']);
    expect(help.code).toBe(0);
    const text = help.stdout.replace(/\s+/g, ' '); // yargs wraps lines
    expect(text).toContain('(RegisterUsage, MeterUsage, BatchMeterUsage, ResolveCustomer)');
    expect(text).toContain('Answer every RegisterUsage call with this AWS error');
    for (const flag of [
      '--dimensions',
      '--metering-denied',
      '--unprocessed-first',
      '--subscribed-customers',
      '--registration-tokens-file',
    ]) {
      expect(text).toContain(flag);
    }
  });
});

describe('emulator metering flags: bad values', () => {
  const tokens = async (name: string, text: string) => {
    const file = join(tempDir(), name);
    await writeFile(file, text);
    return ['--registration-tokens-file', file];
  };

  it.each([
    ['--unprocessed-first -1', async () => ['--unprocessed-first', '-1'], '--unprocessed-first'],
    ['--unprocessed-first 1.5', async () => ['--unprocessed-first', '1.5'], 'whole number'],
    ['--throttle-first -2', async () => ['--throttle-first', '-2'], '--throttle-first'],
    ['--rate-limit 0', async () => ['--rate-limit', '0'], '--rate-limit'],
    ['--dimensions with an empty item', async () => ['--dimensions', 'requests,'], 'empty item'],
    ['--subscribed-customers repeated', async () => ['--subscribed-customers', 'c1,c1'], 'twice'],
    ['a tokens file that is not JSON', () => tokens('not-json.json', '{"t":'), 'not JSON'],
    ['a tokens file that is a list', () => tokens('list.json', '[]'), 'expected an object'],
    [
      'a token without productCode',
      () => tokens('no-product.json', '{"t":{"customerIdentifier":"c"}}'),
      '"productCode"',
    ],
    [
      'a token with a misspelt field',
      () => tokens('typo.json', '{"t":{"productCode":"p","customerId":"c"}}'),
      '"customerId"',
    ],
    [
      'a token with a bad expiresAt',
      () => tokens('bad-time.json', '{"t":{"productCode":"p","expiresAt":"tomorrow"}}'),
      '"expiresAt"',
    ],
    ['--access-key-id without a secret', async () => ['--access-key-id', 'AKIDEXAMPLE'], 'go together'],
    ['--secret-access-key without a key id', async () => ['--secret-access-key', 's3cret'], 'go together'],
    [
      '--operation-errors naming an unknown operation',
      async () => ['--operation-errors', 'Meter=ThrottlingException'],
      'OPERATION one of',
    ],
    [
      '--operation-errors with an error the operation does not model',
      async () => ['--operation-errors', 'MeterUsage=InvalidLicenseException'],
      'MeterUsage models',
    ],
  ])('%s is a usage error (64) naming the problem', async (_, flags, says) => {
    const result = await runCli(['emulator', ...(await flags())]);
    expect(result.code).toBe(64);
    expect(result.failure()).toContain(says);
    expect(result.stdout).not.toContain('listening on');
  });

  it('a missing tokens file is exit 66', async () => {
    const result = await runCli(['emulator', '--registration-tokens-file', join(tempDir(), 'absent.json')]);
    expect(result.code).toBe(66);
    expect(result.stderr).toContain('REGISTRATION_TOKENS_FILE_MISSING');
  });
});

describe('emulator --operation-errors', () => {
  it('makes the named operations answer their modelled errors, others unaffected', async () => {
    const emulator = await startEmulator([
      '--operation-errors',
      'BatchMeterUsage=InvalidCustomerIdentifierException,ResolveCustomer=DisabledApiException',
    ]);
    try {
      const now = new Date();
      const batch = batchMeterUsage(
        {
          ProductCode: TEST_PRODUCT_CODE,
          UsageRecords: [{ CustomerIdentifier: 'c', Dimension: 'd', Quantity: 1, Timestamp: now }],
        },
        libraryOptions(emulator.url),
      );
      await expect(batch).rejects.toMatchObject({ code: 'INVALID_CUSTOMER_IDENTIFIER' });
      await expect(resolveCustomer({ RegistrationToken: 't' }, libraryOptions(emulator.url))).rejects.toMatchObject({
        code: 'DISABLED_API',
      });
      expect((await meter(emulator.url, '--dimension', 'requests')).code).toBe(0);
    } finally {
      emulator.cli.child.kill('SIGTERM');
      await emulator.cli.done;
    }
  });
});

describe('a command that runs until stopped, with a stalled log reader', () => {
  it('the emulator keeps answering while nobody reads its stderr, and every log line arrives once it is read', async () => {
    const emulator = await startEmulator([]);
    try {
      // Each call logs a line of about 300 bytes: 1,000 calls overfill the pipe (64 KiB) and our paused reader's buffer.
      emulator.cli.child.stderr.pause();
      const calls = 1000;
      for (let i = 0; i < calls; i++) {
        const response = await fetch(emulator.url, {
          method: 'POST',
          headers: {
            'x-amz-target': 'AWSMPMeteringService.RegisterUsage',
            'content-type': 'application/x-amz-json-1.1',
          },
          body: JSON.stringify({ ProductCode: TEST_PRODUCT_CODE, PublicKeyVersion: 1 }),
          signal: AbortSignal.timeout(10_000),
        });
        expect(response.status).toBe(403); // unsigned: MissingAuthenticationToken, logged like any call
      }
      emulator.cli.child.stderr.resume();
      await waitFor(
        () =>
          emulator.cli
            .stderr()
            .split('\n')
            .filter((line) => line.includes('"event":"emulator.call"')).length === calls,
        'every call logged',
      );
    } finally {
      emulator.cli.child.kill('SIGTERM');
      await emulator.cli.done;
    }
  });
});
