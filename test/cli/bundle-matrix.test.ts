/**
 * Every command through both entry files of the built bundle (dist/cli.cjs, and dist/cli.mjs which it loads),
 * unsealed and sealed, with the product key given by flag and by variable (the baked key and another), each
 * ending in the exit code its case calls for: never 70, the code of a crash. The sealed image's `ENV` sets
 * MARKETPLACE_PUBLIC_KEY_FILE to its baked key, so a crash on a given key was a crash at every start; nothing
 * else ran the sealed CLI past `check` with a key.
 */
import { generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT_INTERNAL_ERROR } from '../../cmd/runner.js';
import { commands } from '../../cmd/commands.js';
import { baseEnv, emulatorEnv, runCli, startCli, waitFor, type CliResult } from './helpers.js';
import { copyBundle, TEST_PRODUCT_CODE, useEmulator } from '../support/index.js';
import { pemOf, sealedBundle, type SealedBundle } from '../trust/support.js';

const emulator = useEmulator();
const dir = mkdtempSync(join(tmpdir(), 'me-bundle-matrix-'));
const INSTANCE = 'bundle-matrix-0001';
const file = join(dir, 'entitlement.jwt');
const otherKeyPem = pemOf(generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey);
const bakedKeyFile = join(dir, 'baked-key.pem');
const otherKeyFile = join(dir, 'other-key.pem');
let sealed: SealedBundle;
/** The unsealed bundle alone in a directory, as the npm package and the image hold it. */
const unsealedDir = mkdtempSync(join(existsSync('/var/tmp') ? '/var/tmp' : tmpdir(), 'me-bundle-'));

beforeAll(async () => {
  writeFileSync(bakedKeyFile, emulator().publicKeyPem);
  writeFileSync(otherKeyFile, otherKeyPem);
  await copyBundle(unsealedDir);
  sealed = await sealedBundle({
    productCode: TEST_PRODUCT_CODE,
    publicKeyPem: emulator().publicKeyPem,
    binding: 'none',
  });
  const written = await runCli(['register', '--product-code', TEST_PRODUCT_CODE, '--out', file], {
    env: emulatorEnv(emulator(), { MARKETPLACE_INSTANCE_ID: INSTANCE }),
  });
  if (written.code !== 0)
    throw new Error(`the entitlement file for check and inspect was not written: ${written.stdout}${written.stderr}`);
});
afterAll(() => {
  sealed?.remove();
  rmSync(unsealedDir, { recursive: true, force: true });
  rmSync(dir, { recursive: true, force: true });
});

type Key =
  | 'none'
  | 'baked key by --public-key-file'
  | 'baked key by MARKETPLACE_PUBLIC_KEY'
  | 'other key by --public-key-file'
  | 'other key by MARKETPLACE_PUBLIC_KEY';
const KEYS: Key[] = [
  'none',
  'baked key by --public-key-file',
  'baked key by MARKETPLACE_PUBLIC_KEY',
  'other key by --public-key-file',
  'other key by MARKETPLACE_PUBLIC_KEY',
];

function keyInput(key: Key): { args: string[]; env: NodeJS.ProcessEnv } {
  if (key === 'none') return { args: [], env: {} };
  const baked = key.startsWith('baked');
  return key.endsWith('--public-key-file')
    ? { args: ['--public-key-file', baked ? bakedKeyFile : otherKeyFile], env: {} }
    : { args: [], env: { MARKETPLACE_PUBLIC_KEY: baked ? emulator().publicKeyPem : otherKeyPem } };
}

/** How each command is run, and the exit code it must end with. `stopWhen`: it runs until stopped once this is printed. */
interface Case {
  args: string[];
  takesKey: boolean;
  stopWhen?: string;
  expected(sealed: boolean, key: Key): number;
}

/** The AWS commands: unsealed they reach the emulator; sealed they may not, and find no AWS here (69 at the deadline). */
/** Stands for a fresh output path per run, so no run reuses a file another one wrote. */
const OUT = '<fresh file>';
let outputs = 0;

const reachesAws = (sealedCli: boolean, key: Key) =>
  key.startsWith('other') ? (sealedCli ? 78 : 65) : sealedCli ? 69 : 0;
