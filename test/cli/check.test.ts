// `check`, the exec probe: the built CLI against real files, genuine and forged.
import { generateKeyPairSync } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ensureEntitled } from '../../src/index.js';
import { emulatorOptions, TEST_PRODUCT_CODE, useEmulator } from '../support/index.js';
import { baseEnv, CLI, decodeFile, runCli, signFile, thumbprintOf, useTempDir } from './helpers.js';
import { spawn } from 'node:child_process';

const emulator = useEmulator();
const tempDir = useTempDir();
let counter = 0;
const freshPath = () => join(tempDir(), `check-${++counter}`, 'entitlement.jwt');

async function registerFile(instanceId = 'pod-a'): Promise<string> {
  const path = freshPath();
  await ensureEntitled(emulatorOptions(emulator(), { entitlementFile: path, instanceId, env: {} }));
  return path;
}

async function writeText(text: string): Promise<string> {
  const path = freshPath();
  await mkdir(join(path, '..'), { recursive: true });
  await writeFile(path, text);
  return path;
}

function check(file: string, extra: string[] = [], env: NodeJS.ProcessEnv = {}) {
  return runCli(['check', '--file', file, '--product-code', TEST_PRODUCT_CODE, ...extra], {
    env: baseEnv({ MARKETPLACE_PUBLIC_KEY: emulator().publicKeyPem, MARKETPLACE_INSTANCE_ID: 'pod-a', ...env }),
  });
}

async function expectCheck(file: string, code: number, errorCode?: string, env: NodeJS.ProcessEnv = {}): Promise<void> {
  const result = await check(file, [], env);
  expect(result.code, result.stdout).toBe(code);
  if (errorCode) expect(result.stderr).toContain(errorCode);
}

