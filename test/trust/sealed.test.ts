/**
 * The sealed image (docs/threat-model.md): a copy of the bundle sealed with `bake`, tried with every
 * manifest-level override. Each refusal is exit 78 and none reaches the Metering endpoint.
 */
import { generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureEntitled } from '../../src/index.js';
import { findCodeInjection } from '../../src/hardening/index.js';
import { baseEnv, emulatorEnv, runCli, signFile, thumbprintOf } from '../cli/helpers.js';
import { emulatorOptions, signToken, TEST_PRODUCT_CODE, useEmulator } from '../support/index.js';
import { PERMISSION_FLAG, pemOf, sealedBundle, type SealedBundle } from './support.js';
import { parseBakedConfig } from '../../cmd/baked-config.js';
import { createTestCertificateAuthority } from '../../src/emulator/certificates.js';

const emulator = useEmulator();
const dir = mkdtempSync(join(tmpdir(), 'me-sealed-'));
const INSTANCE = 'laptop-0001';
const file = join(dir, 'entitlement.jwt');
const otherKeyFile = join(dir, 'other-key.pem');
/** Preloads and configuration that do nothing: what matters is that they could. */
const harmlessModule = join(dir, 'harmless.cjs');
const emptyOpensslConf = join(dir, 'openssl.cnf');
/** A preload that deletes its own trace from process.env. */
const scrubbingModule = join(dir, 'scrub.cjs');
let sealed: SealedBundle;
let platformBound: SealedBundle;
let emulatorKeyFile: string;

/** What `NODE_OPTIONS=--import=data:...` can do to an unsealed CLI: make every signature "verify". */
const FORGE_PRELOAD =
  '--import=data:text/javascript,import%20c%20from%22node:crypto%22;c.verify=()=>true;globalThis.crypto.subtle.verify=async()=>true;';

beforeAll(async () => {
  await ensureEntitled(emulatorOptions(emulator(), { entitlementFile: file, instanceId: INSTANCE, env: {} }));
  emulatorKeyFile = join(dir, 'emulator-key.pem');
  writeFileSync(emulatorKeyFile, emulator().publicKeyPem);
  writeFileSync(harmlessModule, '0;\n');
  writeFileSync(emptyOpensslConf, '');
  writeFileSync(scrubbingModule, 'delete process.env.NODE_OPTIONS;\n');
  writeFileSync(otherKeyFile, pemOf(generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey));
  sealed = await sealedBundle({
    productCode: TEST_PRODUCT_CODE,
    publicKeyPem: emulator().publicKeyPem,
    binding: 'none',
  });
  platformBound = await sealedBundle({
    productCode: TEST_PRODUCT_CODE,
    publicKeyPem: emulator().publicKeyPem,
    binding: 'platform',
  });
});
afterAll(() => {
  sealed?.remove();
  platformBound?.remove();
  rmSync(dir, { recursive: true, force: true });
});

/** Runs the sealed copy's CLI. */
async function runSealed(args: string[], env: NodeJS.ProcessEnv = {}, bundle = () => sealed) {
  return runCli(args, { env: baseEnv({ MARKETPLACE_INSTANCE_ID: INSTANCE, ...env }), entry: bundle().cli });
}

