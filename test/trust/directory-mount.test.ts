/**
 * The directory mount (docs/threat-model.md, "A volume over the whole bundle directory"): a buyer mounts a volume over
 * the sealed image's bundle directory, holding the unmodified public bundle (no baked-config.json) and a node binary.
 * Every sealed refusal lived in code that is now gone: the CLI runs unsealed and takes an endpoint. No code of ours
 * that was replaced can refuse; this test shows the attack succeeding, which is why the row says "outside the line".
 * A mount that leaves the checking code in place (over baked-config.json, inside the directory) is refused:
 * pod-namespace.test.ts.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emulatorEnv } from '../cli/helpers.js';
import { copyBundle } from '../support/bundle.js';
import { TEST_PRODUCT_CODE, useEmulator } from '../support/index.js';
import { requireRoot, sealedBundle, type SealedBundle } from './support.js';

const emulator = useEmulator();
let sealed: SealedBundle;
/** The buyer's volume: the public, unsealed bundle and a node binary. */
let volume: string;

beforeAll(async () => {
  requireRoot();
  sealed = await sealedBundle({
    productCode: TEST_PRODUCT_CODE,
    publicKeyPem: emulator().publicKeyPem,
    binding: 'none',
  });
  symlinkSync(process.execPath, join(sealed.dir, 'node'));
  volume = mkdtempSync('/var/tmp/me-volume-');
  await copyBundle(volume);
  symlinkSync(process.execPath, join(volume, 'node'));
});
afterAll(() => {
  sealed?.remove();
  if (volume) rmSync(volume, { recursive: true, force: true });
});

/** `DIR/node DIR/cli.cjs register ...` as the image's ENTRYPOINT runs it, in a private mount namespace, after `mounts`. */
function register(mounts: string[], out: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const dir = sealed.dir;
  const script = [
    'set -e',
    ...mounts,
    `exec ${dir}/node ${dir}/cli.cjs register --product-code ${TEST_PRODUCT_CODE} --endpoint ${emulator().url} --instance-id pod-a --out ${out}`,
  ].join('\n');
  const child = spawn('unshare', ['-m', '--propagation', 'private', 'sh', '-c', script], {
    env: emulatorEnv(emulator(), { MARKETPLACE_ENDPOINT: '' }),
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('a volume over the whole sealed bundle directory', () => {
  it('without it, the sealed image refuses the endpoint: exit 78 IMAGE_SEALED, no call', async () => {
    const result = await register([], join(volume, 'sealed.jwt'));
    expect(result.code, result.stdout + result.stderr).toBe(78);
    expect(result.stderr).toContain('IMAGE_SEALED');
    expect(emulator().calls).toHaveLength(0);
  });

  it('with it (the unmodified public bundle and a node binary), `register` runs unsealed and succeeds against the endpoint: the attack works (outside the line)', async () => {
    const result = await register([`mount --bind ${volume} ${sealed.dir}`], join(volume, 'mounted.jwt'));
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toContain('registered');
    expect(emulator().calls).toHaveLength(1);
  });
});
