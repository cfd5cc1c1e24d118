/**
 * Crash safety and hostile file systems, with the built CLI as a real child process:
 * - SIGKILL `register` at seeded random moments around the write: `check` only ever sees no file (66) or a
 *   complete valid one (0), and with a previous file in place always a valid one (old or new).
 * - A full file system (a 16 KiB tmpfs, filled), a read-only file system, a read-only directory (as an
 *   unprivileged user), a symlink planted at the output path, a directory owned by another user: a clear
 *   error, exit 73, nothing left behind, nothing outside the directory touched.
 * These need root (mount, chown, dropping privileges for the child); CI and this environment run as root,
 * and the suite fails loudly rather than skipping when it is not.
 */
import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  copyFileSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MeteringEmulator } from '../../src/emulator/index.js';
import { verifyEntitlementFile } from '../../src/entitlement-file/entitlement-file.js';
import { mulberry32 } from '../../bench/herd-sim.mjs';
import { startTestEmulator, TEST_PRODUCT_CODE } from '../support/emulator.js';
import { cliEnv, failureCode, isRoot, listDir, registerArgs, runCli, type CliRun } from './support.js';

const INSTANCE = 'pod-reliability-1';
const NOBODY = 65534;
const OTHER_USER = 1000;

let root: string;
let keyFile: string;
let publicKeyPem: string;
let emulator: MeteringEmulator;
const mounts: string[] = [];

beforeAll(async () => {
  expect(isRoot, 'these tests mount tmpfs and drop privileges: run them as root (CI does)').toBe(true);
  root = mkdtempSync(join(tmpdir(), 'crash-safety-'));
  chmodSync(root, 0o755); // an unprivileged child must reach the key file
  emulator = await startTestEmulator();
  publicKeyPem = emulator.publicKeyPem;
  keyFile = join(root, 'product-key.pem');
  writeFileSync(keyFile, publicKeyPem, { mode: 0o644 });
});

afterAll(async () => {
  for (const mount of mounts.reverse()) {
    try {
      execFileSync('umount', [mount], { timeout: 10_000 });
    } catch {
      execFileSync('umount', ['-l', mount], { timeout: 10_000 });
    }
  }
  await emulator?.close();
  if (root) rmSync(root, { recursive: true, force: true });
});

function checkArgs(file: string): string[] {
  return [
    'check',
    '--file',
    file,
    '--public-key-file',
    keyFile,
    '--product-code',
    TEST_PRODUCT_CODE,
    '--instance-id',
    INSTANCE,
  ];
}

function mountTmpfs(dir: string, options: string): void {
  mkdirSync(dir, { recursive: true });
  execFileSync('mount', ['-t', 'tmpfs', '-o', options, 'tmpfs', dir], { timeout: 10_000 });
  mounts.push(dir);
}

const isTempName = (name: string) => name.endsWith('.tmp');