const readsFile = (sealedCli: boolean, key: Key) => (key.startsWith('other') ? (sealedCli ? 78 : 65) : 0);
const unsealedOnly = (sealedCli: boolean) => (sealedCli ? 78 : 0);

const CASES: Record<string, Case> = {
  register: { args: ['register', '--out', OUT, '--deadline', '1s'], takesKey: true, expected: reachesAws },
  check: { args: ['check', '--file', file], takesKey: true, expected: readsFile },
  inspect: { args: ['inspect', file], takesKey: true, expected: readsFile },
  serve: {
    args: ['serve', '--out', OUT, '--port', '0', '--deadline', '1s'],
    takesKey: true,
    stopWhen: 'serving on',
    expected: reachesAws,
  },
  run: {
    args: ['run', '--out', OUT, '--deadline', '1s', '--', process.execPath, '-e', '0'],
    takesKey: true,
    expected: reachesAws,
  },
  meter: {
    args: ['meter', '--dimension', 'requests', '--quantity', '1', '--deadline', '1s'],
    takesKey: false,
    expected: (sealedCli) => (sealedCli ? 69 : 0),
  },
  emulator: { args: ['emulator', '--port', '0'], takesKey: false, stopWhen: 'listening on', expected: unsealedOnly },
  demo: { args: ['demo'], takesKey: false, expected: unsealedOnly },
  bake: {
    args: ['bake', '--public-key-file', bakedKeyFile, '--into', join(dir, 'baked-elsewhere')],
    takesKey: false,
    expected: unsealedOnly,
  },
};

async function runCase(entry: string, sealedCli: boolean, command: Case, key: Key): Promise<CliResult> {
  const input = keyInput(key);
  const env = sealedCli
    ? baseEnv({
        AWS_ACCESS_KEY_ID: 'AKIDBUNDLEMATRIX',
        AWS_SECRET_ACCESS_KEY: 'not-a-secret',
        AWS_REGION: 'us-east-1',
        MARKETPLACE_INSTANCE_ID: INSTANCE,
        ...input.env,
      })
    : emulatorEnv(emulator(), { MARKETPLACE_PUBLIC_KEY: undefined, MARKETPLACE_INSTANCE_ID: INSTANCE, ...input.env });
  const rest = command.args.slice(1).map((arg) => (arg === OUT ? join(dir, `out-${++outputs}.jwt`) : arg));
  const args = [command.args[0]!, '--product-code', TEST_PRODUCT_CODE, ...input.args, ...rest];
  const cli = startCli(command.args[0] === 'emulator' || command.args[0] === 'demo' ? command.args : args, {
    env,
    entry,
  });
  if (command.stopWhen) {
    await waitFor(
      () => cli.stdout().includes(command.stopWhen!) || cli.child.exitCode !== null,
      `${command.args[0]} to start`,
      60_000,
    );
    cli.child.kill('SIGTERM');
  }
  return cli.done;
}

describe.each([
  ['dist/cli.cjs', 'cli.cjs'],
  ['dist/cli.mjs', 'cli.mjs'],
])('the bundle through %s', (_label, entryName) => {
  it('has a case for every command', () => {
    expect(Object.keys(CASES).sort()).toEqual(commands.map((c) => c.name).sort());
  });

  describe.each([
    ['unsealed', false],
    ['sealed', true],
  ] as const)('%s', (_state, sealedCli) => {
    const cases = Object.entries(CASES).flatMap(([name, command]) =>
      (command.takesKey ? KEYS : ['none' as Key])
        .filter((key) => sealedCli || key !== 'none' || !command.takesKey)
        .map((key) => [name, key, command] as const),
    );
    it.concurrent.each(cases)('%s, %s: the expected exit code, never 70', async (name, key, command) => {
      const entry = sealedCli ? join(sealed.dir, entryName) : join(unsealedDir, entryName);
      const result = await runCase(entry, sealedCli, command, key);
      const expected = command.expected(sealedCli, key);
      expect(result.code, `${name} (${key}):\n${result.stdout}\n${result.stderr}`).not.toBe(EXIT_INTERNAL_ERROR);
      expect(result.code, `${name} (${key}):\n${result.stdout}\n${result.stderr}`).toBe(expected);
      expect(result.stderr).not.toMatch(/TypeError|ReferenceError|is not a function/);
    });
  });
});
