/**
 * The loggers Node and AWS users already have, passed directly as `logger` (each the real package, type-checked by
 * `tsc -p tsconfig.test.json` where it is passed): pino (fields first), Powertools for AWS Lambda's `Logger`, the
 * AWS SDK v3 `Logger` shape; and the default logger, which turns only what needs an operator into a process warning.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { Logger as PowertoolsLogger } from '@aws-lambda-powertools/logger';
import type { Logger as SdkLogger } from '@smithy/types';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { ensureEntitled, ServiceUnavailableError, type EnsureEntitledOptions } from '../../src/index.js';
import { emulatorOptions, useEmulator } from '../support/index.js';

const emulator = useEmulator();
const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** The emulator's options without the silent test logger: the library's default logger applies. */
function withDefaultLogger(overrides: Partial<EnsureEntitledOptions> = {}): EnsureEntitledOptions {
  const { logger: _silent, ...options } = emulatorOptions(emulator(), overrides);
  return options;
}

/** The process warnings emitted while `body` runs (they are emitted on the next tick, so wait one turn). */
async function processWarnings(body: () => Promise<unknown>): Promise<Error[]> {
  const warnings: Error[] = [];
  // Node's own listener would print them into the test log: set it aside while collecting.
  const printers = process.listeners('warning');
  process.removeAllListeners('warning');
  process.on('warning', (warning) => void warnings.push(warning));
  try {
    await body().catch(() => undefined);
    await new Promise((resolve) => setImmediate(resolve));
  } finally {
    process.removeAllListeners('warning');
    for (const printer of printers) process.on('warning', printer);
  }
  return warnings;
}
const codeOf = (warning: Error) => (warning as Error & { code?: string }).code;

describe('the default logger', () => {
  it('says nothing for routine retries: throttled twice, then registered', async () => {
    emulator().scenario.throttleFirst = 2;
    const warnings = await processWarnings(() => ensureEntitled(withDefaultLogger()));
    expect(emulator().calls.map((c) => c.errorType ?? 'ok')).toEqual([
      'ThrottlingException',
      'ThrottlingException',
      'ok',
    ]);
    expect(warnings.filter((w) => w.name === 'MarketplaceEntitlementWarning')).toEqual([]);
  });

  it('warns the operator of an expired key version', async () => {
    emulator().scenario.rotationTimestamp = new Date('2026-01-01T00:00:00Z');
    const warnings = await processWarnings(() => ensureEntitled(withDefaultLogger()));
    expect(warnings.filter((w) => w.name === 'MarketplaceEntitlementWarning').map(codeOf)).toEqual([
      'register.key_rotation',
    ]);
  });

  it('warns once when the deadline is close to running out, then the call fails at the deadline', async () => {
    // Every answer throttled after 100 ms: retries fill the 2 s deadline, so some retry leaves less than a quarter.
    emulator().scenario.throttleFirst = Number.MAX_SAFE_INTEGER;
    emulator().scenario.latencyMs = 100;
    let failure: unknown;
    const warnings = await processWarnings(() =>
      ensureEntitled(withDefaultLogger({ deadlineMs: 2_000 })).catch((err: unknown) => {
        failure = err;
      }),
    );
    expect(failure).toBeInstanceOf(ServiceUnavailableError);
    expect((failure as ServiceUnavailableError).code).toBe('DEADLINE_EXCEEDED');
    const ours = warnings.filter((w) => w.name === 'MarketplaceEntitlementWarning');
    expect(ours.map(codeOf)).toEqual(['register.deadline_near']);
    expect(ours[0]!.message).toMatch(
      /RegisterUsage has failed \d+ time\(s\) and less than \d+ s of its 2 s deadline is left/,
    );
  });
});

