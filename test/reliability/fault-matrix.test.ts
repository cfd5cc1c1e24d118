/**
 * The fault matrix: the built CLI's `register` (dist/cli.cjs, a real child process, the real AWS SDK over
 * HTTP) against the emulator, once for every fault the emulator can inject. For each row: the exit code,
 * the error code in the JSON log, how many calls the emulator saw, that the output directory holds nothing
 * afterwards (no entitlement file, no temp file) or exactly a valid file, and that the run ended within its
 * deadline. The table is complete by construction: a fault added to the emulator without a row fails here.
 *
 * Rows run five at a time (vitest's maxConcurrency); each has its own emulator and output directory.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  REGISTER_USAGE_ERRORS,
  TOKEN_FAULTS,
  TOKEN_IAT_VARIANTS,
  TRANSPORT_FAULTS,
  type EmulatorScenario,
  type MeteringEmulator,
} from '../../src/emulator/index.js';
import { verifyEntitlementFile } from '../../src/entitlement-file/entitlement-file.js';
import { startTestEmulator, TEST_PRODUCT_CODE } from '../support/emulator.js';
import { REGISTER_USAGE_ERROR_OUTCOMES, TOKEN_FAULT_CODES } from '../support/expected-outcomes.js';
import { cliEnv, failureCode, listDir, logSpanMs, registerArgs, runCli } from './support.js';

interface Row {
  name: string;
  /** What it covers, for the completeness check: `error:<Name>`, `token:<fault>`, `iat:<variant>`, `transport:<fault>`, `latency`. */
  covers: string;
  scenario: Partial<EmulatorScenario>;
  deadline: string;
  deadlineMs: number;
  exit: number;
  /** The `error.code` of the `cli.failed` log line; undefined for success. */
  code?: string;
  /** Exact number of RegisterUsage calls the emulator must see, or a minimum. */
  calls: number | { atLeast: number };
}

const SHORT = { deadline: '3s', deadlineMs: 3_000 };
const LONG = { deadline: '20s', deadlineMs: 20_000 };

