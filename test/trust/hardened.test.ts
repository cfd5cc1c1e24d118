/**
 * `hardened: true` (docs/threat-model.md, "The library's guards"): one switch on every library entry point that reaches
 * AWS or judges an entitlement. It sets `codeInjection` and `mountedCode` to `'refuse'`, `tlsRoots` to `'aws'` and the
 * SIGUSR1 guard (test/trust/signal.test.ts); a weaker explicit value beside it is INVALID_OPTION (exit 78) naming the
 * conflict, before any call reaches AWS.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { MarketplaceMeteringClient } from '@aws-sdk/client-marketplace-metering';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigurationError, ensureEntitled, registerUsage } from '../../src/index.js';
import {
  ensureEntitlementFile,
  verifyEntitlementFile,
  verifyEntitlementFileForThisInstance,
  verifyEntitlementToken,
} from '../../src/entitlement-file/index.js';
import { createEntitlementGate, runEntitled, serveEntitlement } from '../../src/gates/index.js';
import { checkProcessIntegrity } from '../../src/hardening/index.js';
import { acquireLicense } from '../../src/license/index.js';
import { createUsageMeter, ensureMeteringEntitled } from '../../src/metering/index.js';
import {
  DUMMY_CREDENTIALS,
  emulatorCallOptions,
  emulatorOptions,
  TEST_PRODUCT_CODE,
  TEST_REGION,
  useEmulator,
} from '../support/index.js';
import { PERMISSION_FLAG } from './support.js';

const emulator = useEmulator();
const dir = mkdtempSync(join(tmpdir(), 'me-hardened-'));
const LIBRARY = pathToFileURL(fileURLToPath(new URL('../../dist/src/index.js', import.meta.url))).href;
const HARDENING = pathToFileURL(fileURLToPath(new URL('../../dist/src/hardening/index.js', import.meta.url))).href;
let file: string;

beforeAll(async () => {
  file = join(dir, 'entitlement.jwt');
  await ensureEntitled(emulatorOptions(emulator(), { entitlementFile: file, instanceId: 'pod-a', env: {} }));
  emulator().reset(); // each test counts its own calls
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

type Weaker = Record<string, unknown>;
const WEAKER_GUARDS: [string, Weaker][] = [
  ["codeInjection: 'allow'", { codeInjection: 'allow' }],
  ["mountedCode: 'allow'", { mountedCode: 'allow' }],
];
const WEAKER_AWS: [string, Weaker][] = [
  ["tlsRoots: 'system'", { tlsRoots: 'system' }],
  ['tlsRoots: a PEM bundle', { tlsRoots: '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n' }],
  ['client', { client: new MarketplaceMeteringClient({ region: TEST_REGION, credentials: DUMMY_CREDENTIALS }) }],
];

/** Every entry point, called with `hardened: true` and `extra`; whether it reaches AWS decides which conflicts apply. */
const ENTRY_POINTS: [string, boolean, (extra: Weaker) => Promise<unknown>][] = [
  ['ensureEntitled', true, (extra) => ensureEntitled({ ...emulatorOptions(emulator()), hardened: true, ...extra })],
  [
    'registerUsage',
    true,
    (extra) => registerUsage({ ...emulatorOptions(emulator()), hardened: true, ...extra }, 'nonce'),
  ],
  [
    'ensureEntitlementFile',
    true,
    (extra) =>
      ensureEntitlementFile({
        ...emulatorOptions(emulator()),
        entitlementFile: join(dir, 'x.jwt'),
        hardened: true,
        ...extra,
      }),
  ],
  [
    'serveEntitlement',
    true,
    (extra) =>
      serveEntitlement({
        ...emulatorOptions(emulator()),
        entitlementFile: join(dir, 'x.jwt'),
        port: 0,
        hardened: true,
        ...extra,
      }),
  ],
  [
    'runEntitled',
    true,
    (extra) =>
      runEntitled([process.execPath, '-e', '0'], {
        ...emulatorOptions(emulator()),
        entitlementFile: join(dir, 'x.jwt'),
        hardened: true,
        ...extra,
      }),
  ],
  [
    'ensureMeteringEntitled',
    true,
    (extra) =>
      ensureMeteringEntitled({
        ...emulatorCallOptions(emulator()),
        productCode: TEST_PRODUCT_CODE,
        dimension: 'requests',
        hardened: true,
        ...extra,
      }),
  ],
  [
    'createUsageMeter',
    true,
    (extra) =>
      createUsageMeter({
        ...emulatorCallOptions(emulator()),
        productCode: TEST_PRODUCT_CODE,
        dimensions: ['requests'],
        hardened: true,
        ...extra,
      }),
  ],
  [
    'acquireLicense',
    true,
    (extra) =>
      acquireLicense({
        ...emulatorCallOptions(emulator()),
        productSku: 'sku',
        entitlements: [{ name: 'Users', unit: 'Count', value: '1' }],
        hardened: true,
        ...extra,
      } as never),
  ],
  [
    'verifyEntitlementFile',
    false,
    (extra) => verifyEntitlementFile(file, { publicKey: emulator().publicKeyPem, hardened: true, ...extra }),
  ],
  [
    'verifyEntitlementFileForThisInstance',
    false,
    (extra) =>
      verifyEntitlementFileForThisInstance(file, {
        publicKey: emulator().publicKeyPem,
        instanceId: 'pod-a',
        env: {},
        hardened: true,
        ...extra,
      }),
  ],
  [
    'verifyEntitlementToken',
    false,
    (extra) => verifyEntitlementToken('x.y.z', { publicKey: emulator().publicKeyPem, hardened: true, ...extra }),
  ],
  [
    'createEntitlementGate',
    false,
    async (extra) => createEntitlementGate({ file, publicKey: emulator().publicKeyPem, hardened: true, ...extra }),
  ],
  ['checkProcessIntegrity', false, async (extra) => checkProcessIntegrity({ hardened: true, ...extra })],
];

