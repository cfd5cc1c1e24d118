/**
 * Running the built CLI (dist/cli.cjs, from `npm run build`) as a child process, and hand-made entitlement
 * files for forgery tests.
 *
 * @example
 * const result = await runCli(['check', '--file', path], { env: { MARKETPLACE_PUBLIC_KEY: pem } });
 * expect(result.code).toBe(0);
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll } from 'vitest';
import { jwkThumbprint, type Ed25519PublicJwk } from '../../src/entitlement-file/entitlement-file.js';
import type { MeteringEmulator } from '../../src/emulator/index.js';
import { DUMMY_CREDENTIALS, TEST_REGION } from '../support/index.js';

export const CLI = fileURLToPath(new URL('../../dist/cli.cjs', import.meta.url));

/** A clean environment: no MARKETPLACE_* or AWS_* from the developer's shell, never a metadata service. */
export function baseEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!/^(MARKETPLACE_|AWS_|POD_UID$|ECS_CONTAINER_METADATA)/.test(key)) env[key] = value;
  }
  return { ...env, AWS_EC2_METADATA_DISABLED: 'true', ...extra };
}

/** Environment aimed at an in-process emulator: dummy credentials, its Region, its key. */
export function emulatorEnv(emulator: MeteringEmulator, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return baseEnv({
    AWS_ACCESS_KEY_ID: DUMMY_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: DUMMY_CREDENTIALS.secretAccessKey,
    AWS_REGION: TEST_REGION,
    MARKETPLACE_ENDPOINT: emulator.url,
    MARKETPLACE_PUBLIC_KEY: emulator.publicKeyPem,
    ...extra,
  });
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** stderr parsed as JSON lines (throws if a line is not JSON). */
  logs(): Record<string, unknown>[];
  /**
   * The failure the CLI reported on stderr (JSON, as when stderr is not a terminal): each error line as
   * `CODE: message (exit N)`, one per line. Errors never reach stdout.
   */
  failure(): string;
}

export interface CliProcess {
  child: ChildProcessWithoutNullStreams;
  stdout(): string;
  stderr(): string;
  done: Promise<CliResult>;
}

export interface CliOptions {
  env?: NodeJS.ProcessEnv;
  stdin?: string;
  /** Another copy of the bundle (test/support/bundle.ts), run from its own directory. Default: dist/cli.cjs. */
  entry?: string;
  /** Node flags before the bundle's path. */
  nodeFlags?: string[];
}

/** Starts the CLI; `done` settles when it exits. */
export function startCli(args: string[], options: CliOptions = {}): CliProcess {
  const entry = options.entry ?? CLI;
  if (!existsSync(entry)) throw new Error(`${entry} is missing: run \`npm run build\` first (npm test does).`);
  const child = spawn(process.execPath, [...(options.nodeFlags ?? []), entry, ...args], {
    env: options.env ?? baseEnv(),
    ...(options.entry && { cwd: dirname(options.entry) }),
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdin.end(options.stdin ?? '');
  const done = new Promise<CliResult>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve(cliResult(code, signal, stdout, stderr)));
  });
  return { child, stdout: () => stdout, stderr: () => stderr, done };
}

/** A finished CLI's result: its output, and stderr (or the part of it that is the CLI's: `logText`) read as JSON log lines. */
export function cliResult(
  code: number | null,
  signal: NodeJS.Signals | null,
  stdout: string,
  stderr: string,
  logText = stderr,
): CliResult {
  const logs = () =>
    logText
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  const failure = () =>
    logs()
      .filter((line) => line.level === 'error')
      .map((line) => {
        const error = line.error as { code?: string; name?: string } | undefined;
        const exit = line.exitCode === undefined ? '' : ` (exit ${String(line.exitCode)})`;
        return `${error ? `${error.code ?? error.name}: ` : ''}${String(line.message)}${exit}`;
      })
      .join('\n');
  return { code, signal, stdout, stderr, logs, failure };
}

export function runCli(args: string[], options: CliOptions = {}): Promise<CliResult> {
  return startCli(args, options).done;
}

/** Starts the `emulator` command on a free port; resolves with the process and its URL once it listens. */
export async function startEmulator(args: string[]): Promise<{ cli: CliProcess; url: string }> {
  const cli = startCli(['emulator', '--port', '0', ...args]);
  await waitFor(() => cli.stdout().includes('listening on') || cli.child.exitCode !== null, 'the emulator URL', 30_000);
  const match = /listening on (http:\/\/\S+)/.exec(cli.stdout());
  if (!match) throw new Error(`the emulator did not start:\n${cli.stdout()}\n${cli.stderr()}`);
  return { cli, url: match[1]! };
}

/** Resolves once `predicate` holds, polling every 20 ms; rejects after `timeoutMs`. */
export async function waitFor(predicate: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > until) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** A temporary directory for the test file, removed afterwards. */
export function useTempDir(): () => string {
  let dir: string | undefined;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'me-cli-test-'));
  });
  afterAll(async () => dir && rm(dir, { recursive: true, force: true }));
  return () => dir!;
}

/** Decodes the three segments of an entitlement file. */
export function decodeFile(text: string): { header: Record<string, unknown>; payload: Record<string, unknown> } {
  const [header, payload] = text
    .trim()
    .split('.')
    .slice(0, 2)
    .map((s) => JSON.parse(Buffer.from(s, 'base64url').toString()) as Record<string, unknown>);
  return { header: header!, payload: payload! };
}

/**
 * Signs an entitlement file as an attacker could: any payload, with a fresh Ed25519 key (or the given one),
 * the header naming that key unless `header` overrides it.
 */
export function signFile(
  payload: Record<string, unknown>,
  options: { key?: KeyObject; header?: Record<string, unknown> } = {},
): string {
  const key = options.key ?? generateKeyPairSync('ed25519').privateKey;
  const { x } = key.export({ format: 'jwk' });
  const header = {
    alg: 'EdDSA',
    typ: 'marketplace-entitlement+jwt',
    jwk: { kty: 'OKP', crv: 'Ed25519', x },
    ...options.header,
  };
  const input = `${Buffer.from(JSON.stringify(header)).toString('base64url')}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}`;
  return `${input}.${sign(null, Buffer.from(input), key).toString('base64url')}\n`;
}

/** The nonce a file signed with `key` must carry. */
export function thumbprintOf(key: KeyObject): string {
  const { x } = key.export({ format: 'jwk' });
  return jwkThumbprint({ kty: 'OKP', crv: 'Ed25519', x } as Ed25519PublicJwk);
}