describe('pino, passed as it is', () => {
  it('logs every field: pino is called with its fields first', async () => {
    const lines: Record<string, unknown>[] = [];
    const destination = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(JSON.parse(chunk.toString('utf8')) as Record<string, unknown>);
        done();
      },
    });
    const logger = pino({ level: 'debug' }, destination);
    emulator().scenario.throttleFirst = 1;
    await ensureEntitled(emulatorOptions(emulator(), { logger: logger.child({ component: 'entitlement' }) }));
    await new Promise((resolve) => setImmediate(resolve));

    const retry = lines.find((l) => l.event === 'register.retry');
    expect(retry).toMatchObject({
      level: 30,
      msg: expect.stringMatching(/^RegisterUsage attempt 1 failed, retrying in \d+ ms$/),
      attempt: 1,
      component: 'entitlement',
    });
    expect(retry!.error).toMatchObject({ name: 'ThrottlingException' });
    expect(lines.find((l) => l.event === 'register.verified')).toMatchObject({
      level: 30,
      msg: 'Entitlement verified',
      attempts: 2,
      region: emulatorOptions(emulator()).region,
    });
  });
});

describe('Powertools for AWS Lambda Logger, passed as it is', () => {
  it('type-checks as `logger` and logs the message with every field as attributes', async () => {
    // A child process: Powertools writes to the process's stdout, which is what a Lambda function's log carries.
    const script = `
      import { Logger } from '@aws-lambda-powertools/logger';
      import { ensureEntitled } from './dist/src/index.js';
      const logger = new Logger({ serviceName: 'entitlement-test', logLevel: 'DEBUG' });
      await ensureEntitled({ ...JSON.parse(process.env.OPTIONS), logger });
    `;
    const { logger: _silent, ...options } = emulatorOptions(emulator());
    emulator().scenario.throttleFirst = 1;
    const r = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 30_000,
      env: { ...process.env, OPTIONS: JSON.stringify(options) },
    });
    const lines = r.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines.find((l) => l.event === 'register.retry')).toMatchObject({
      level: 'INFO',
      service: 'entitlement-test',
      attempt: 1,
      error: { name: 'ThrottlingException' },
    });
    expect(lines.find((l) => l.event === 'register.verified')).toMatchObject({
      level: 'INFO',
      message: 'Entitlement verified',
      attempts: 2,
    });
    // The type check itself (tsc over the tests): compiles only while `logger` accepts the real class (it was TS2322).
    const typed: EnsureEntitledOptions = {
      ...options,
      logger: new PowertoolsLogger({ serviceName: 'entitlement-test' }),
    };
    expect(typed.logger).toBeInstanceOf(PowertoolsLogger);
  });
});

describe('the AWS SDK v3 Logger shape, passed as it is', () => {
  const calls: { level: string; content: unknown[] }[] = [];
  afterEach(() => void calls.splice(0));
  const record =
    (level: string) =>
    (...content: unknown[]) =>
      void calls.push({ level, content });

  it('gets (message, fields), as console does', async () => {
    const logger: SdkLogger = {
      trace: record('trace'),
      debug: record('debug'),
      info: record('info'),
      warn: record('warn'),
      error: record('error'),
    };
    emulator().scenario.throttleFirst = 1;
    await ensureEntitled(emulatorOptions(emulator(), { logger }));
    const verified = calls.find((c) => (c.content[1] as { event?: string } | undefined)?.event === 'register.verified');
    expect(verified).toMatchObject({
      level: 'info',
      content: ['Entitlement verified', { event: 'register.verified', attempts: 2 }],
    });
    expect(calls.find((c) => (c.content[1] as { event?: string } | undefined)?.event === 'register.retry')?.level).toBe(
      'info',
    );
  });

  it('a logger whose methods need `this` (a class) keeps it', async () => {
    class Collector implements SdkLogger {
      readonly lines: string[] = [];
      debug(...content: unknown[]) {
        this.lines.push(`debug ${String(content[0])}`);
      }
      info(...content: unknown[]) {
        this.lines.push(`info ${String(content[0])}`);
      }
      warn(...content: unknown[]) {
        this.lines.push(`warn ${String(content[0])}`);
      }
      error(...content: unknown[]) {
        this.lines.push(`error ${String(content[0])}`);
      }
    }
    const logger = new Collector();
    await ensureEntitled(emulatorOptions(emulator(), { logger }));
    expect(logger.lines).toContain('info Entitlement verified');
  });
});
