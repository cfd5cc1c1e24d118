/**
 * The manifest-level bypasses of docs/threat-model.md, in pods simulated for real: each process runs in a private
 * mount namespace (`unshare -m`, as root) whose /proc/self/mountinfo carries bind mounts shaped like the
 * kubelet's (`.../pods/<UID>/etc-hosts`, `containers/...`, `volumes/...`). Needs root: fails, never skips, without.
 */
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureEntitled } from '../../src/index.js';
import { CLI, decodeFile, emulatorEnv, waitFor } from '../cli/helpers.js';
import { emulatorOptions, TEST_PRODUCT_CODE, useEmulator } from '../support/index.js';
import { podUid, requireRoot, runInPod, sealedBundle, startInPod, type SealedBundle } from './support.js';

requireRoot();
const emulator = useEmulator();
const dir = mkdtempSync(join(tmpdir(), 'me-pods-'));
const POD_A = podUid();
const POD_B = podUid();
const GATES = fileURLToPath(new URL('../../dist/src/gates/index.js', import.meta.url));
let fileOfA: string;
let sealed: SealedBundle;
afterAll(() => {
  sealed?.remove();
  rmSync(dir, { recursive: true, force: true });
});

/** The environment of a container: the emulator as AWS, the key, nothing about the instance unless given. */
const env = (extra: NodeJS.ProcessEnv = {}) => emulatorEnv(emulator(), extra);
/** A copy of pod A's file, as a ConfigMap or a copied volume would hand it to pod B. */
function copyOfA(): string {
  const copy = join(mkdtempSync(join(dir, 'copy-')), 'entitlement.jwt');
  copyFileSync(fileOfA, copy);
  return copy;
}
const check = (uid: string, file: string, extra: NodeJS.ProcessEnv = {}, options: { hostPathOf?: string } = {}) =>
  runInPod({
    uid,
    ...options,
    args: [CLI, 'check', '--file', file, '--product-code', TEST_PRODUCT_CODE],
    env: env(extra),
  });

beforeAll(async () => {
  fileOfA = join(dir, 'a', 'entitlement.jwt');
  const register = await runInPod({
    uid: POD_A,
    args: [CLI, 'register', '--product-code', TEST_PRODUCT_CODE, '--out', fileOfA],
    env: env(),
  });
  if (register.code !== 0) throw new Error(`register in pod A failed: ${register.stdout}${register.stderr}`);
  sealed = await sealedBundle({
    productCode: TEST_PRODUCT_CODE,
    publicKeyPem: emulator().publicKeyPem,
    binding: 'kubernetes',
  });
});

describe('pod identity from the kubelet mounts', () => {
  it('register in pod A binds the file to A with no POD_UID set; check in A passes', async () => {
    expect(decodeFile(readFileSync(fileOfA, 'utf8')).payload.instance).toBe(POD_A);
    const result = await check(POD_A, fileOfA);
    expect(result.code, result.stdout).toBe(0);
  });

  it('the kubelet root on its own filesystem (mount roots /pods/<UID>/...) is read the same way', async () => {
    const result = await runInPod({
      uid: POD_A,
      kubeletOwnFilesystem: true,
      args: [CLI, 'check', '--file', fileOfA],
      env: env(),
    });
    expect(result.code, result.stdout).toBe(0);
  });

  it("pod A's file copied into pod B: check exits 65 INSTANCE_MISMATCH", async () => {
    const result = await check(POD_B, copyOfA());
    expect(result.code, result.stdout).toBe(65);
    expect(result.stderr).toContain('INSTANCE_MISMATCH');
  });

  it.each(['POD_UID', 'MARKETPLACE_INSTANCE_ID'])(
    "... with %s set to A's UID in B's manifest: exit 78 INSTANCE_CONFLICT, naming both",
    async (variable) => {
      const result = await check(POD_B, copyOfA(), { [variable]: POD_A });
      expect(result.code, result.stdout).toBe(78);
      expect(result.stderr).toContain('INSTANCE_CONFLICT');
      expect(result.failure()).toContain(POD_A);
      expect(result.failure()).toContain(POD_B);
    },
  );

  it('a file that names no instance is refused in a pod: exit 65 INSTANCE_MISSING', async () => {
    const anonymous = join(dir, 'anonymous', 'entitlement.jwt');
    await ensureEntitled(emulatorOptions(emulator(), { entitlementFile: anonymous, env: {} }));
    const result = await check(POD_B, anonymous);
    expect(result.code, result.stdout).toBe(65);
    expect(result.stderr).toContain('INSTANCE_MISSING');
  });

  it("a hostPath mount of pod A's kubelet files into pod B: exit 78 INSTANCE_AMBIGUOUS", async () => {
    const result = await check(POD_B, copyOfA(), {}, { hostPathOf: POD_A });
    expect(result.code, result.stdout).toBe(78);
    expect(result.stderr).toContain('INSTANCE_AMBIGUOUS');
  });

  it("`run --` in pod B with A's file registers (a RegisterUsage call) instead of reusing it", async () => {
    const copy = copyOfA();
    const before = emulator().calls.length;
    const result = await runInPod({
      uid: POD_B,
      args: [CLI, 'run', '--product-code', TEST_PRODUCT_CODE, '--out', copy, '--', process.execPath, '-e', '0'],
      env: env(),
    });
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(emulator().calls.length).toBe(before + 1);
    expect(decodeFile(readFileSync(copy, 'utf8')).payload.instance).toBe(POD_B);
  });

  it("`run --` in pod A over A's own valid file still registers from its own process (one RegisterUsage call) and writes a new file", async () => {
    const copy = copyOfA();
    const before = emulator().calls.length;
    const result = await runInPod({
      uid: POD_A,
      args: [CLI, 'run', '--product-code', TEST_PRODUCT_CODE, '--out', copy, '--', process.execPath, '-e', '0'],
      env: env(),
    });
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(emulator().calls.length).toBe(before + 1);
    expect(readFileSync(copy, 'utf8')).not.toBe(readFileSync(fileOfA, 'utf8'));
    expect(decodeFile(readFileSync(copy, 'utf8')).payload.instance).toBe(POD_A);
  });

  it("`serve` in pod B with A's file registers before /healthz says 200", async () => {
    const copy = copyOfA();
    const before = emulator().calls.length;
    const serve = startInPod({
      uid: POD_B,
      args: [CLI, 'serve', '--product-code', TEST_PRODUCT_CODE, '--out', copy, '--port', '0'],
      env: env(),
    });
    await waitFor(() => /serving on/.test(serve.stdout()) || serve.child.exitCode !== null, 'serve to be entitled');
    serve.child.kill('SIGTERM');
    const result = await serve.done;
    expect(result.stdout).toMatch(/serving on http:\/\/127\.0\.0\.1:\d+: entitled/);
    expect(result.stdout).not.toContain('reused');
    expect(emulator().calls.length).toBe(before + 1);
    expect(decodeFile(readFileSync(copy, 'utf8')).payload.instance).toBe(POD_B);
  });

  it('the in-process gate without instanceId answers entitled: false INSTANCE_MISMATCH in pod B, true in pod A', async () => {
    const script = `const { createEntitlementGate } = await import(${JSON.stringify(GATES)});
      const gate = createEntitlementGate({ file: process.argv[1], publicKey: process.env.MARKETPLACE_PUBLIC_KEY, productCode: ${JSON.stringify(TEST_PRODUCT_CODE)} });
      console.log(JSON.stringify(await gate.status()));`;
    const inB = await runInPod({ uid: POD_B, args: ['--input-type=module', '-e', script, copyOfA()], env: env() });
    expect(JSON.parse(inB.stdout), inB.stderr).toMatchObject({ entitled: false, code: 'INSTANCE_MISMATCH' });
    const inA = await runInPod({ uid: POD_A, args: ['--input-type=module', '-e', script, fileOfA], env: env() });
    expect(JSON.parse(inA.stdout), inA.stderr).toMatchObject({ entitled: true, instance: POD_A });
  });
});

