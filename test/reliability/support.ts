/**
 * Helpers for the reliability tests: the built CLI (dist/cli.cjs) as a real child process with a hard
 * time bound, optional uid/gid (privilege drop when running as root), its JSON logs, and directory
 * listings to prove nothing was left behind.
 *
 * @example
 * const r = await runCli(['register', '--out', out], { env: cliEnv(emulator), timeoutMs: 20_000 });
 * expect(r.code).toBe(0);
 * expect(failureCode(r)).toBeUndefined();
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { MeteringEmulator } from '../../src/emulator/index.js';
import { DUMMY_CREDENTIALS, TEST_PRODUCT_CODE, TEST_REGION } from '../support/emulator.js';

export const CLI = join(import.meta.dirname, '..', '..', 'dist', 'cli.cjs');

/** A clean environment: nothing from the developer's AWS or MARKETPLACE setup, never a metadata service. */
export function cleanEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!/^(MARKETPLACE_|AWS_|POD_UID$|ECS_CONTAINER_METADATA|NODE_OPTIONS$|VITEST|TINYPOOL)/.test(key))
      env[key] = value;
  }
  return {
    ...env,
    AWS_EC2_METADATA_DISABLED: 'true',
    // No shared config or credentials files: only what the test passes.
    AWS_CONFIG_FILE: '/nonexistent/aws-config',
    AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/aws-credentials',
    ...extra,
  };
}

/** Dummy credentials and the Region for an emulator. */
export function cliEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return cleanEnv({
    AWS_ACCESS_KEY_ID: DUMMY_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: DUMMY_CREDENTIALS.secretAccessKey,
    ...extra,
  });
}

/** The register arguments aimed at `emulator`. */
export function registerArgs(
  emulator: MeteringEmulator,
  keyFile: string,
  out: string,
  deadline: string,
  extra: string[] = [],
): string[] {
  return [
    'register',
    '--product-code',
    TEST_PRODUCT_CODE,
    '--public-key-file',
    keyFile,
    '--out',
    out,
    '--region',
    TEST_REGION,
    '--endpoint',
    emulator.url,
    '--deadline',
    deadline,
    '--instance-id',
    'pod-reliability-1',
    ...extra,
  ];
}

export interface CliRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Wall time from spawn to exit. */
  elapsedMs: number;
  /** True when the hard bound killed it. */
  timedOut: boolean;
  logs: Record<string, unknown>[];
}

export interface CliOptions {
  env?: NodeJS.ProcessEnv;
  /** Hard bound: SIGKILL after this long (the test then fails on `timedOut`). Default 30 s. */
  timeoutMs?: number;
  uid?: number;
  gid?: number;
  /** Called once the child exists (e.g. to kill it at a chosen moment). */
  onSpawn?: (child: ChildProcess) => void;
}

export function runCli(args: string[], options: CliOptions = {}): Promise<CliRun> {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` first (npm test does).`);
  const started = performance.now();
  const child = spawn(process.execPath, [CLI, ...args], {
    env: options.env ?? cliEnv(),
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(options.uid !== undefined && { uid: options.uid }),
    ...(options.gid !== undefined && { gid: options.gid }),
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill('SIGKILL');
  }, options.timeoutMs ?? 30_000);
  options.onSpawn?.(child);
  return new Promise((resolve, reject) => {
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({
        code,
        signal,
        stdout,
        stderr,
        elapsedMs: performance.now() - started,
        timedOut,
        logs: parseLogs(stderr),
      });
    });
  });
}

/** stderr JSON lines; a line that is not JSON is kept as `{ unparsed }` so a test can see it. */
export function parseLogs(stderr: string): Record<string, unknown>[] {
  return stderr
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => {
      try {
        return JSON.parse(line) as Record<string, unknown>;
      } catch {
        return { unparsed: line };
      }
    });
}

/** The error code the CLI logged with its `cli.failed` line, if it failed. */
export function failureCode(run: CliRun): string | undefined {
  const failed = run.logs.find((l) => l.event === 'cli.failed');
  return (failed?.error as { code?: string } | undefined)?.code;
}

/** Time between two log events, from their own timestamps (independent of process start-up). */
export function logSpanMs(run: CliRun, fromEvent: string, toEvent: string): number | undefined {
  const at = (event: string) => run.logs.find((l) => l.event === event)?.time as string | undefined;
  const from = at(fromEvent);
  const to = at(toEvent);
  return from && to ? Date.parse(to) - Date.parse(from) : undefined;
}

/** Names in `dir` (sorted), [] when it does not exist. */
export function listDir(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir).sort() : [];
}

export const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