const rows: Row[] = [
  { name: 'no fault (control)', covers: 'none', scenario: {}, ...LONG, exit: 0, calls: 1 },
  {
    name: 'PascalCase claims',
    covers: 'claims',
    scenario: { claimSpelling: 'PascalCase' },
    ...LONG,
    exit: 0,
    calls: 1,
  },
  {
    name: 'key rotation timestamp returned',
    covers: 'rotation',
    scenario: { rotationTimestamp: new Date('2025-01-01T00:00:00Z') },
    ...LONG,
    exit: 0,
    calls: 1,
  },
  {
    name: 'not entitled (scenario.entitled = false)',
    covers: 'entitled',
    scenario: { entitled: false },
    ...LONG,
    exit: 77,
    code: 'CUSTOMER_NOT_ENTITLED',
    calls: 1,
  },
  ...Object.entries(REGISTER_USAGE_ERROR_OUTCOMES).map(
    ([error, want]): Row => ({
      name: want.retryable ? `${error} on every call` : error,
      covers: `error:${error}`,
      scenario: { error },
      ...(want.retryable ? SHORT : LONG),
      exit: want.exitCode,
      code: want.code,
      calls: want.retryable ? { atLeast: 1 } : 1,
    }),
  ),
  {
    name: 'ThrottlingException x2, then success',
    covers: 'recover',
    scenario: { throttleFirst: 2 },
    ...LONG,
    exit: 0,
    calls: 3,
  },
  { name: 'HTTP 500 x2, then success', covers: 'recover', scenario: { failFirst: 2 }, ...LONG, exit: 0, calls: 3 },
  {
    name: 'rate limit 5/s (one pod)',
    covers: 'rate',
    scenario: { rateLimit: { perSecond: 5 } },
    ...LONG,
    exit: 0,
    calls: 1,
  },
  ...TOKEN_FAULTS.map(
    (fault): Row => ({
      name: `token: ${fault}`,
      covers: `token:${fault}`,
      scenario: { tokenFault: fault },
      ...LONG,
      exit: 65,
      code: TOKEN_FAULT_CODES[fault],
      calls: 1,
    }),
  ),
  // iat is advisory: whatever AWS sends there (or nothing), the registration is accepted.
  ...TOKEN_IAT_VARIANTS.map(
    (variant): Row => ({
      name: `token iat: ${variant}`,
      covers: `iat:${variant}`,
      scenario: { tokenIat: variant },
      ...LONG,
      exit: 0,
      calls: 1,
    }),
  ),
  {
    name: 'connection reset on every call',
    covers: 'transport:reset',
    scenario: { transportFault: 'reset' },
    ...SHORT,
    exit: 69,
    code: 'DEADLINE_EXCEEDED',
    calls: { atLeast: 1 },
  },
  {
    name: 'connection reset once, then success',
    covers: 'recover',
    scenario: { transportFault: 'reset', transportFaultFirst: 1 },
    ...LONG,
    exit: 0,
    calls: 2,
  },
  {
    name: 'hung connection on every call',
    covers: 'transport:hang',
    scenario: { transportFault: 'hang' },
    ...SHORT,
    exit: 69,
    code: 'DEADLINE_EXCEEDED',
    calls: 1,
  },
  {
    name: 'hung connection once: per-attempt timeout (10 s), then success',
    covers: 'recover',
    scenario: { transportFault: 'hang', transportFaultFirst: 1 },
    ...LONG,
    exit: 0,
    calls: 2,
  },
  {
    name: 'malformed JSON on every call',
    covers: 'transport:malformed-json',
    scenario: { transportFault: 'malformed-json' },
    ...SHORT,
    exit: 69,
    code: 'DEADLINE_EXCEEDED',
    calls: { atLeast: 1 },
  },
  {
    name: 'malformed JSON once, then success',
    covers: 'recover',
    scenario: { transportFault: 'malformed-json', transportFaultFirst: 1 },
    ...LONG,
    exit: 0,
    calls: 2,
  },
  {
    name: 'empty Signature',
    covers: 'transport:empty-signature',
    scenario: { transportFault: 'empty-signature' },
    ...LONG,
    exit: 65,
    code: 'TOKEN_MALFORMED',
    calls: 1,
  },
  {
    name: 'non-JWT Signature',
    covers: 'transport:non-jwt-signature',
    scenario: { transportFault: 'non-jwt-signature' },
    ...LONG,
    exit: 65,
    code: 'TOKEN_MALFORMED',
    calls: 1,
  },
  // The emulator records a call when it answers; this one is never answered before the client gives up.
  {
    name: 'slow answer (8 s) past the deadline',
    covers: 'latency',
    scenario: { latencyMs: 8_000 },
    ...SHORT,
    exit: 69,
    code: 'DEADLINE_EXCEEDED',
    calls: { atLeast: 0 },
  },
  {
    name: 'slow answer (1 s) within the deadline',
    covers: 'latency',
    scenario: { latencyMs: 1_000 },
    ...SHORT,
    exit: 0,
    calls: 1,
  },
];

let root: string;
let keyFile: string;
let publicKeyPem: string;
const results: {
  row: Row;
  code: number | null;
  logged?: string;
  calls: number;
  left: string[];
  elapsedMs: number;
  spanMs?: number;
}[] = [];

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'fault-matrix-'));
  const probe = await startTestEmulator();
  publicKeyPem = probe.publicKeyPem;
  await probe.close();
  keyFile = join(root, 'product-key.pem');
  writeFileSync(keyFile, publicKeyPem);
});

afterAll(() => {
  if (root) rmSync(root, { recursive: true, force: true });
  if (results.length > 0) {
    const lines = [
      '| fault | deadline | exit | logged error code | calls | left in --out dir | wall time |',
      '|---|---:|---:|---|---:|---|---:|',
    ];
    for (const r of results.sort((a, b) => rows.indexOf(a.row) - rows.indexOf(b.row))) {
      lines.push(
        `| ${r.row.name} | ${r.row.deadline} | ${r.code} | ${r.logged ?? '-'} | ${r.calls} | ${r.left.length ? r.left.join(', ') : 'nothing'} | ${(r.elapsedMs / 1000).toFixed(1)} s |`,
      );
    }
    console.log(`fault matrix results:\n${lines.join('\n')}`);
  }
});