describe('a sealed CLI in a pod', () => {
  const sealedCheck = (extraMounts: string[] = []) =>
    runInPod({
      uid: POD_A,
      extraMounts,
      args: [sealed.cli, 'check', '--file', fileOfA],
      env: env({ MARKETPLACE_PUBLIC_KEY: '', MARKETPLACE_ENDPOINT: '' }),
    });

  it('bound to Kubernetes, passes in pod A with no configuration', async () => {
    const result = await sealedCheck();
    expect(result.code, result.stdout + result.stderr).toBe(0);
  });

  it('a file mounted over baked-config.json (a ConfigMap with another key): exit 78 IMAGE_TAMPERED', async () => {
    const forgedConfig = join(dir, 'baked-config.json');
    writeFileSync(
      forgedConfig,
      readFileSync(join(sealed.dir, 'baked-config.json'), 'utf8').replace(TEST_PRODUCT_CODE, 'other-product'),
    );
    const result = await sealedCheck([`mount --bind ${forgedConfig} ${join(sealed.dir, 'baked-config.json')}`]);
    expect(result.code, result.stdout + result.stderr).toBe(78);
    expect(result.stderr).toContain('IMAGE_TAMPERED');
  });

  it('an unmodified copy of the bundle mounted over it: exit 78 IMAGE_TAMPERED', async () => {
    const result = await sealedCheck([`mount --bind ${CLI} ${sealed.cli}`]);
    expect(result.code, result.stdout + result.stderr).toBe(78);
    expect(result.stderr).toContain('IMAGE_TAMPERED');
  });

  it('a volume mounted inside the bundle directory: exit 78 IMAGE_TAMPERED', async () => {
    const result = await sealedCheck([`mkdir -p ${sealed.dir}/chunks`, `mount -t tmpfs chunks ${sealed.dir}/chunks`]);
    expect(result.code, result.stdout + result.stderr).toBe(78);
    expect(result.stderr).toContain('IMAGE_TAMPERED');
  });
});

describe("the library's mountedCode guard", () => {
  it("mountedCode: 'refuse' throws IMAGE_TAMPERED for a volume inside the app's directory; 'allow' does not look", async () => {
    const app = mkdtempSync(join(dir, 'app-'));
    const entry = join(app, 'server.mjs');
    writeFileSync(
      entry,
      `const { createEntitlementGate } = await import(${JSON.stringify(GATES)});
       try { createEntitlementGate({ file: '/nonexistent', publicKey: process.env.MARKETPLACE_PUBLIC_KEY, mountedCode: process.argv[2] }); console.log('started'); }
       catch (err) { console.log(err.code); }`,
    );
    const mounts = [`mkdir -p ${app}/config`, `mount -t tmpfs config ${app}/config`];
    const refused = await runInPod({ uid: POD_A, extraMounts: mounts, args: [entry, 'refuse'], env: env() });
    expect(refused.stdout.trim(), refused.stderr).toBe('IMAGE_TAMPERED');
    const allowed = await runInPod({ uid: POD_A, extraMounts: mounts, args: [entry, 'allow'], env: env() });
    expect(allowed.stdout.trim(), allowed.stderr).toBe('started');
    const untouched = await runInPod({ uid: POD_A, args: [entry, 'refuse'], env: env() });
    expect(untouched.stdout.trim(), untouched.stderr).toBe('started');
  });
});