describe('SIGKILL while register writes', () => {
  // 31 register runs and as many checks, three at a time: on a loaded 2-core CI machine that takes over a minute.
  it('check only ever sees no file or a complete valid one; a previous file survives every kill', {
    timeout: 240_000,
  }, async () => {
    const random = mulberry32(20_240_601);
    // A previous, valid file to put in place before every other run.
    const calibrationDir = join(root, 'kill-previous');
    mkdirSync(calibrationDir);
    const previous = join(calibrationDir, 'entitlement.jwt');
    const first = await runCli(registerArgs(emulator, keyFile, previous, '20s'), { env: cliEnv(), timeoutMs: 30_000 });
    expect(first.code, first.stderr).toBe(0);
    const previousBytes = readFileSync(previous);

    // Three lanes, each with its own emulator so a kill is tied to its own run's answer.
    const LANES = 3;
    const PER_LANE = 10;
    // Kill moments after the emulator answers, log-uniform over 0.2 ms to 1 s: dense around the verify,
    // write, fsync and rename that follow the answer within milliseconds, and still reaching past the exit
    // however loaded the machine is.
    const [MIN_MS, MAX_MS] = [0.2, 1_000];
    const delays = Array.from({ length: LANES * PER_LANE }, () => MIN_MS * (MAX_MS / MIN_MS) ** random());
    const outcomes = { killedNoFile: 0, killedOldFile: 0, killedNewFile: 0, finished: 0 };
    let tempFilesLeft = 0;
    await Promise.all(
      Array.from({ length: LANES }, async (_, lane) => {
        let laneHook: (() => void) | undefined;
        const laneEmulator = await startTestEmulator({ onCall: () => laneHook?.() });
        try {
          for (let k = 0; k < PER_LANE; k += 1) {
            const i = lane * PER_LANE + k;
            const withPrevious = i % 2 === 1;
            const dir = join(root, `kill-${i}`);
            mkdirSync(dir);
            const out = join(dir, 'entitlement.jwt');
            if (withPrevious) copyFileSync(previous, out);
            // Each lane's first run is killed before the answer leaves the emulator (onCall runs before the
            // response is written: no new file can exist) and its last is never killed (it must finish), so both
            // sides of the write are reached by construction, however loaded the machine; the runs between are the
            // seeded sweep, whose outcomes are checked but not counted on.
            const mode = k === 0 ? 'before-answer' : k === PER_LANE - 1 ? 'never' : 'after-delay';
            const delayMs = delays[i]!;
            let child: { kill(signal: NodeJS.Signals): boolean } | undefined;
            let timer: NodeJS.Timeout | undefined;
            laneHook = () => {
              if (mode === 'before-answer') child?.kill('SIGKILL');
              else if (mode === 'after-delay') timer = setTimeout(() => child?.kill('SIGKILL'), delayMs);
            };
            const run = await runCli(registerArgs(laneEmulator, keyFile, out, '20s'), {
              env: cliEnv(),
              timeoutMs: 30_000,
              onSpawn: (c) => (child = c),
            });
            clearTimeout(timer);
            laneHook = undefined;

            // What a healthcheck sees now, through the real CLI.
            const check = await runCli(checkArgs(out), { env: cliEnv(), timeoutMs: 15_000 });
            const exists = existsSync(out);
            tempFilesLeft += listDir(dir).filter(isTempName).length;
            const context = `iteration ${i}, ${mode === 'after-delay' ? `kill ${delayMs.toFixed(1)} ms after the answer` : mode}: ${check.stdout}${check.stderr}`;
            if (mode === 'before-answer') expect(run.signal, context).toBe('SIGKILL');
            if (mode === 'never') expect(run.code, `${context}\n${run.stderr}`).toBe(0);
            if (withPrevious) {
              expect(check.code, context).toBe(0);
            } else {
              expect([0, 66], context).toContain(check.code);
              expect(check.code === 0, context).toBe(exists);
            }
            if (exists) {
              // Complete and valid, by the library too; its bytes are the old file or a whole new one.
              await verifyEntitlementFile(out, {
                publicKey: publicKeyPem,
                productCode: TEST_PRODUCT_CODE,
                instanceId: INSTANCE,
              });
            }
            const isOld = exists && readFileSync(out).equals(previousBytes);
            if (run.signal !== 'SIGKILL') {
              expect(run.code, run.stderr).toBe(0);
              outcomes.finished += 1;
            } else if (!exists) outcomes.killedNoFile += 1;
            else if (withPrevious && isOld) outcomes.killedOldFile += 1;
            else outcomes.killedNewFile += 1;
          }
        } finally {
          await laneEmulator.close();
        }
      }),
    );
    console.log(
      `SIGKILL x ${LANES * PER_LANE} (seeded, kill delays log-uniform in [${MIN_MS}, ${MAX_MS}] ms after the answer): ` +
        `${JSON.stringify(outcomes)}; temp files left by killed runs: ${tempFilesLeft} (never read by check)`,
    );
    // The kills did straddle the write: some runs were cut before the rename, some completed it (by construction:
    // each lane's first and last runs).
    expect(outcomes.killedNoFile + outcomes.killedOldFile).toBeGreaterThan(0);
    expect(outcomes.killedNewFile + outcomes.finished).toBeGreaterThan(0);
  });
});

interface FsCase {
  name: string;
  /** Prepares the output directory; returns the --out path. */
  setup: (dir: string) => string;
  uid?: number;
  gid?: number;
  /** Files that must be exactly as before afterwards (outside the output directory or planted in it). */
  untouched?: (dir: string) => Record<string, Buffer | null>;
  /** What must be in the directory afterwards (default: nothing). */
  leftAfter?: string[];
}

const fsCases: FsCase[] = [
  {
    name: 'full file system (16 KiB tmpfs, filled)',
    setup: (dir) => {
      mountTmpfs(dir, 'size=16k,mode=0755');
      const filler = join(dir, 'filler');
      for (let i = 0; i < 64; i += 1) {
        try {
          writeFileSync(filler, Buffer.alloc(1024, 1), { flag: 'a' });
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === 'ENOSPC') break;
          throw err;
        }
      }
      expect(() => writeFileSync(join(dir, 'probe'), 'x'.repeat(2048))).toThrow(/ENOSPC/);
      rmSync(join(dir, 'probe'), { force: true });
      return join(dir, 'entitlement.jwt');
    },
    leftAfter: ['filler'],
  },
  {
    name: 'read-only file system (tmpfs remounted ro)',
    setup: (dir) => {
      mountTmpfs(dir, 'size=1m,mode=0755');
      execFileSync('mount', ['-o', 'remount,ro', dir], { timeout: 10_000 });
      return join(dir, 'entitlement.jwt');
    },
  },
  {
    name: 'read-only directory (0555, register runs as nobody)',
    setup: (dir) => {
      mkdirSync(dir);
      chmodSync(dir, 0o555);
      return join(dir, 'entitlement.jwt');
    },
    uid: NOBODY,
    gid: NOBODY,
  },
  {
    name: 'directory owned by another user (uid 1000, 0755; register runs as nobody)',
    setup: (dir) => {
      mkdirSync(dir);
      chownSync(dir, OTHER_USER, OTHER_USER);
      chmodSync(dir, 0o755);
      return join(dir, 'entitlement.jwt');
    },
    uid: NOBODY,
    gid: NOBODY,
  },
];