describe('fault matrix: built CLI register against the emulator', () => {
  it('has a row for every fault the emulator can inject', () => {
    const covered = new Set(rows.map((r) => r.covers));
    const injectable = [
      ...Object.keys(REGISTER_USAGE_ERRORS).map((e) => `error:${e}`),
      ...TOKEN_FAULTS.map((f) => `token:${f}`),
      ...TOKEN_IAT_VARIANTS.map((v) => `iat:${v}`),
      ...TRANSPORT_FAULTS.map((f) => `transport:${f}`),
      'latency',
    ];
    expect(injectable.filter((f) => !covered.has(f))).toEqual([]);
    expect(Object.keys(TOKEN_FAULT_CODES).sort()).toEqual([...TOKEN_FAULTS].sort());
  });

  describe.concurrent('rows', () => {
    for (const row of rows) {
      it(`${row.name}: exit ${row.exit}${row.code ? ` ${row.code}` : ''}`, async () => {
        let emulator: MeteringEmulator | undefined;
        const outDir = join(root, row.name.replace(/[^a-zA-Z0-9]+/g, '-'));
        mkdirSync(outDir); // like an emptyDir volume: exists, empty
        const out = join(outDir, 'entitlement.jwt');
        try {
          emulator = await startTestEmulator({ scenario: row.scenario });
          const run = await runCli(registerArgs(emulator, keyFile, out, row.deadline), {
            env: cliEnv(),
            timeoutMs: row.deadlineMs + 20_000,
          });
          const calls = emulator.calls.filter((c) => c.operation === 'RegisterUsage').length;
          const left = listDir(outDir);
          const spanMs = logSpanMs(run, 'register.start', row.exit === 0 ? 'register.verified' : 'cli.failed');
          results.push({
            row,
            code: run.code,
            logged: failureCode(run),
            calls,
            left,
            elapsedMs: run.elapsedMs,
            ...(spanMs !== undefined && { spanMs }),
          });

          expect(run.timedOut, run.stderr).toBe(false);
          expect(run.code, run.stderr).toBe(row.exit);
          expect(failureCode(run), run.stderr).toBe(row.code);
          if (typeof row.calls === 'number') expect(calls).toBe(row.calls);
          else expect(calls).toBeGreaterThanOrEqual(row.calls.atLeast);
          // Every stderr line is a JSON object with an event.
          expect(
            run.logs.every((l) => typeof l.event === 'string'),
            run.stderr,
          ).toBe(true);
          expect(spanMs, run.stderr).toBeDefined();
          // Order and outcome, never a wall-clock bound (how many attempts fit in the deadline depends on the load):
          // every failed answer was logged as retry 1, 2, ... in order, and the loop ended either on success or,
          // for a retryable fault, on its deadline (DEADLINE_EXCEEDED, naming it) after the retry it had logged.
          const retries = run.logs.filter((l) => l.event === 'register.retry').map((l) => l.attempt);
          expect(retries, run.stderr).toEqual(retries.map((_, i) => i + 1));
          if (row.code === 'DEADLINE_EXCEEDED') {
            expect(
              (run.logs.find((l) => l.event === 'cli.failed')?.error as { message?: string } | undefined)?.message,
            ).toContain(`within ${row.deadlineMs} ms`);
            expect([calls - 1, calls]).toContain(retries.length);
          } else if (typeof row.calls === 'number') {
            expect(retries).toHaveLength(row.calls - 1);
          }
          if (row.exit === 0) {
            expect(left).toEqual(['entitlement.jwt']);
            const claims = await verifyEntitlementFile(out, {
              publicKey: publicKeyPem,
              productCode: TEST_PRODUCT_CODE,
              instanceId: 'pod-reliability-1',
            });
            expect(claims.nonce).toBe(emulator.calls.at(-1)!.input.Nonce);
            if (row.scenario.rotationTimestamp)
              expect(run.logs.some((l) => l.event === 'register.key_rotation')).toBe(true);
          } else {
            expect(left).toEqual([]); // no entitlement file, no temp file
            expect(run.logs.find((l) => l.event === 'cli.failed')).toMatchObject({
              command: 'register',
              exitCode: row.exit,
            });
            expect(run.stdout).toBe(''); // errors go to stderr only
          }
        } finally {
          await emulator?.close();
        }
      });
    }
  });
});