describe('a sealed CLI', () => {
  it('bake wrote a versioned baked-config.json with the vetted key', () => {
    const config = JSON.parse(readFileSync(join(sealed.dir, 'baked-config.json'), 'utf8')) as Record<string, unknown>;
    expect(config).toMatchObject({
      version: 1,
      productCode: TEST_PRODUCT_CODE,
      publicKeyVersion: 1,
      instanceBinding: 'none',
    });
    expect(config.publicKey).toContain('-----BEGIN PUBLIC KEY-----');
  });

  it('checks with no configuration at all (product code and key are baked)', async () => {
    const result = await runSealed(['check', '--file', file]);
    expect(result.code, result.stdout).toBe(0);
  });

  it('accepts flags and variables equal to the baked values', async () => {
    const result = await runSealed(['check', '--file', file, '--product-code', TEST_PRODUCT_CODE], {
      MARKETPLACE_PUBLIC_KEY_FILE: emulatorKeyFile,
    });
    expect(result.code, result.stdout).toBe(0);
  });

  it.each([
    ['another key file (MARKETPLACE_PUBLIC_KEY_FILE)', [], () => ({ MARKETPLACE_PUBLIC_KEY_FILE: otherKeyFile })],
    ['another key (--public-key)', () => [`--public-key=${readFileSync(otherKeyFile, 'utf8')}`], () => ({})],
    ['another product code (--product-code)', () => ['--product-code', 'someone-elses-product'], () => ({})],
    [
      'another product code (MARKETPLACE_PRODUCT_CODE)',
      [],
      () => ({ MARKETPLACE_PRODUCT_CODE: 'someone-elses-product' }),
    ],
  ] as const)('refuses %s: exit 78 IMAGE_SEALED', async (_label, extra, env) => {
    const args = typeof extra === 'function' ? extra() : extra;
    const result = await runSealed(['check', '--file', file, ...args], env());
    expect(result.code, result.stdout).toBe(78);
    expect(result.stderr).toContain('IMAGE_SEALED');
  });

  it.each([
    ['--endpoint', (url: string) => ({ args: ['--endpoint', url], env: {} })],
    ['MARKETPLACE_ENDPOINT', (url: string) => ({ args: [], env: { MARKETPLACE_ENDPOINT: url } })],
    ['AWS_ENDPOINT_URL', (url: string) => ({ args: [], env: { AWS_ENDPOINT_URL: url } })],
    [
      'AWS_ENDPOINT_URL_MARKETPLACE_METERING',
      (url: string) => ({ args: [], env: { AWS_ENDPOINT_URL_MARKETPLACE_METERING: url } }),
    ],
    [
      'AWS_ENDPOINT_URL_LICENSE_MANAGER',
      (url: string) => ({ args: [], env: { AWS_ENDPOINT_URL_LICENSE_MANAGER: url } }),
    ],
  ])('refuses an endpoint from %s before any call: exit 78, the emulator sees nothing', async (_label, endpoint) => {
    const { args, env } = endpoint(emulator().url);
    const callsBefore = emulator().calls.length;
    const commands = [
      ['register', '--out', join(dir, 'register.jwt'), ...args],
      ['serve', '--out', join(dir, 'serve.jwt'), '--port', '0', ...args],
      ['run', '--out', join(dir, 'run.jwt'), ...args, '--', 'true'],
    ];
    for (const command of commands) {
      const result = await runCli(command, {
        env: emulatorEnv(emulator(), {
          MARKETPLACE_ENDPOINT: '',
          MARKETPLACE_PUBLIC_KEY: '',
          MARKETPLACE_INSTANCE_ID: INSTANCE,
          ...env,
        }),
        entry: sealed.cli,
      });
      expect(result.code, `${command[0]}: ${result.stdout}`).toBe(78);
      expect(result.stderr).toContain('IMAGE_SEALED');
    }
    expect(emulator().calls).toHaveLength(callsBefore);
  });

  it.each(['emulator', 'demo', 'bake'])('refuses to run `%s`: exit 78', async (command) => {
    const result = await runSealed([
      command,
      ...(command === 'bake' ? ['--product-code', 'x', '--public-key-file', otherKeyFile] : []),
    ]);
    expect(result.code, result.stdout).toBe(78);
    expect(result.stderr).toContain('IMAGE_SEALED');
  });

  it('bound to the platform, fails closed off Kubernetes and ECS: exit 78 INSTANCE_UNKNOWN, explicit instance notwithstanding', async () => {
    const result = await runSealed(['check', '--file', file], { POD_UID: INSTANCE }, () => platformBound);
    expect(result.code, result.stdout).toBe(78);
    expect(result.stderr).toContain('INSTANCE_UNKNOWN');
  });
});

