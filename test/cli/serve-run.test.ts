// `serve` (the sidecar) and `run` (the entrypoint wrapper) through the built CLI, against the emulator.
import { existsSync, readFileSync, renameSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { TEST_PRODUCT_CODE, useEmulator } from '../support/index.js';
import { emulatorEnv, runCli, startCli, useTempDir, waitFor, type CliProcess } from './helpers.js';

const emulator = useEmulator();
const tempDir = useTempDir();
let counter = 0;
const freshOut = () => join(tempDir(), `case-${++counter}`, 'entitlement.jwt');
const common = (out: string) => ['--product-code', TEST_PRODUCT_CODE, '--out', out, '--instance-id', 'pod-a'];

/** Starts `serve` on a free port; resolves with the process and its URL once it listens. */
async function startServe(out: string): Promise<{ cli: CliProcess; url: string }> {
  const cli = startCli(['serve', '--port', '0', ...common(out)], { env: emulatorEnv(emulator()) });
  await waitFor(() => cli.stderr().includes('serve.listening'), 'serve to listen');
  const url = /"url":"(http:[^"]+)"/.exec(cli.stderr())![1]!;
  return { cli, url };
}

async function stop(cli: CliProcess): Promise<number | null> {
  cli.child.kill('SIGTERM');
  return (await cli.done).code;
}

/**
 * Checks Prometheus text exposition format 0.0.4 line by line: HELP/TYPE comments, samples of declared
 * metrics with valid names, labels and float values. Returns the samples by series.
 */
function parsePrometheus(text: string): Map<string, number> {
  expect(text.endsWith('\n')).toBe(true);
  const types = new Map<string, string>();
  const samples = new Map<string, number>();
  const name = '[a-zA-Z_:][a-zA-Z0-9_:]*';
  const sample = new RegExp(
    `^(${name})(\\{[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\\\\n]|\\\\[\\\\"n])*"(?:,[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\\\\n]|\\\\[\\\\"n])*")*\\})? (-?\\d+(?:\\.\\d+)?(?:e[+-]?\\d+)?|NaN|[+-]Inf)$`,
  );
  for (const line of text.slice(0, -1).split('\n')) {
    const help = new RegExp(`^# HELP (${name}) .+$`).exec(line);
    const type = new RegExp(`^# TYPE (${name}) (counter|gauge|histogram|summary|untyped)$`).exec(line);
    if (help) continue;
    if (type) {
      expect(types.has(type[1]!), `TYPE declared twice for ${type[1]}`).toBe(false);
      types.set(type[1]!, type[2]!);
      continue;
    }
    const match = sample.exec(line);
    expect(match, `not a valid exposition line: ${line}`).not.toBeNull();
    expect(types.has(match![1]!), `sample before its TYPE: ${line}`).toBe(true);
    if (types.get(match![1]!) === 'counter') expect(match![1]).toMatch(/_total$/);
    samples.set(`${match![1]}${match![2] ?? ''}`, Number(match![3]));
  }
  return samples;
}

