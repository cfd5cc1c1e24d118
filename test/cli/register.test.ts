// `register` as the init container runs it: the built CLI in a child process against the emulator.
import { mkdirSync, readdirSync } from 'node:fs';
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { verifyEntitlementFile } from '../../src/entitlement-file/index.js';
import { TEST_PRODUCT_CODE, useEmulator } from '../support/index.js';
import { decodeFile, emulatorEnv, runCli, startCli, useTempDir, waitFor } from './helpers.js';

const emulator = useEmulator();
const tempDir = useTempDir();
let counter = 0;
const freshDir = () => join(tempDir(), `register-${++counter}`);
const PLACEHOLDER_KEY = new URL('../fixtures/aws-doc-example-key.pem', import.meta.url).pathname;

function register(out: string, extra: string[] = [], env: NodeJS.ProcessEnv = {}) {
  return runCli(['register', '--product-code', TEST_PRODUCT_CODE, '--out', out, '--instance-id', 'pod-a', ...extra], {
    env: emulatorEnv(emulator(), { MARKETPLACE_DEADLINE: '20s', ...env }),
  });
}

/** Nothing at all in `dir` (or `dir` absent): no file, no temp file. */
async function expectNothingIn(dir: string): Promise<void> {
  expect(await readdir(dir).catch(() => [])).toEqual([]);
}

