// docs/entitlement-file.md promises that a seller can verify the file from any language. The reference Python
// verifier in docs/examples is held to that: it accepts a real file written by the library against the
// emulator and refuses a tampered one and another pod's one, with the same check names.
import { spawnSync } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ensureEntitled } from '../../src/index.js';
import { emulatorOptions, TEST_PRODUCT_CODE, useEmulator } from '../support/index.js';
import { useTempDir } from './helpers.js';

const VERIFIER = fileURLToPath(new URL('../../docs/examples/verify_entitlement.py', import.meta.url));
const emulator = useEmulator();
const tempDir = useTempDir();

function verifyWithPython(file: string, keyFile: string, ...expect: string[]): { code: number | null; output: string } {
  const result = spawnSync('python3', [VERIFIER, file, keyFile, ...expect], { encoding: 'utf8', timeout: 30_000 });
  if (result.error)
    throw new Error(`python3 could not run (CI installs python3-cryptography): ${result.error.message}`);
  return { code: result.status, output: `${result.stdout}${result.stderr}` };
}

/** A genuine entitlement file for pod-a, written by the library, and the product key file, in a directory of their own. */
async function registeredFile(name: string): Promise<{ file: string; keyFile: string }> {
  const dir = join(tempDir(), name);
  await mkdir(dir, { recursive: true });
  const file = join(dir, 'entitlement.jwt');
  const keyFile = join(dir, 'product-key.pem');
  await writeFile(keyFile, emulator().publicKeyPem);
  await ensureEntitled(emulatorOptions(emulator(), { entitlementFile: file, instanceId: 'pod-a', env: {} }));
  return { file, keyFile };
}

describe('the reference Python verifier (docs/examples/verify_entitlement.py)', () => {
  it("accepts a genuine file and refuses a tampered one and another pod's one", async () => {
    const { file, keyFile } = await registeredFile('python');

    const genuine = verifyWithPython(file, keyFile, TEST_PRODUCT_CODE, 'pod-a');
    expect(genuine.code, genuine.output).toBe(0);
    expect(genuine.output).toContain(TEST_PRODUCT_CODE);

    const otherPod = verifyWithPython(file, keyFile, TEST_PRODUCT_CODE, 'pod-b');
    expect(otherPod.code).toBe(65);
    expect(otherPod.output).toContain('INSTANCE_MISMATCH');

    const text = await readFile(file, 'utf8');
    const tampered = join(dirname(file), 'tampered.jwt');
    const at = text.indexOf('.') + 10; // inside the payload
    await writeFile(tampered, `${text.slice(0, at)}${text[at] === 'A' ? 'B' : 'A'}${text.slice(at + 1)}`);
    const forged = verifyWithPython(tampered, keyFile, TEST_PRODUCT_CODE, 'pod-a');
    expect(forged.code, forged.output).toBe(65);
    expect(forged.output).toContain('FILE_SIGNATURE_INVALID');
  });

  it('accepts a file whose registration has no iat, as the library does (iat is advisory)', async () => {
    emulator().scenario.tokenIat = 'missing';
    const { file, keyFile } = await registeredFile('python-no-iat');

    const result = verifyWithPython(file, keyFile, TEST_PRODUCT_CODE, 'pod-a');
    expect(result.code, result.output).toBe(0);
  });
});