describe('check', () => {
  it('checks the file MARKETPLACE_ENTITLEMENT_FILE names (as `run` sets it), before the older alias MARKETPLACE_FILE', async () => {
    const valid = await registerFile();
    const absent = join(tempDir(), 'absent', 'entitlement.jwt');
    const env = (names: NodeJS.ProcessEnv) => ({
      env: baseEnv({ MARKETPLACE_PUBLIC_KEY: emulator().publicKeyPem, MARKETPLACE_INSTANCE_ID: 'pod-a', ...names }),
    });
    expect((await runCli(['check'], env({ MARKETPLACE_ENTITLEMENT_FILE: valid }))).code).toBe(0);
    expect((await runCli(['check'], env({ MARKETPLACE_FILE: valid }))).code).toBe(0);
    expect((await runCli(['check'], env({ MARKETPLACE_ENTITLEMENT_FILE: valid, MARKETPLACE_FILE: absent }))).code).toBe(
      0,
    );
    expect((await runCli(['check'], env({ MARKETPLACE_ENTITLEMENT_FILE: absent, MARKETPLACE_FILE: valid }))).code).toBe(
      66,
    );
    expect((await runCli(['check', '--file', valid], env({ MARKETPLACE_ENTITLEMENT_FILE: absent }))).code).toBe(0);
  });

  it('exits 0 for a valid file, with a one-line summary and no log noise', async () => {
    const result = await check(await registerFile());
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(
      /^valid: product prod-test-0123456789 registered at \S+ for instance pod-a \(.*\)\n$/,
    );
    expect(result.stderr).toBe('');
  });

  it('exits 66 when the file is missing', async () => {
    await expectCheck(join(tempDir(), 'absent.jwt'), 66, 'ENTITLEMENT_FILE_MISSING');
  });

  it('exits 65 for a file with a byte changed in each part', async () => {
    const text = await readFile(await registerFile(), 'utf8');
    const [header, payload] = text.split('.');
    for (const i of [5, header!.length + 10, header!.length + payload!.length + 20, text.length - 3]) {
      const changed = `${text.slice(0, i)}${text[i] === 'A' ? 'B' : 'A'}${text.slice(i + 1)}`;
      await expectCheck(await writeText(changed), 65);
    }
  });

  it('exits 65 for a registration moved from another file', async () => {
    const donor = decodeFile(await readFile(await registerFile(), 'utf8')).payload;
    const key = generateKeyPairSync('ed25519').privateKey;
    await expectCheck(
      await writeText(signFile({ ...donor, nonce: thumbprintOf(key) }, { key })),
      65,
      'CLAIMS_DIFFER_FROM_REGISTRATION',
    );
  });

  it('exits 65 for a file re-signed with another key', async () => {
    const { payload } = decodeFile(await readFile(await registerFile(), 'utf8'));
    await expectCheck(await writeText(signFile({ ...payload, instance: 'pod-a' })), 65, 'NONCE_NOT_KEY_THUMBPRINT');
  });

  it("exits 65 for another instance's file, whether the instance comes from --instance-id, POD_UID or the env", async () => {
    const other = await registerFile('pod-b');
    await expectCheck(other, 65, 'INSTANCE_MISMATCH');
    await expectCheck(other, 65, 'INSTANCE_MISMATCH', { MARKETPLACE_INSTANCE_ID: '', POD_UID: 'pod-a' });
    await expectCheck(other, 0, undefined, { MARKETPLACE_INSTANCE_ID: '', POD_UID: 'pod-b' });
  });

  it('exits 65 for a file older than --max-age', async () => {
    const file = await registerFile();
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    expect((await check(file, ['--max-age', '1ms'])).stderr).toContain('FILE_TOO_OLD');
    expect((await check(file, ['--max-age', '1h'])).code).toBe(0);
  });

  it('exits 66 when the key file is unreadable and 64 on an unknown flag (handed to yargs)', async () => {
    const file = await registerFile();
    const unreadable = await check(file, ['--public-key-file', join(tempDir(), 'absent.pem')], {
      MARKETPLACE_PUBLIC_KEY: '',
    });
    expect(unreadable.code).toBe(66);
    const unknown = await check(file, ['--bogus']);
    expect(unknown.code).toBe(64);
    expect(unknown.stderr).toContain('Unknown argument: bogus');
  });

  it('keeps its exit code when nobody reads its output any more (both pipes closed before it writes)', async () => {
    const valid = await registerFile();
    const exitCodes: (number | null)[] = [];
    for (const productCode of [TEST_PRODUCT_CODE, 'some-other-product']) {
      const child = spawn(process.execPath, [CLI, 'check', '--file', valid, '--product-code', productCode], {
        env: baseEnv({ MARKETPLACE_PUBLIC_KEY: emulator().publicKeyPem, MARKETPLACE_INSTANCE_ID: 'pod-a' }),
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      // Our read ends close at once, long before Node has started: the child's writes meet EPIPE.
      child.stdout.destroy();
      child.stderr.destroy();
      exitCodes.push(await new Promise((resolve) => child.on('exit', resolve)));
    }
    expect(exitCodes).toEqual([0, 65]);
  });

  it('prints help with examples and the environment names', async () => {
    const result = await runCli(['check', '--help']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('Examples:');
    expect(result.stdout).toContain('MARKETPLACE_PUBLIC_KEY_FILE');
  });

  it.each([
    ['check', ['check', '--file', 'absent.jwt', '--public-key', 'x'], ['@aws-sdk', '/yargs/']],
    ['--help', ['--help'], ['@aws-sdk']],
    ['check --help', ['check', '--help'], ['@aws-sdk']],
  ])('%s loads no AWS SDK module', async (_name, args, forbidden) => {
    // Unbundled build (dist/cmd) with a resolve hook: every module really loaded is recorded.
    const record = join(tempDir(), `imports-${++counter}.txt`);
    const main = join(CLI, '..', 'cmd', 'main.js');
    const hook = new URL('./fixtures/record-imports.mjs', import.meta.url).pathname;
    const child = spawn(process.execPath, ['--import', hook, main, ...args], {
      env: baseEnv({ RECORD_IMPORTS_TO: record }),
      stdio: 'ignore',
    });
    await new Promise((resolve) => child.on('close', resolve));
    const loaded = await readFile(record, 'utf8');
    expect(loaded).toContain('/cmd/main.js');
    for (const name of forbidden) expect(loaded).not.toContain(name);
  });
});
