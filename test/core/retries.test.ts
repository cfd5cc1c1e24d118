/**
 * The retry loop end to end: what is retried (throttling, 5xx, broken connections, garbled answers, hung
 * requests), how it ends (deadline, abort) and that it ends within its bounds. Time bounds are generous.
 */
import { describe, expect, it } from 'vitest';
import { ensureEntitled, ExitCode, ServiceUnavailableError } from '../../src/index.js';
import { emulatorOptions, recordingLogger, rejectionOf, useEmulator } from '../support/index.js';

const emulator = useEmulator();

/** The ServiceUnavailableError `body` rejects with, and how long it took. */
async function timedFailure(
  body: () => Promise<unknown>,
): Promise<{ error: ServiceUnavailableError; elapsedMs: number }> {
  const started = performance.now();
  const error = await rejectionOf(body(), ServiceUnavailableError);
  return { error, elapsedMs: performance.now() - started };
}

describe('retried until success', () => {
  it.each([1, 3, 6])('throttled %i time(s), then success: attempts = N+1', async (n) => {
    emulator().scenario.throttleFirst = n;
    const logger = recordingLogger();
    const entitlement = await ensureEntitled(emulatorOptions(emulator(), { logger }));

    expect(entitlement.attempts).toBe(n + 1);
    expect(emulator().calls.map((call) => call.errorType ?? 'ok')).toEqual([
      ...Array<string>(n).fill('ThrottlingException'),
      'ok',
    ]);
    const retries = logger.entries.filter((e) => e.fields?.event === 'register.retry');
    expect(retries.map((e) => e.fields?.attempt)).toEqual(Array.from({ length: n }, (_, i) => i + 1));
    expect(retries[0]?.fields?.error).toMatchObject({ name: 'ThrottlingException' });
  });

  it('waits what the policy says: the window grows by stepDelayMs to maxDelayMs, the delay falls in its last maxJitterMs', async () => {
    emulator().scenario.throttleFirst = 4;
    const logger = recordingLogger();
    // Windows 20, 30, 40, 40 ms; a 1 ms spread makes every draw land on the window's last millisecond.
    const retry = { baseDelayMs: 20, doublingLimitMs: 20, stepDelayMs: 10, maxDelayMs: 40, maxJitterMs: 1 };
    const entitlement = await ensureEntitled(emulatorOptions(emulator(), { logger, retry }));

    expect(entitlement.attempts).toBe(5);
    const delays = logger.entries.filter((e) => e.fields?.event === 'register.retry').map((e) => e.fields?.delayMs);
    expect(delays).toEqual([19, 29, 39, 39]);
  });

  it('HTTP 500 twice, then success', async () => {
    emulator().scenario.failFirst = 2;
    const entitlement = await ensureEntitled(emulatorOptions(emulator()));

    expect(entitlement.attempts).toBe(3);
    expect(emulator().calls.map((call) => call.statusCode)).toEqual([500, 500, 200]);
  });

  it.each([
    ['a connection reset', 'reset'],
    ['a garbled (non-JSON) answer', 'malformed-json'],
  ] as const)('%s, then success', async (_label, transportFault) => {
    Object.assign(emulator().scenario, { transportFault, transportFaultFirst: 2 });
    const entitlement = await ensureEntitled(emulatorOptions(emulator()));

    expect(entitlement.attempts).toBe(3);
    expect(emulator().calls).toHaveLength(3);
  });

  it('a hung request is abandoned after requestTimeoutMs and retried', async () => {
    Object.assign(emulator().scenario, { transportFault: 'hang', transportFaultFirst: 1 });
    const entitlement = await ensureEntitled(
      emulatorOptions(emulator(), { requestTimeoutMs: 300, deadlineMs: 20_000 }),
    );

    expect(entitlement.attempts).toBe(2);
    expect(emulator().calls.map((call) => [call.errorType ?? 'ok', call.statusCode])).toEqual([
      ['Hang', 0],
      ['ok', 200],
    ]);
  });
});

describe('bounded by the deadline', () => {
  it('persistent throttling ends in DEADLINE_EXCEEDED near the deadline', async () => {
    emulator().scenario.throttleFirst = Infinity;
    const { error, elapsedMs } = await timedFailure(() =>
      ensureEntitled(emulatorOptions(emulator(), { deadlineMs: 800 })),
    );

    expect(error).toMatchObject({ code: 'DEADLINE_EXCEEDED', exitCode: ExitCode.SERVICE_UNAVAILABLE });
    expect(error.attempts).toBeGreaterThan(1);
    // The attempt in flight at the deadline may be cut off before the emulator records it.
    expect(error.attempts - emulator().calls.length).toBeOneOf([0, 1]);
    expect((error.cause as Error).name).toBe('ThrottlingException');
    expect(error.message).toContain('ThrottlingException');
    expect(elapsedMs).toBeGreaterThanOrEqual(700);
    expect(elapsedMs).toBeLessThan(5_000);
  });

  it('a request that hangs longer than the deadline is cut off by it', async () => {
    emulator().scenario.transportFault = 'hang';
    const { error, elapsedMs } = await timedFailure(() =>
      ensureEntitled(emulatorOptions(emulator(), { deadlineMs: 500, requestTimeoutMs: 60_000 })),
    );

    expect(error.code).toBe('DEADLINE_EXCEEDED');
    expect(error.attempts).toBe(1);
    expect(elapsedMs).toBeLessThan(5_000);
  });

  it('an answer slower than the deadline (latency) is cut off by it', async () => {
    emulator().scenario.latencyMs = 2_000;
    const { error, elapsedMs } = await timedFailure(() =>
      ensureEntitled(emulatorOptions(emulator(), { deadlineMs: 300 })),
    );

    expect(error.code).toBe('DEADLINE_EXCEEDED');
    expect(elapsedMs).toBeLessThan(1_900);
  });
});

describe('abort', () => {
  it('an abort during retries ends promptly in ABORTED with the last failure as cause', async () => {
    emulator().scenario.throttleFirst = Infinity;
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('shutting down')), 200);
    const { error, elapsedMs } = await timedFailure(() =>
      ensureEntitled(emulatorOptions(emulator(), { signal: controller.signal, deadlineMs: 60_000 })),
    );

    expect(error).toMatchObject({ code: 'ABORTED', exitCode: ExitCode.SERVICE_UNAVAILABLE });
    expect((error.cause as Error).name).toBe('ThrottlingException');
    expect(elapsedMs).toBeLessThan(3_000);
  });

  it('an abort cuts a hung request short', async () => {
    emulator().scenario.transportFault = 'hang';
    const { error, elapsedMs } = await timedFailure(() =>
      ensureEntitled(
        emulatorOptions(emulator(), { signal: AbortSignal.timeout(200), deadlineMs: 60_000, requestTimeoutMs: 60_000 }),
      ),
    );

    expect(error.code).toBe('ABORTED');
    expect(error.attempts).toBe(1);
    expect(elapsedMs).toBeLessThan(3_000);
  });

  it('an already aborted signal makes no call at all', async () => {
    const { error } = await timedFailure(() =>
      ensureEntitled(emulatorOptions(emulator(), { signal: AbortSignal.abort() })),
    );

    expect(error.code).toBe('ABORTED');
    expect(error.attempts).toBe(0);
    expect(emulator().calls).toHaveLength(0);
  });
});