const cases = ENTRY_POINTS.flatMap(([name, reachesAws, call]) =>
  [...WEAKER_GUARDS, ...(reachesAws ? WEAKER_AWS : [])].map(([what, extra]) => [name, what, call, extra] as const),
);

describe('hardened: true beside a weaker value', () => {
  it.each(cases)('%s with %s: INVALID_OPTION naming it, before any call', async (_name, what, call, extra) => {
    const error = await call(extra).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(ConfigurationError);
    expect(error).toMatchObject({ code: 'INVALID_OPTION', exitCode: 78 });
    expect((error as Error).message).toContain('hardened: true conflicts with');
    expect((error as Error).message).toContain(what.startsWith('tlsRoots') ? 'tlsRoots' : what.split(':')[0]);
    expect(emulator().calls).toHaveLength(0);
  });

  it('hardened must be a boolean', async () => {
    const error = await ensureEntitled({ ...emulatorOptions(emulator()), hardened: 'yes' as never }).catch(
      (err: unknown) => err,
    );
    expect(error).toMatchObject({ code: 'INVALID_OPTION', exitCode: 78 });
  });
});

describe('hardened: true refuses what the profile refuses', () => {
  /**
   * A seller's app calling `ensureEntitled` with `options` (source text), run in its own process (this test runner's
   * own flags would be refused), with a module preloaded through NODE_OPTIONS when `preload` is set.
   */
  async function app(options: string, preload: boolean): Promise<{ code: number | null; output: string }> {
    const preloadFile = join(dir, 'preload.cjs');
    writeFileSync(preloadFile, '0;\n');
    const script = join(dir, `app-${Math.random().toString(36).slice(2)}.mjs`);
    writeFileSync(
      script,
      `const { ensureEntitled } = await import(${JSON.stringify(LIBRARY)});
       try {
         await ensureEntitled({ productCode: ${JSON.stringify(TEST_PRODUCT_CODE)}, publicKey: process.env.KEY, endpoint: process.env.ENDPOINT, region: ${JSON.stringify(TEST_REGION)},
           credentials: ${JSON.stringify(DUMMY_CREDENTIALS)}, logger: {}, ${options} });
         console.log('entitled');
       } catch (err) { console.log(err.code + ': ' + err.message); process.exitCode = err.exitCode; }`,
    );
    const env = {
      PATH: process.env.PATH,
      KEY: emulator().publicKeyPem,
      ENDPOINT: emulator().url,
      ...(preload && { NODE_OPTIONS: `--require=${preloadFile}` }),
    };
    const child = spawn(process.execPath, [script], { env });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    return { code, output };
  }

  it('NODE_OPTIONS=--require: an unhardened app registers, a hardened one exits 78 CODE_INJECTION naming it, with no call', async () => {
    const plain = await app('hardened: false', true);
    expect(plain.output).toMatch(/^entitled$/m);
    expect(emulator().calls).toHaveLength(1);
    const hardened = await app('hardened: true', true);
    expect(hardened.code).toBe(78);
    expect(hardened.output).toMatch(/CODE_INJECTION: .*NODE_OPTIONS carries --require=/);
    expect(emulator().calls).toHaveLength(1);
  });

  it("equal values beside it are accepted: hardened: true with codeInjection and mountedCode 'refuse' and tlsRoots 'aws' registers", async () => {
    const result = await app("hardened: true, codeInjection: 'refuse', mountedCode: 'refuse', tlsRoots: 'aws'", false);
    expect(result.output).toMatch(/^entitled$/m);
    expect(emulator().calls).toHaveLength(1);
  });
});

describe('a check that cannot read what it needs fails closed (Linux)', () => {
  it("mountedCode: 'refuse' with /proc/self/mountinfo denied by the permission model: IMAGE_TAMPERED, not a pass", async () => {
    const root = fileURLToPath(new URL('../..', import.meta.url));
    const script = `const { checkProcessIntegrity } = await import(${JSON.stringify(HARDENING)});
      try { checkProcessIntegrity({ mountedCode: 'refuse' }); console.log('passed'); } catch (err) { console.log(err.code + ': ' + err.message); }`;
    const child = spawn(
      process.execPath,
      [PERMISSION_FLAG, `--allow-fs-read=${root}`, '--input-type=module', '-e', script],
      { env: { PATH: process.env.PATH } },
    );
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    await new Promise((resolve) => child.on('close', resolve));
    expect(output).toMatch(/IMAGE_TAMPERED: .*\/proc\/self\/mountinfo cannot be read/);
    expect(output).not.toMatch(/^passed$/m);
  });
});
