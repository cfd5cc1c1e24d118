/**
 * The minting attack (docs/threat-model.md, "Minted files"): a buyer calls RegisterUsage once, with a nonce they
 * chose (the RFC 7638 thumbprint of an Ed25519 key of theirs), and signs an entitlement file in the documented format
 * for every instance they like. Every check fed by a file accepts those files: that is outside the line, and these
 * tests show it rather than hide it. In the line: `serve` and `run --` never accept a file they did not write in
 * their own process, and `maxAgeSec` / `--max-age` bound the age of AWS's registration, not only the file's.
 */
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerUsage } from '../../src/index.js';
import { verifyEntitlementFile, verifyEntitlementFileForThisInstance } from '../../src/entitlement-file/index.js';
import { createEntitlementGate } from '../../src/gates/index.js';
import { baseEnv, decodeFile, emulatorEnv, runCli, signFile, startCli, thumbprintOf, waitFor } from '../cli/helpers.js';
import { emulatorOptions, signToken, TEST_PRODUCT_CODE, testSigningKey, useEmulator } from '../support/index.js';
import { sealedBundle, type SealedBundle } from './support.js';

const emulator = useEmulator();
const dir = mkdtempSync(join(tmpdir(), 'me-minting-'));
const PODS = ['pod-0001', 'pod-0002', 'pod-0003'];
const DAY_SEC = 86_400;
let sealed: SealedBundle;

beforeAll(async () => {
  sealed = await sealedBundle({
    productCode: TEST_PRODUCT_CODE,
    publicKeyPem: emulator().publicKeyPem,
    binding: 'none',
  });
});
afterAll(() => {
  sealed?.remove();
  rmSync(dir, { recursive: true, force: true });
});

/** The buyer's one registration: RegisterUsage with the thumbprint of their own key as the nonce. */
async function registerOnce(): Promise<{
  key: KeyObject;
  registration: string;
  nonce: string;
  registeredAtSec: number;
}> {
  const key = generateKeyPairSync('ed25519').privateKey;
  const nonce = thumbprintOf(key);
  const entitlement = await registerUsage(emulatorOptions(emulator(), { env: {} }), nonce);
  return {
    key,
    registration: entitlement.registration,
    nonce,
    registeredAtSec: Math.floor(entitlement.issuedAt.getTime() / 1000),
  };
}

/** A file in the documented format, signed by the buyer for `instance`, dated `iat`. */
function mint(
  minted: { key: KeyObject; registration: string; nonce: string },
  instance: string,
  iat = Math.floor(Date.now() / 1000),
): string {
  const path = join(dir, `${instance}-${iat}-${Math.random().toString(36).slice(2)}.jwt`);
  writeFileSync(
    path,
    signFile(
      {
        productCode: TEST_PRODUCT_CODE,
        publicKeyVersion: 1,
        nonce: minted.nonce,
        registration: minted.registration,
        iat,
        instance,
      },
      { key: minted.key },
    ),
  );
  return path;
}