describe('serve', () => {
  it('answers 503 until registered, then 200; serves /entitlement and valid Prometheus /metrics; exits 0 on SIGTERM', async () => {
    emulator().scenario.latencyMs = 1_500; // registration in flight long enough to probe
    const out = freshOut();
    const { cli, url } = await startServe(out);
    const early = await fetch(`${url}/healthz`);
    expect(early.status).toBe(503);
    expect(await early.json()).toMatchObject({ entitled: false, code: 'NOT_YET_ENTITLED' });
    await waitFor(() => cli.stdout().includes('serving on'), 'registration');
    const ready = await fetch(`${url}/healthz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ entitled: true, productCode: TEST_PRODUCT_CODE, instance: 'pod-a' });
    expect(await (await fetch(`${url}/entitlement`)).json()).toMatchObject({
      entitled: true,
      productCode: TEST_PRODUCT_CODE,
      instance: 'pod-a',
    });
    const metrics = await fetch(`${url}/metrics`);
    expect(metrics.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const samples = parsePrometheus(await metrics.text());
    expect(samples.get('marketplace_entitlement_valid')).toBe(1);
    expect(samples.get('marketplace_entitlement_registration_attempts_total')).toBe(1);
    expect(samples.get('marketplace_entitlement_errors_total{code="NOT_YET_ENTITLED"}')).toBeGreaterThanOrEqual(1);
    expect(samples.get('marketplace_entitlement_last_verification_timestamp_seconds')).toBeGreaterThan(
      Date.now() / 1000 - 60,
    );
    expect((await fetch(`${url}/nope`)).status).toBe(404);
    expect(await stop(cli)).toBe(0);
  });

  it('restarted over a valid file for this instance, registers again from its own process and writes a new file', async () => {
    const out = freshOut();
    const first = await startServe(out);
    await waitFor(() => first.cli.stdout().includes('serving on'), 'first registration');
    expect(await stop(first.cli)).toBe(0);
    expect(emulator().calls).toHaveLength(1);
    const firstFile = readFileSync(out, 'utf8');

    emulator().scenario.latencyMs = 1_500; // registration in flight long enough to probe
    const second = await startServe(out);
    // The file of the first start is valid for this instance, yet not served: it was not written by this process.
    expect(await (await fetch(`${second.url}/healthz`)).json()).toMatchObject({
      entitled: false,
      code: 'NOT_YET_ENTITLED',
    });
    await waitFor(() => second.cli.stdout().includes('serving on'), 'second start');
    expect(second.cli.stdout()).not.toContain('reused');
    expect(emulator().calls).toHaveLength(2);
    expect(readFileSync(out, 'utf8')).not.toBe(firstFile);
    expect((await fetch(`${second.url}/healthz`)).status).toBe(200);
    expect(
      parsePrometheus(await (await fetch(`${second.url}/metrics`)).text()).get(
        'marketplace_entitlement_registration_attempts_total',
      ),
    ).toBe(1);
    expect(await stop(second.cli)).toBe(0);
  });

  it('once entitled, answers 503 REGISTRATION_NOT_OURS when its file is replaced by another valid one (a minted or copied file)', async () => {
    const out = freshOut();
    const { cli, url } = await startServe(out);
    await waitFor(() => cli.stdout().includes('serving on'), 'registration');
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    // Another registration for the same instance: a file that verifies, but not the one this process wrote.
    const other = join(dirname(out), 'other.jwt');
    expect(
      (
        await runCli(['register', '--product-code', TEST_PRODUCT_CODE, '--out', other, '--instance-id', 'pod-a'], {
          env: emulatorEnv(emulator()),
        })
      ).code,
    ).toBe(0);
    renameSync(other, out);
    const replaced = await fetch(`${url}/healthz`);
    expect(replaced.status).toBe(503);
    expect(await replaced.json()).toMatchObject({ entitled: false, code: 'REGISTRATION_NOT_OURS' });
    expect(await stop(cli)).toBe(0);
  });

  it("registers again when the file is another instance's", async () => {
    const out = freshOut();
    const other = await runCli(
      ['register', '--product-code', TEST_PRODUCT_CODE, '--out', out, '--instance-id', 'pod-other'],
      { env: emulatorEnv(emulator()) },
    );
    expect(other.code).toBe(0);
    const { cli } = await startServe(out);
    await waitFor(() => cli.stdout().includes('serving on'), 'registration');
    expect(cli.stdout()).not.toContain('reused');
    expect(emulator().calls).toHaveLength(2);
    expect(await stop(cli)).toBe(0);
  });

  it('exits 77 when not entitled', async () => {
    emulator().scenario.entitled = false;
    const result = await runCli(['serve', '--port', '0', ...common(freshOut())], { env: emulatorEnv(emulator()) });
    expect(result.code).toBe(77);
  });
});

describe('run', () => {
  const run = (out: string, command: string[], env: NodeJS.ProcessEnv = {}) =>
    startCli(['run', ...common(out), '--log-level', 'warn', '--', ...command], { env: emulatorEnv(emulator(), env) });

  it.each([0, 3, 42])('exits with the child exit code %i', async (code) => {
    const result = await run(freshOut(), [process.execPath, '-e', `process.exit(${code})`]).done;
    expect(result.code).toBe(code);
  });

  it('gives the child MARKETPLACE_ENTITLEMENT_FILE (absolute) and inherited stdio', async () => {
    const out = freshOut();
    const result = await run(out, [
      process.execPath,
      '-e',
      'console.log("file=" + process.env.MARKETPLACE_ENTITLEMENT_FILE)',
    ]).done;
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`file=${out}\n`);
    expect(existsSync(out)).toBe(true);
  });

  it.each(['SIGTERM', 'SIGINT', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2'] as const)(
    'forwards %s to the child and returns its exit code',
    async (signal) => {
      const script = `process.on(${JSON.stringify(signal)}, () => { console.log("child got ${signal}"); process.exit(7); }); console.log("ready"); setInterval(() => {}, 1000);`;
      const cli = run(freshOut(), [process.execPath, '-e', script]);
      await waitFor(() => cli.stdout().includes('ready'), 'the child');
      cli.child.kill(signal);
      const result = await cli.done;
      expect(result.stdout).toContain(`child got ${signal}`);
      expect(result.code).toBe(7);
    },
  );

  it('exits 128+signal when the child dies of a signal', async () => {
    const result = await run(freshOut(), [process.execPath, '-e', 'process.kill(process.pid, "SIGKILL")']).done;
    expect(result.code).toBe(137);
  });

  it('never starts the child when not entitled, and exits 77', async () => {
    emulator().scenario.entitled = false;
    const marker = join(tempDir(), 'child-started');
    const result = await run(freshOut(), [
      process.execPath,
      '-e',
      `require("fs").writeFileSync(${JSON.stringify(marker)}, "x")`,
    ]).done;
    expect(result.code).toBe(77);
    expect(existsSync(marker)).toBe(false);
  });

  it('exits 78 when the command cannot be started, and 64 (usage) without a command', async () => {
    expect((await run(freshOut(), [join(tempDir(), 'no-such-program')]).done).code).toBe(78);
    expect((await run(freshOut(), []).done).code).toBe(64);
  });
});