describe('hostile file systems: exit 73, a clear error, nothing left behind', () => {
  for (const c of fsCases) {
    it(c.name, async () => {
      const dir = join(root, c.name.replace(/[^a-zA-Z0-9]+/g, '-'));
      const out = c.setup(dir);
      const before = listDir(dir);
      const callsBefore = emulator.calls.length;
      const run = await runCli(registerArgs(emulator, keyFile, out, '20s'), {
        env: cliEnv({ HOME: '/nonexistent' }),
        timeoutMs: 30_000,
        ...(c.uid !== undefined && { uid: c.uid, gid: c.gid }),
      });
      report(c.name, run, emulator.calls.length - callsBefore);
      expect(run.code, run.stderr).toBe(73);
      expect(failureCode(run)).toMatch(/^OUTPUT_/);
      const failed = run.logs.find((l) => l.event === 'cli.failed');
      // A clear error: it names the path and what to do about it.
      expect(String((failed?.error as { message?: string })?.message)).toContain(dir);
      expect(listDir(dir)).toEqual(c.leftAfter ?? before);
    });
  }

  it('a symlink planted at the output path is never followed: its target is neither written nor created', async () => {
    for (const run of await symlinkRuns()) {
      expect(run.victim).toBe('precious\n');
      expect(run.danglingCreated).toBe(false);
      expect(run.elsewhere).toEqual(['victim.conf']);
      expect(run.temps).toEqual([]);
    }
  });

  it('a symlink planted at the output path is refused: exit 73, the link left as it was (issue 6)', async () => {
    for (const run of await symlinkRuns()) {
      expect(run.cli.code, run.cli.stderr).toBe(73);
      expect(failureCode(run.cli)).toMatch(/^OUTPUT_/);
      expect(run.stillLink).toBe(true);
    }
  });
});

/** Runs register once at each planted symlink (memoised: both symlink tests judge the same runs). */
let symlinkResults:
  | Promise<
      {
        cli: CliRun;
        victim: string;
        danglingCreated: boolean;
        elsewhere: string[];
        temps: string[];
        stillLink: boolean;
      }[]
    >
  | undefined;
function symlinkRuns() {
  symlinkResults ??= (async () => {
    const dir = join(root, 'symlink-out');
    const elsewhere = join(root, 'symlink-elsewhere');
    mkdirSync(dir);
    mkdirSync(elsewhere);
    const victim = join(elsewhere, 'victim.conf');
    writeFileSync(victim, 'precious\n');
    const dangling = join(elsewhere, 'would-be-created');
    const cases = [
      { kind: 'to an existing file', link: join(dir, 'entitlement.jwt'), target: victim },
      { kind: 'dangling', link: join(dir, 'entitlement-dangling.jwt'), target: dangling },
    ];
    const results = [];
    for (const { kind, link, target } of cases) {
      symlinkSync(target, link);
      const callsBefore = emulator.calls.length;
      const cli = await runCli(registerArgs(emulator, keyFile, link, '20s'), { env: cliEnv(), timeoutMs: 30_000 });
      report(`symlink planted at --out (${kind})`, cli, emulator.calls.length - callsBefore);
      results.push({
        cli,
        victim: readFileSync(victim, 'utf8'),
        danglingCreated: existsSync(dangling),
        elsewhere: listDir(elsewhere),
        temps: listDir(dir).filter(isTempName),
        stillLink: lstatSync(link).isSymbolicLink(),
      });
    }
    return results;
  })();
  return symlinkResults;
}

const fsResults: string[] = [];
function report(name: string, run: CliRun, calls: number): void {
  const failed = run.logs.find((l) => l.event === 'cli.failed');
  const error = failed?.error as { code?: string; message?: string } | undefined;
  fsResults.push(
    `| ${name} | ${run.code} | ${error?.code ?? '-'} | ${calls} | ${error?.message ?? run.stdout.trim()} |`,
  );
}
afterAll(() => {
  if (fsResults.length > 0)
    console.log(
      `file system results:\n| case | exit | code | RegisterUsage calls | message |\n|---|---:|---|---:|---|\n${fsResults.join('\n')}`,
    );
});
