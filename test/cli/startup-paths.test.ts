// What each start-up path of the bundled CLI reads (not how long it takes: timing lives in bench/). `check`, the exec
// probe, must run from dist/cli.cjs alone; `--help` must not read the AWS SDK. dist/bundle-meta.json (written by
// scripts/bundle.mjs) says which sources went into which output file; the real runs below say which files and
// built-ins were loaded.
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ensureEntitled } from '../../src/index.js';
import { DUMMY_CREDENTIALS, emulatorOptions, TEST_PRODUCT_CODE, TEST_REGION, useEmulator } from '../support/index.js';
import { baseEnv, CLI, useTempDir } from './helpers.js';

const emulator = useEmulator();
const tempDir = useTempDir();
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));

/** Every source file `check` may be built from: adding one is a decision about the probe's cost, taken here. */
const CHECK_SOURCES = [
  /^cmd\/(entry|runner|args|fast-parse|log|options|spec|usage-error|sealed|baked-config|inspector-guard)\.ts$/, // sealed, baked-config: the sealed image's start-up guards and its configuration; inspector-guard: serve and run's SIGUSR1 guard
  /^cmd\/commands\/check\.ts$/,
  /^src\/entitlement-file\/(entitlement-file|entitlement-file-path)\.ts$/, // reading and verifying only: the writing is prepare-entitlement-file
  /^src\/registration\/(verify|public-key|public-key-version)\.ts$/,
  /^src\/common\/(errors|logger|input-file|compact-jws|duration-option|now-option)\.ts$/, // compact-jws: the one JWS reader; the verifiers' option checks
  /^src\/platform\/(instance-id|ecs-metadata|mountinfo)\.ts$/,
  /^src\/hardening\/(integrity|process-guards|inspector-signal)\.ts$/, // the verifying functions' guards (hardened)
];
/** Built-ins only servers, clients and child processes need: a probe that loads one pays for it every few seconds. */
const HEAVY_BUILTINS = [
  'http',
  'https',
  'http2',
  'net',
  'tls',
  'dns',
  'zlib',
  'child_process',
  'worker_threads',
  'readline',
  'assert',
];

interface BundleMeta {
  outputs: Record<string, { bytes: number; inputs: string[] }>;
}

interface Loads {
  exitCode: number | null;
  /** Bundle files (relative to the repository) loaded as ES modules or CommonJS. */
  bundleFiles: string[];
  builtins: string[];
}

async function bundleMeta(): Promise<BundleMeta> {
  return JSON.parse(await readFile(join(ROOT, 'dist', 'bundle-meta.json'), 'utf8')) as BundleMeta;
}

/**
 * Runs the bundled CLI with both recorders; stdio ignored, so stdout is not a pipe (a pipe is a net.Socket).
 * `esm: false` leaves out the ES recorder, whose loader hooks load node:fs/promises and streams themselves.
 */
let runs = 0;
async function loadsOf(
  args: string[],
  env: NodeJS.ProcessEnv = baseEnv(),
  { esm: withEsm = true } = {},
): Promise<Loads> {
  const esm = join(tempDir(), `esm-${++runs}.txt`);
  const cjs = join(tempDir(), `cjs-${runs}.json`);
  const recorderFlags = [
    '--require',
    fixture('record-loads.cjs'),
    ...(withEsm ? ['--import', fixture('record-imports.mjs')] : []),
  ];
  const child = spawn(process.execPath, [...recorderFlags, ...args], {
    env: { ...env, RECORD_IMPORTS_TO: esm, RECORD_LOADS_TO: cjs },
    stdio: 'ignore',
  });
  const exitCode = await new Promise<number | null>((resolve) => child.on('close', resolve));
  const esmUrls = (await readFile(esm, 'utf8').catch(() => '')).split('\n').filter((url) => url.startsWith('file:'));
  const recorded = JSON.parse(await readFile(cjs, 'utf8')) as { files: string[]; builtins: string[] };
  const dist = pathToFileURL(join(ROOT, 'dist')).href;
  const files = [
    ...esmUrls.filter((url) => url.startsWith(dist)).map((url) => fileURLToPath(url)),
    ...recorded.files.filter((f) => f.startsWith(join(ROOT, 'dist'))),
  ];
  return {
    exitCode,
    bundleFiles: [...new Set(files.map((f) => relative(ROOT, f)))].sort(),
    builtins: recorded.builtins,
  };
}

/** Output files holding any source whose path matches `pattern`. */
function outputsWith(meta: BundleMeta, pattern: RegExp): string[] {
  return Object.entries(meta.outputs)
    .filter(([, output]) => output.inputs.some((input) => pattern.test(input)))
    .map(([file]) => file);
}

const AWS_SDK = /^node_modules\/(@aws-sdk|@smithy|@aws-crypto)\//;

