// `inspect`, `emulator` and `demo` through the built CLI.
import { generateKeyPairSync } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ensureEntitled } from '../../src/index.js';
import { emulatorOptions, TEST_PRODUCT_CODE, useEmulator } from '../support/index.js';
import { baseEnv, decodeFile, runCli, startCli, useTempDir, waitFor } from './helpers.js';

const emulator = useEmulator();
const tempDir = useTempDir();

async function registeredFile(): Promise<string> {
  const path = join(tempDir(), `inspect-${Date.now()}`, 'entitlement.jwt');
  await ensureEntitled(emulatorOptions(emulator(), { entitlementFile: path, instanceId: 'pod-a', env: {} }));
  return path;
}

describe('inspect', () => {
  it('decodes an entitlement file and verifies it under the given key', async () => {
    const file = await registeredFile();
    const result = await runCli(['inspect', file], {
      env: baseEnv({ MARKETPLACE_PUBLIC_KEY: emulator().publicKeyPem }),
    });
    expect(result.code).toBe(0);
    const nonce = decodeFile(await readFile(file, 'utf8')).payload.nonce as string;
    expect(result.stdout).toContain('entitlement file');
    expect(result.stdout).toContain(`key thumbprint: ${nonce} (equals the nonce)`);
    expect(result.stdout).toMatch(/iat: \d+ \(\d{4}-\d\d-\d\dT/);
    expect(result.stdout).toContain(`productCode: ${TEST_PRODUCT_CODE}`);
    expect(result.stdout).toContain('verification: OK');
  });

  it('exits 65 when it does not verify under the given key, still showing the decoded file', async () => {
    const keyFile = join(tempDir(), 'other-key.pem');
    await writeFile(
      keyFile,
      generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ type: 'spki', format: 'pem' }),
    );
    const result = await runCli(['inspect', await registeredFile(), '--public-key-file', keyFile]);
    expect(result.code).toBe(65);
    expect(result.stdout).toContain('verification: FAILED SIGNATURE_INVALID');
  });

  it('decodes a bare AWS token from stdin, and says it was not verified without a key', async () => {
    const registration = decodeFile(await readFile(await registeredFile(), 'utf8')).payload.registration as string;
    const result = await runCli(['inspect', '-'], { stdin: `${registration}\n` });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('RegisterUsage token');
    expect(result.stdout).toContain('alg: PS256');
    expect(result.stdout).toContain('verification: not attempted');
    const verified = await runCli(['inspect', '-', `--public-key=${emulator().publicKeyPem}`], { stdin: registration });
    expect(verified.stdout).toContain('verification: OK');
  });

  it('exits 66 for a missing file', async () => {
    expect((await runCli(['inspect', join(tempDir(), 'absent')])).code).toBe(66);
  });
});

describe('emulator command', () => {
  it('prints its URL, writes its key, serves register, logs each call and exits 0 on SIGTERM', async () => {
    const keyFile = join(tempDir(), 'emulator-key.pem');
    const server = startCli(['emulator', '--port', '0', '--public-key-out', keyFile, '--throttle-first', '1']);
    await waitFor(() => server.stdout().includes('listening on'), 'the emulator URL', 30_000);
    const url = /listening on (http:\/\/\S+?);/.exec(server.stdout())![1]!;
    const out = join(tempDir(), 'via-emulator-command', 'entitlement.jwt');
    const result = await runCli(
      ['register', '--product-code', TEST_PRODUCT_CODE, '--public-key-file', keyFile, '--endpoint', url, '--out', out],
      {
        env: baseEnv({ AWS_ACCESS_KEY_ID: 'AKIDTEST', AWS_SECRET_ACCESS_KEY: 'test', AWS_REGION: 'us-east-1' }),
      },
    );
    expect(result.code).toBe(0);
    server.child.kill('SIGTERM');
    const stopped = await server.done;
    expect(stopped.code).toBe(0);
    const calls = stopped.logs().filter((line) => line.event === 'emulator.call');
    expect(calls.map((c) => c.statusCode)).toEqual([400, 200]);
    expect(calls[0]).toMatchObject({ errorType: 'ThrottlingException', productCode: TEST_PRODUCT_CODE });
  });

  it('answers not entitled when asked, and refuses an unknown error name with 64', async () => {
    const unknown = await runCli(['emulator', '--error', 'NoSuchException']);
    expect(unknown.code).toBe(64);
    const server = startCli(['emulator', '--not-entitled']);
    await waitFor(() => server.stdout().includes('listening on'), 'the emulator URL', 30_000);
    const url = /listening on (\S+)/.exec(server.stdout())![1]!;
    const result = await runCli(
      [
        'register',
        '--product-code',
        'p',
        `--public-key=${emulator().publicKeyPem}`,
        '--endpoint',
        url,
        '--out',
        join(tempDir(), 'ne', 'e.jwt'),
      ],
      {
        env: baseEnv({ AWS_ACCESS_KEY_ID: 'AKIDTEST', AWS_SECRET_ACCESS_KEY: 'test', AWS_REGION: 'us-east-1' }),
      },
    );
    expect(result.code).toBe(77);
    server.child.kill('SIGINT');
    expect((await server.done).code).toBe(0);
  });
});

describe('emulator on a busy port', () => {
  it('exits 78 with LISTEN_FAILED, naming the port, instead of crashing', async () => {
    const result = await runCli(['emulator', '--port', String(emulator().port)]);
    expect(result.code, result.stderr).toBe(78);
    expect(result.stderr).toContain('LISTEN_FAILED');
    expect(result.stderr).toContain(`:${emulator().port}`);
  });
});

describe('demo (npm start)', () => {
  it('registers, checks and inspects against the local emulator, saying so', async () => {
    const result = await runCli(['demo']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('LOCAL Metering emulator');
    expect(result.stdout).toMatch(/^entitled: product demo-product-0001/m);
    expect(result.stdout).toMatch(/^valid: product demo-product-0001/m);
    expect(result.stdout).toContain('verification: OK');
  });
});
