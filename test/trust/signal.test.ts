/**
 * The signal (docs/threat-model.md): `kill -USR1` from a sidecar that shares the pod's process namespace makes Node
 * open its inspector on 127.0.0.1:9229, from which one expression rewrites a running process. A hardened process
 * (the library's `hardened: true`, the CLI's `serve` and `run`, sealed or not) must never open it. Each case sends the
 * real signal to a real running process and then looks for the inspector: a TCP listener on 127.0.0.1:9229 and its
 * /json/list. The unhardened control shows the probe finds an inspector when there is one, so the test can fail.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { baseEnv, CLI, emulatorEnv, waitFor } from '../cli/helpers.js';
import { DUMMY_CREDENTIALS, TEST_PRODUCT_CODE, TEST_REGION, useEmulator } from '../support/index.js';
import { sealedBundle, type SealedBundle } from './support.js';

const emulator = useEmulator();
const LIBRARY = pathToFileURL(fileURLToPath(new URL('../../dist/src/index.js', import.meta.url))).href;
const INSPECTOR = { host: '127.0.0.1', port: 9229 };
const dir = mkdtempSync(join(tmpdir(), 'me-signal-'));
const script = join(dir, 'app.mjs');
let sealed: SealedBundle;
const running: ChildProcessWithoutNullStreams[] = [];

/** A seller's app: ensureEntitled at boot (hardened when HARDENED=1), then serving forever. */
const APP = `
const { ensureEntitled } = await import(${JSON.stringify(LIBRARY)});
await ensureEntitled({
  productCode: ${JSON.stringify(TEST_PRODUCT_CODE)}, publicKey: process.env.KEY, endpoint: process.env.ENDPOINT, region: ${JSON.stringify(TEST_REGION)},
  credentials: ${JSON.stringify(DUMMY_CREDENTIALS)}, logger: {}, ...(process.env.HARDENED === '1' && { hardened: true }),
});
console.log('entitled');
setInterval(() => {}, 60_000);
`;

beforeAll(async () => {
  writeFileSync(script, APP);
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
beforeEach(async () => {
  // Otherwise "nothing listens" would prove nothing, and "something listens" would not be ours.
  expect(
    await inspectorListening(),
    `something already listens on ${INSPECTOR.host}:${INSPECTOR.port}; stop it to run these tests`,
  ).toBe(false);
});
afterEach(async () => {
  for (const child of running.splice(0)) {
    if (child.exitCode === null && child.signalCode === null) {
      // SIGTERM, not SIGKILL: `run` forwards it, so its command stops too and leaves no orphan behind.
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
  }
});

function start(
  args: string[],
  env: NodeJS.ProcessEnv,
): { child: ChildProcessWithoutNullStreams; output: () => string } {
  const child = spawn(process.execPath, args, { env });
  running.push(child);
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return { child, output: () => output };
}

/** Whether anything accepts a TCP connection on the inspector's address. */
function inspectorListening(): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(INSPECTOR);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** The inspector's target list, or the reason it could not be fetched. */
async function inspectorTargets(): Promise<unknown> {
  try {
    return await (await fetch(`http://${INSPECTOR.host}:${INSPECTOR.port}/json/list`)).json();
  } catch (err) {
    return `unreachable: ${(err as Error).message}`;
  }
}

async function expectNoInspector(process_: {
  child: ChildProcessWithoutNullStreams;
  output: () => string;
}): Promise<void> {
  process_.child.kill('SIGUSR1');
  // The guard turns each signal into a warning: once it is there, the signal has been handled.
  await waitFor(() => process_.output().includes('Ignored SIGUSR1'), 'the SIGUSR1 guard to report the signal');
  expect(process_.output()).not.toContain('Debugger listening');
  expect(await inspectorListening()).toBe(false);
  expect(await inspectorTargets()).toMatch(/^unreachable/);
  expect(process_.child.exitCode, 'the process survives the signal').toBeNull();
}

describe('SIGUSR1 to a running process', () => {
  it('an unhardened app (ensureEntitled without hardened) opens the inspector: /json/list answers (the control)', async () => {
    const app = start([script], { PATH: process.env.PATH, KEY: emulator().publicKeyPem, ENDPOINT: emulator().url });
    await waitFor(() => app.output().includes('entitled'), 'the app to be entitled');
    app.child.kill('SIGUSR1');
    await waitFor(() => app.output().includes('Debugger listening'), 'the inspector to open');
    expect(await inspectorListening()).toBe(true);
    expect(await inspectorTargets()).toEqual(expect.arrayContaining([expect.objectContaining({ type: 'node' })]));
  });

  it('a hardened app (ensureEntitled({ hardened: true })) opens none', async () => {
    const app = start([script], {
      PATH: process.env.PATH,
      KEY: emulator().publicKeyPem,
      ENDPOINT: emulator().url,
      HARDENED: '1',
    });
    await waitFor(() => app.output().includes('entitled'), 'the app to be entitled');
    await expectNoInspector(app);
  });

  it('`serve` (unsealed) opens none once serving', async () => {
    const serve = start(
      [
        CLI,
        'serve',
        '--product-code',
        TEST_PRODUCT_CODE,
        '--out',
        join(dir, 'serve.jwt'),
        '--instance-id',
        'pod-a',
        '--port',
        '0',
      ],
      emulatorEnv(emulator()),
    );
    await waitFor(() => serve.output().includes('serving on'), 'serve to be entitled');
    await expectNoInspector(serve);
  });

  it('`run --` (unsealed) opens none while its command runs (the command gets the signal too)', async () => {
    const child =
      "process.on('SIGUSR1', () => console.log('command got SIGUSR1')); console.log('command started'); setInterval(() => {}, 60000)";
    const run = start(
      [
        CLI,
        'run',
        '--product-code',
        TEST_PRODUCT_CODE,
        '--out',
        join(dir, 'run.jwt'),
        '--instance-id',
        'pod-a',
        '--',
        process.execPath,
        '-e',
        child,
      ],
      emulatorEnv(emulator()),
    );
    await waitFor(() => run.output().includes('command started'), 'the command to start');
    await expectNoInspector(run);
    await waitFor(() => run.output().includes('command got SIGUSR1'), 'the command to get the forwarded signal');
  });

  it('a sealed `serve` opens none while it is still calling AWS (before any entitlement)', async () => {
    // Sealed, no endpoint can be set: the calls go to AWS's real host names, unreachable here, and are retried.
    const env = baseEnv({
      AWS_REGION: TEST_REGION,
      AWS_ACCESS_KEY_ID: DUMMY_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: DUMMY_CREDENTIALS.secretAccessKey,
      MARKETPLACE_INSTANCE_ID: 'pod-a',
    });
    const serve = start([sealed.cli, 'serve', '--out', join(dir, 'sealed.jwt'), '--port', '0'], env);
    await waitFor(() => serve.output().includes('serve.listening'), 'sealed serve to listen');
    await expectNoInspector(serve);
  });
});