describe('start-up paths of the bundled CLI', () => {
  it('dist/cli.cjs is built only from the check path: no yargs, no AWS SDK, no emulator, no metering', async () => {
    const inputs = (await bundleMeta()).outputs['dist/cli.cjs']!.inputs;
    expect(inputs).toContain('cmd/commands/check.ts');
    expect(inputs.filter((input) => !CHECK_SOURCES.some((allowed) => allowed.test(input)))).toEqual([]);
  });

  it('check of a valid file loads dist/cli.cjs alone, and no server, client or child-process built-in', async () => {
    const file = join(tempDir(), 'entitlement.jwt');
    await ensureEntitled(emulatorOptions(emulator(), { entitlementFile: file, instanceId: 'pod-a', env: {} }));
    const check = ['check', '--file', file, '--product-code', TEST_PRODUCT_CODE, '--instance-id', 'pod-a'];
    const loads = await loadsOf([CLI, ...check], baseEnv({ MARKETPLACE_PUBLIC_KEY: emulator().publicKeyPem }));
    // The recorders' own needs (the import hooks run in a worker thread) are no part of the check.
    const recorders = new Set((await loadsOf(['-e', '0'])).builtins);
    expect(loads.exitCode).toBe(0);
    expect(loads.bundleFiles).toEqual(['dist/cli.cjs']);
    expect(loads.builtins).toContain('crypto'); // the recorder sees what the check loads
    expect(loads.builtins.filter((name) => HEAVY_BUILTINS.includes(name) && !recorders.has(name))).toEqual([]);
  });

  it('check reads its inputs without node:fs/promises and prints without building process.stdout', async () => {
    const file = join(tempDir(), 'entitlement.jwt');
    await ensureEntitled(emulatorOptions(emulator(), { entitlementFile: file, instanceId: 'pod-a', env: {} }));
    const env = baseEnv({ MARKETPLACE_PUBLIC_KEY: emulator().publicKeyPem });
    const check = async (extra: string[]) =>
      loadsOf([CLI, 'check', '--file', file, '--instance-id', 'pod-a', ...extra], env, { esm: false });
    const valid = await check(['--product-code', TEST_PRODUCT_CODE]);
    // Refused: the log line on stderr takes the same path.
    const refused = await check(['--product-code', 'some-other-product']);
    expect([valid.exitCode, refused.exitCode]).toEqual([0, 65]);
    for (const loads of [valid, refused]) {
      expect(loads.builtins).toContain('crypto');
      expect(
        loads.builtins.filter((name) => /^(internal\/)?fs\/promises$|sync_write_stream|^tty$|^net$/.test(name)),
      ).toEqual([]);
    }
  });

  it.each([
    ['--help', ['--help']],
    ['check --help', ['check', '--help']],
    ['check with an unknown flag (exit 64)', ['check', '--bogus']],
  ])('%s goes to the whole CLI but reads no chunk of the AWS SDK', async (_name, args) => {
    const meta = await bundleMeta();
    const loads = await loadsOf([CLI, ...args]);
    expect(loads.exitCode).toBe(args.includes('--bogus') ? 64 : 0);
    expect(loads.bundleFiles).toContain('dist/cli.mjs');
    expect(outputsWith(meta, AWS_SDK).filter((file) => loads.bundleFiles.includes(file))).toEqual([]);
    // yargs' two invariant checks load node:assert only when one fails.
    expect(loads.builtins).not.toContain('assert');
  });

  it('register reads the AWS SDK chunks and node:http (so the recorders would see them elsewhere), but not yargs', async () => {
    const meta = await bundleMeta();
    const loads = await loadsOf(
      [
        CLI,
        'register',
        '--product-code',
        TEST_PRODUCT_CODE,
        '--instance-id',
        'pod-a',
        '--out',
        join(tempDir(), 'registered.jwt'),
      ],
      baseEnv({
        AWS_ACCESS_KEY_ID: DUMMY_CREDENTIALS.accessKeyId,
        AWS_SECRET_ACCESS_KEY: DUMMY_CREDENTIALS.secretAccessKey,
        AWS_REGION: TEST_REGION,
        MARKETPLACE_ENDPOINT: emulator().url,
        MARKETPLACE_PUBLIC_KEY: emulator().publicKeyPem,
      }),
    );
    expect(loads.exitCode).toBe(0);
    expect(outputsWith(meta, AWS_SDK).filter((file) => loads.bundleFiles.includes(file)).length).toBeGreaterThan(0);
    expect(loads.builtins).toContain('http');
    // A command line node:util can parse never loads yargs, which costs more than a bare Node start.
    expect(outputsWith(meta, /^node_modules\/yargs\//).filter((file) => loads.bundleFiles.includes(file))).toEqual([]);
  });
});