describe('code injection', () => {
  /** A forged file: an attacker's own RSA key signs the "registration", which then verifies only if verify() lies. */
  let forged: string;
  beforeAll(async () => {
    const ed25519 = generateKeyPairSync('ed25519').privateKey;
    const attackerRsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    const iat = Math.floor(Date.now() / 1000);
    const nonce = thumbprintOf(ed25519);
    const registration = await signToken(attackerRsa, {
      productCode: TEST_PRODUCT_CODE,
      publicKeyVersion: 1,
      nonce,
      iat,
    });
    forged = join(dir, 'forged.jwt');
    writeFileSync(
      forged,
      signFile(
        { productCode: TEST_PRODUCT_CODE, publicKeyVersion: 1, nonce, registration, iat, instance: INSTANCE },
        { key: ed25519 },
      ),
    );
  });

  it('unsealed, NODE_OPTIONS=--import=data:... makes `check` accept a forged file (why sealing matters)', async () => {
    const env = baseEnv({ MARKETPLACE_INSTANCE_ID: INSTANCE, MARKETPLACE_PUBLIC_KEY: emulator().publicKeyPem });
    expect((await runCli(['check', '--file', forged], { env })).code).toBe(65);
    const injected = await runCli(['check', '--file', forged], { env: { ...env, NODE_OPTIONS: FORGE_PRELOAD } });
    expect(injected.code, injected.stdout).toBe(0);
    // Node drops every double quote in NODE_OPTIONS, so this is the same --import (the sealed guard must see that too).
    const quoted = await runCli(['check', '--file', forged], {
      env: { ...env, NODE_OPTIONS: FORGE_PRELOAD.replace('--import', '--im"po"rt') },
    });
    expect(quoted.code, quoted.stdout).toBe(0);
  });

  it.each([
    ['NODE_OPTIONS --import=data:', { NODE_OPTIONS: FORGE_PRELOAD }, []],
    [
      'NODE_OPTIONS --im"po"rt=data: (Node drops every double quote)',
      { NODE_OPTIONS: FORGE_PRELOAD.replace('--import', '--im"po"rt') },
      [],
    ],
    ['NODE_OPTIONS --require', { NODE_OPTIONS: `--require ${harmlessModule}` }, []],
    ['NODE_OPTIONS -r', { NODE_OPTIONS: `-r ${harmlessModule}` }, []],
    [
      'NODE_OPTIONS --require of a module that deletes NODE_OPTIONS (read from /proc/self/environ)',
      { NODE_OPTIONS: `--require ${scrubbingModule}` },
      [],
    ],
    ['NODE_OPTIONS --experimental-loader', { NODE_OPTIONS: '--experimental-loader=data:text/javascript,0' }, []],
    ['NODE_OPTIONS --inspect', { NODE_OPTIONS: '--inspect=127.0.0.1:0' }, []],
    ['NODE_OPTIONS --openssl-config', { NODE_OPTIONS: `--openssl-config=${emptyOpensslConf}` }, []],
    ['node --import on the command line', {}, ['--import=data:text/javascript,0']],
    ['LD_PRELOAD', { LD_PRELOAD: '/nonexistent/libforge.so' }, []],
    ['LD_LIBRARY_PATH', { LD_LIBRARY_PATH: '/nonexistent' }, []],
    ['OPENSSL_CONF', { OPENSSL_CONF: '/nonexistent/openssl.cnf' }, []],
    ['OPENSSL_MODULES', { OPENSSL_MODULES: '/nonexistent' }, []],
    [
      'NODE_COMPILE_CACHE (cached compiled code runs in place of ours, Node 22.1+)',
      { NODE_COMPILE_CACHE: '/nonexistent/cache' },
      [],
    ],
    ['NODE_PATH (a missing optional module resolved from a volume)', { NODE_PATH: '/nonexistent/modules' }, []],
    ['NODE_REPL_EXTERNAL_MODULE', { NODE_REPL_EXTERNAL_MODULE: '/nonexistent/repl.js' }, []],
    [
      `NODE_OPTIONS ${PERMISSION_FLAG} (denies the /proc reads a check needs)`,
      { NODE_OPTIONS: `${PERMISSION_FLAG} --allow-fs-read=*` },
      [],
    ],
    [
      'NODE_OPTIONS --stack-trace-limit=0 (hides where the library lies)',
      { NODE_OPTIONS: '--stack-trace-limit=0' },
      [],
    ],
    ['node --icu-data-dir on the command line', {}, ['--icu-data-dir=/nonexistent']],
  ] as const)('sealed, %s is refused at start: exit 78 CODE_INJECTION naming it', async (label, env, nodeFlags) => {
    const result = await runCli(['check', '--file', forged], {
      env: baseEnv({ MARKETPLACE_INSTANCE_ID: INSTANCE, ...env }),
      entry: sealed.cli,
      nodeFlags: [...nodeFlags],
    });
    expect(result.code, result.stdout + result.stderr).toBe(78);
    expect(result.stderr).toContain('CODE_INJECTION');
    // What was found is named: the flag (after "NODE_OPTIONS " or "node ") or the variable the label starts with.
    expect(result.stderr).toContain(/^(?:NODE_OPTIONS |node )?(-{0,2}[A-Za-z_-]+)/.exec(label)![1]!);
  });

  it.each([
    ['--permission (the Node 24 name)', '--permission --allow-fs-read=*'],
    ['--permission-audit', '--permission-audit'],
    ['--experimental-package-map (Node 24)', '--experimental-package-map=/volume/map.json'],
    ['--entry-url (Node 22, 24)', '--entry-url'],
    ['--build-snapshot-config', '--build-snapshot-config=/volume/config.json'],
    ['--experimental-network-imports (Node 20)', '--experimental-network-imports'],
    ['--security-revert', '--security-revert=CVE-2023-46809'],
  ])('findCodeInjection names %s, which this Node (%s) may not parse', (_label, flags) => {
    const findings = findCodeInjection([{ NODE_OPTIONS: flags }], []);
    expect(findings.join('; ')).toContain(`NODE_OPTIONS carries ${flags.split(' ')[0]}`);
  });

  it('sealed, with the permission model denying /proc/self/environ and a preload that deletes NODE_OPTIONS, refuses to run: exit 78 CODE_INJECTION (fails closed)', async () => {
    // Nothing left to see in process.env or execArgv: the only trace is in /proc/self/environ, which cannot be read.
    const env = baseEnv({
      MARKETPLACE_INSTANCE_ID: INSTANCE,
      NODE_OPTIONS: `${PERMISSION_FLAG} --allow-fs-read=${sealed.dir} --allow-fs-read=${dir} --require ${scrubbingModule}`,
    });
    const result = await runCli(['check', '--file', forged], { env, entry: sealed.cli });
    expect(result.code, result.stdout + result.stderr).toBe(78);
    expect(result.failure()).toMatch(/CODE_INJECTION: .*\/proc\/self\/environ cannot be read/);
  });

  it("the library's codeInjection: 'refuse' throws CODE_INJECTION for a preload, unless allowedPreloads names it", async () => {
    const gates = JSON.stringify(fileURLToPath(new URL('../../dist/src/gates/index.js', import.meta.url)));
    const script = `const { createEntitlementGate } = await import(${gates});
      try { createEntitlementGate({ file: '/nonexistent', publicKey: process.env.MARKETPLACE_PUBLIC_KEY, codeInjection: 'refuse', allowedPreloads: JSON.parse(process.argv.at(-1)) }); console.log('started'); }
      catch (err) { console.log(err.code); }`;
    const env = baseEnv({
      MARKETPLACE_PUBLIC_KEY: emulator().publicKeyPem,
      NODE_OPTIONS: `--require ${harmlessModule}`,
    });
    const node = (allowed: string[]) =>
      runCli([JSON.stringify(allowed)], { env, nodeFlags: ['--input-type=module', '-e', script] });
    expect((await node([])).stdout.trim()).toBe('CODE_INJECTION');
    expect((await node([harmlessModule])).stdout.trim()).toBe('started');
  });
});