describe('minted files: one RegisterUsage call, a file for every pod', () => {
  it('every file-fed check accepts them (outside the line): verifyEntitlementFileForThisInstance, the gate and a sealed `check`, three pods, one call', async () => {
    const minted = await registerOnce();
    for (const pod of PODS) {
      const file = mint(minted, pod);
      await expect(
        verifyEntitlementFileForThisInstance(file, {
          publicKey: emulator().publicKeyPem,
          productCode: TEST_PRODUCT_CODE,
          instanceId: pod,
          env: {},
        }),
      ).resolves.toMatchObject({ instance: pod });
      const gate = createEntitlementGate({
        file,
        publicKey: emulator().publicKeyPem,
        productCode: TEST_PRODUCT_CODE,
        instanceId: pod,
        env: {},
      });
      expect(await gate.status()).toMatchObject({ entitled: true, instance: pod });
      const check = await runCli(['check', '--file', file], {
        env: baseEnv({ MARKETPLACE_INSTANCE_ID: pod }),
        entry: sealed.cli,
      });
      expect(check.code, check.stdout + check.stderr).toBe(0);
    }
    expect(emulator().calls.filter((call) => call.operation === 'RegisterUsage')).toHaveLength(1);
  });

  it('`run --` never accepts a minted file: it registers from its own process (one RegisterUsage call) and writes its own', async () => {
    const minted = await registerOnce();
    const file = mint(minted, 'pod-0001');
    const before = emulator().calls.length;
    const result = await runCli(
      [
        'run',
        '--product-code',
        TEST_PRODUCT_CODE,
        '--out',
        file,
        '--instance-id',
        'pod-0001',
        '--',
        process.execPath,
        '-e',
        '0',
      ],
      { env: emulatorEnv(emulator()) },
    );
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(emulator().calls.length).toBe(before + 1);
    expect(decodeFile(readFileSync(file, 'utf8')).payload.nonce).not.toBe(minted.nonce);
  });

  it('`serve` never serves a minted file: 503 NOT_YET_ENTITLED until it has registered from its own process, then its own file', async () => {
    const minted = await registerOnce();
    const file = mint(minted, 'pod-0001');
    const before = emulator().calls.length;
    emulator().scenario.latencyMs = 1_500; // registration in flight long enough to probe
    const serve = startCli(
      ['serve', '--product-code', TEST_PRODUCT_CODE, '--out', file, '--instance-id', 'pod-0001', '--port', '0'],
      { env: emulatorEnv(emulator()) },
    );
    await waitFor(() => serve.stderr().includes('serve.listening'), 'serve to listen');
    const url = /"url":"(http:[^"]+)"/.exec(serve.stderr())![1]!;
    expect(await (await fetch(`${url}/healthz`)).json()).toMatchObject({ entitled: false, code: 'NOT_YET_ENTITLED' });
    await waitFor(() => serve.stdout().includes('serving on'), 'registration');
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    serve.child.kill('SIGTERM');
    expect((await serve.done).code).toBe(0);
    expect(emulator().calls.length).toBe(before + 1);
    expect(decodeFile(readFileSync(file, 'utf8')).payload.nonce).not.toBe(minted.nonce);
  });
});

describe('age: maxAgeSec bounds the registration, not only the file', () => {
  it('a file re-signed 400 days after its registration passes without maxAgeSec and fails with maxAgeSec 3600 (FILE_TOO_OLD)', async () => {
    const minted = await registerOnce();
    const resignedAtSec = minted.registeredAtSec + 400 * DAY_SEC;
    const file = mint(minted, 'pod-0001', resignedAtSec);
    const judgedAt = new Date((resignedAtSec + 60) * 1000);
    const options = {
      publicKey: emulator().publicKeyPem,
      productCode: TEST_PRODUCT_CODE,
      instanceId: 'pod-0001',
      now: judgedAt,
    };
    await expect(verifyEntitlementFile(file, options)).resolves.toMatchObject({ registeredAtSource: 'token' });
    await expect(verifyEntitlementFile(file, { ...options, maxAgeSec: 3600 })).rejects.toMatchObject({
      code: 'FILE_TOO_OLD',
      exitCode: 65,
      message: expect.stringContaining("AWS's registration"),
    });
  });

  it('a sealed `check --max-age 1h` refuses a file signed now over a registration AWS signed 400 days ago, and accepts it without --max-age', async () => {
    const key = generateKeyPairSync('ed25519').privateKey;
    const nonce = thumbprintOf(key);
    const iat = Math.floor(Date.now() / 1000) - 400 * DAY_SEC;
    // A token as AWS signed it 400 days ago (the emulator's key is AWS's key here).
    const registration = await signToken(await testSigningKey(), {
      productCode: TEST_PRODUCT_CODE,
      publicKeyVersion: 1,
      nonce,
      iat,
    });
    const file = mint({ key, registration, nonce }, 'pod-0001');
    const env = baseEnv({ MARKETPLACE_INSTANCE_ID: 'pod-0001' });
    expect((await runCli(['check', '--file', file], { env, entry: sealed.cli })).code).toBe(0);
    const old = await runCli(['check', '--file', file, '--max-age', '1h'], { env, entry: sealed.cli });
    expect(old.code).toBe(65);
    expect(old.failure()).toContain('FILE_TOO_OLD');
  });
});