describe('register', () => {
  it('exits 0 with a valid file whose nonce AWS received, JSON logs on stderr and a one-line summary', async () => {
    const out = join(freshDir(), 'entitlement.jwt');
    const result = await register(out);
    expect(result.code).toBe(0);
    const text = await readFile(out, 'utf8');
    const { payload } = decodeFile(text);
    expect(emulator().calls.map((c) => c.input.Nonce)).toEqual([payload.nonce]);
    await expect(
      verifyEntitlementFile(out, {
        publicKey: emulator().publicKeyPem,
        instanceId: 'pod-a',
        productCode: TEST_PRODUCT_CODE,
      }),
    ).resolves.toMatchObject({
      instance: 'pod-a',
    });
    expect(result.stdout.trim().split('\n')).toHaveLength(1);
    expect(result.stdout).toMatch(
      /^entitled: product prod-test-0123456789 registered at .* for instance pod-a after 1 attempt\(s\); wrote /,
    );
    const logs = result.logs();
    for (const line of logs)
      expect(line).toMatchObject({ level: expect.any(String), event: expect.any(String), message: expect.any(String) });
    expect(logs.map((l) => l.event)).toEqual(expect.arrayContaining(['register.start', 'register.verified']));
    // Never a whole token in the logs: neither AWS's nor the file.
    expect(result.stderr).not.toContain(payload.registration as string);
    expect(result.stderr).not.toContain(text.trim().split('.')[2]);
  });

  it.each([
    ['without iat', 'missing', 'info', 'register.iat_absent', true],
    ['with an iat an hour old', 'hour-old', 'warn', 'register.clock_skew', false],
  ] as const)(
    'accepts a token %s (iat is advisory) and says so in the log',
    async (_label, tokenIat, level, event, receivedTime) => {
      emulator().scenario.tokenIat = tokenIat;
      const out = join(freshDir(), 'entitlement.jwt');
      const result = await register(out);
      expect(result.code, result.stderr).toBe(0);
      expect(result.logs()).toContainEqual(expect.objectContaining({ level, event }));
      expect(result.stdout.includes('(when the answer arrived: the token has no iat)')).toBe(receivedTime);
    },
  );

  it('takes every option from MARKETPLACE_* and ignores MARKETPLACE_* variables that name no option', async () => {
    const out = join(freshDir(), 'entitlement.jwt');
    const result = await runCli(['register'], {
      env: emulatorEnv(emulator(), {
        MARKETPLACE_PRODUCT_CODE: TEST_PRODUCT_CODE,
        MARKETPLACE_OUT: out,
        MARKETPLACE_INSTANCE_ID: 'pod-env',
        MARKETPLACE_DEADLINE: '20s',
        MARKETPLACE_LOG_FORMAT: 'text',
        MARKETPLACE_SOMETHING_UNRELATED: 'ignored',
      }),
    });
    expect(result.code).toBe(0);
    expect(decodeFile(await readFile(out, 'utf8')).payload.instance).toBe('pod-env');
    expect(result.stderr).toMatch(/INFO +register\.verified Entitlement verified/);
  });

  it.each([
    ['MARKETPLACE_ENTITLEMENT_FILE alone', { MARKETPLACE_ENTITLEMENT_FILE: 'new' }, [], 'new'],
    ['MARKETPLACE_OUT alone (the older name, an alias)', { MARKETPLACE_OUT: 'old' }, [], 'old'],
    [
      'both: MARKETPLACE_ENTITLEMENT_FILE wins',
      { MARKETPLACE_ENTITLEMENT_FILE: 'new', MARKETPLACE_OUT: 'old' },
      [],
      'new',
    ],
    ['--out over both', { MARKETPLACE_ENTITLEMENT_FILE: 'new', MARKETPLACE_OUT: 'old' }, ['--out', 'flag'], 'flag'],
  ] as const)('writes where the path is named: %s', async (_label, names, flags, written) => {
    const dir = freshDir();
    mkdirSync(dir, { recursive: true });
    const env = Object.fromEntries(Object.entries(names).map(([key, name]) => [key, join(dir, `${name}.jwt`)]));
    const result = await runCli(
      [
        'register',
        '--product-code',
        TEST_PRODUCT_CODE,
        '--instance-id',
        'pod-a',
        ...flags.map((f) => (f === 'flag' ? join(dir, 'flag.jwt') : f)),
      ],
      {
        env: emulatorEnv(emulator(), { MARKETPLACE_DEADLINE: '20s', ...env }),
      },
    );
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(readdirSync(dir).filter((f) => f.endsWith('.jwt'))).toEqual([`${written}.jwt`]);
  });

  it('lets the command line win over the environment', async () => {
    const out = join(freshDir(), 'entitlement.jwt');
    const result = await register(out, [], { MARKETPLACE_INSTANCE_ID: 'pod-env', MARKETPLACE_PRODUCT_CODE: 'other' });
    expect(result.code).toBe(0);
    expect(decodeFile(await readFile(out, 'utf8')).payload).toMatchObject({
      instance: 'pod-a',
      productCode: TEST_PRODUCT_CODE,
    });
  });

  it('binds the file to POD_UID from the downward API when no --instance-id is given', async () => {
    const out = join(freshDir(), 'entitlement.jwt');
    const result = await runCli(['register', '--product-code', TEST_PRODUCT_CODE, '--out', out], {
      env: emulatorEnv(emulator(), { POD_UID: 'uid-from-downward-api' }),
    });
    expect(result.code).toBe(0);
    expect(decodeFile(await readFile(out, 'utf8')).payload.instance).toBe('uid-from-downward-api');
  });

  it('retries throttling and succeeds', async () => {
    emulator().scenario.throttleFirst = 2;
    const out = join(freshDir(), 'entitlement.jwt');
    const result = await register(out);
    expect(result.code).toBe(0);
    expect(emulator().calls.map((c) => c.errorType ?? 'ok')).toEqual([
      'ThrottlingException',
      'ThrottlingException',
      'ok',
    ]);
    expect(result.logs().filter((l) => l.event === 'register.retry')).toHaveLength(2);
    expect(result.stdout).toContain('after 3 attempt(s)');
  });

  it.each([
    ['no product code', ['register'], /--product-code is required/],
    ['an unknown flag', ['register', '--product-code', 'p', '--public-key', 'x', '--bogus'], /Unknown argument: bogus/],
    [
      'a bad duration',
      ['register', '--product-code', 'p', '--public-key', 'x', '--deadline', 'soon'],
      /--deadline "soon" is not valid/,
    ],
    ['no public key', ['register', '--product-code', 'p'], /public key is required/],
    ['no command', [], /Name a command/],
  ])('exits 64 for %s', async (_name, args, message) => {
    const result = await runCli(args);
    expect(result.code).toBe(64);
    expect(result.failure()).toMatch(message);
    expect(result.logs()[0]).toMatchObject({ level: 'error', event: expect.stringMatching(/^cli\.(usage|failed)$/) });
  });

  it('exits 66 when the key file does not exist or cannot be read', async () => {
    const missing = await runCli([
      'register',
      '--product-code',
      'p',
      '--public-key-file',
      join(tempDir(), 'absent.pem'),
    ]);
    expect(missing.code).toBe(66);
    expect(missing.stderr).toContain('PUBLIC_KEY_FILE_MISSING');
    const directory = await runCli(['register', '--product-code', 'p', '--public-key-file', tempDir()]);
    expect(directory.code).toBe(66);
    expect(directory.failure()).toContain('PUBLIC_KEY_FILE_UNREADABLE');
    expect(emulator().calls).toHaveLength(0);
  });

  it('exits 77 with no file when the buyer is not entitled', async () => {
    emulator().scenario.entitled = false;
    const dir = freshDir();
    const result = await register(join(dir, 'entitlement.jwt'));
    expect(result.code).toBe(77);
    expect(result.failure()).toMatch(/^CUSTOMER_NOT_ENTITLED: .* \(exit 77\)$/);
    expect(result.stdout).toBe('');
    await expectNothingIn(dir);
  });

  it('exits 78 with no AWS call for the AWS documentation placeholder key', async () => {
    const dir = freshDir();
    const result = await register(join(dir, 'entitlement.jwt'), ['--public-key-file', PLACEHOLDER_KEY], {
      MARKETPLACE_PUBLIC_KEY: '',
    });
    expect(result.code).toBe(78);
    expect(result.stderr).toContain('REFUSED_PUBLIC_KEY');
    expect(emulator().calls).toHaveLength(0);
  });

  it('exits 78 when AWS says the product code is invalid', async () => {
    emulator().scenario.error = 'InvalidProductCodeException';
    const dir = freshDir();
    const result = await register(join(dir, 'entitlement.jwt'));
    expect(result.code).toBe(78);
    await expectNothingIn(dir);
  });

  it('exits 65 with no file when the signed answer does not verify', async () => {
    emulator().scenario.tokenFault = 'wrong-nonce';
    const dir = freshDir();
    const result = await register(join(dir, 'entitlement.jwt'));
    expect(result.code).toBe(65);
    expect(result.stderr).toContain('NONCE_MISMATCH');
    await expectNothingIn(dir);
  });

  it('exits 69 with no file when AWS keeps throttling past the deadline', async () => {
    emulator().scenario.throttleFirst = Infinity;
    const dir = freshDir();
    const result = await register(join(dir, 'entitlement.jwt'), ['--deadline', '1500ms']);
    expect(result.code).toBe(69);
    expect(result.stderr).toContain('DEADLINE_EXCEEDED');
    expect(emulator().calls.length).toBeGreaterThan(0);
    await expectNothingIn(dir);
  });

  it('exits 73 before calling AWS when --out cannot have a directory', async () => {
    const blocker = join(tempDir(), 'blocker-file');
    await writeFile(blocker, 'x');
    const result = await register(join(blocker, 'entitlement.jwt'));
    expect(result.code).toBe(73);
    expect(result.stderr).toContain('OUTPUT_DIR_UNAVAILABLE');
    expect(emulator().calls).toHaveLength(0);
  });

  it('exits 73 leaving nothing behind when --out cannot be written', async () => {
    const dir = freshDir();
    await mkdir(join(dir, 'entitlement.jwt'), { recursive: true }); // a directory where the file belongs
    const result = await register(join(dir, 'entitlement.jwt'));
    expect(result.code).toBe(73);
    expect(result.stderr).toContain('OUTPUT_NOT_REGULAR_FILE');
    expect(emulator().calls).toHaveLength(0);
    expect(await readdir(dir)).toEqual(['entitlement.jwt']);
    expect(await readdir(join(dir, 'entitlement.jwt'))).toEqual([]);
  });

  it.each([
    ['SIGTERM', 143],
    ['SIGINT', 130],
  ] as const)('stops the retry loop at once on %s: exit %i, no file, no temp file', async (signal, code) => {
    emulator().scenario.throttleFirst = Infinity;
    const dir = freshDir();
    const cli = startCli(
      [
        'register',
        '--product-code',
        TEST_PRODUCT_CODE,
        '--out',
        join(dir, 'entitlement.jwt'),
        '--instance-id',
        'pod-a',
        '--deadline',
        '10m',
      ],
      { env: emulatorEnv(emulator()) },
    );
    await waitFor(() => cli.stderr().includes('register.retry'), 'a first retry');
    const sentAt = Date.now();
    cli.child.kill(signal);
    const result = await cli.done;
    expect(result.code).toBe(code);
    expect(Date.now() - sentAt).toBeLessThan(5_000);
    expect(result.logs().find((l) => l.event === 'cli.failed')).toMatchObject({ command: 'register', exitCode: code });
    await expectNothingIn(dir);
  });
});