describe('baked TLS roots', () => {
  const ca = createTestCertificateAuthority();
  let rooted: SealedBundle;
  let caFile: string;
  beforeAll(async () => {
    caFile = join(dir, 'test-ca.pem');
    writeFileSync(caFile, ca.certificatePem);
    rooted = await sealedBundle({
      productCode: TEST_PRODUCT_CODE,
      publicKeyPem: emulator().publicKeyPem,
      binding: 'none',
      tlsRootsFile: caFile,
    });
  });
  afterAll(() => rooted?.remove());

  it('bake stores the vetted bundle; the sealed CLI accepts --tls-roots naming the same certificates and refuses others: exit 78 IMAGE_SEALED', async () => {
    const config = JSON.parse(readFileSync(join(rooted.dir, 'baked-config.json'), 'utf8')) as Record<string, unknown>;
    expect(config.tlsRoots).toBe(ca.certificatePem);
    const otherFile = join(dir, 'other-ca.pem');
    writeFileSync(otherFile, createTestCertificateAuthority().certificatePem);
    const check = (env: NodeJS.ProcessEnv) => runSealed(['check', '--file', file], env, () => rooted);
    expect((await check({ MARKETPLACE_TLS_ROOTS: caFile })).code).toBe(0);
    for (const roots of ['aws', 'system', otherFile]) {
      const result = await check({ MARKETPLACE_TLS_ROOTS: roots });
      expect(result.code, `${roots}: ${result.stdout}`).toBe(78);
      expect(result.stderr).toContain('IMAGE_SEALED');
    }
    // No roots baked: Amazon's, and only `aws` is accepted.
    expect((await runSealed(['check', '--file', file], { MARKETPLACE_TLS_ROOTS: 'aws' })).code).toBe(0);
    expect((await runSealed(['check', '--file', file], { MARKETPLACE_TLS_ROOTS: caFile })).code).toBe(78);
  });

  it('bake refuses a file that is no PEM bundle (exit 78 INVALID_TLS_ROOTS) and a missing one (exit 66), writing nothing', async () => {
    const into = mkdtempSync(join(tmpdir(), 'me-bake-'));
    const notPem = join(dir, 'not-a-bundle.pem');
    writeFileSync(notPem, 'this is not a certificate\n');
    const bake = (roots: string) =>
      runCli([
        'bake',
        '--product-code',
        TEST_PRODUCT_CODE,
        '--public-key-file',
        emulatorKeyFile,
        '--tls-roots',
        roots,
        '--into',
        into,
      ]);
    const bad = await bake(notPem);
    expect(bad.code, bad.stdout).toBe(78);
    expect(bad.stderr).toContain('INVALID_TLS_ROOTS');
    expect((await bake(join(dir, 'missing.pem'))).code).toBe(66);
    expect(existsSync(join(into, 'baked-config.json'))).toBe(false);
    rmSync(into, { recursive: true, force: true });
  });

  it('a baked-config.json whose tlsRoots is not a PEM bundle is IMAGE_TAMPERED', () => {
    const config = {
      version: 1,
      productCode: TEST_PRODUCT_CODE,
      publicKey: emulator().publicKeyPem,
      publicKeyVersion: 1,
      instanceBinding: 'none',
      tlsRoots: 'system',
    };
    expect(() => parseBakedConfig(JSON.stringify(config), 'baked-config.json')).toThrow(
      expect.objectContaining({ code: 'IMAGE_TAMPERED' }),
    );
  });
});
