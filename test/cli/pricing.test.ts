// --pricing custom and contract through the built CLI (real child processes, real signals) against the emulator,
// which serves Metering and License Manager at the same URL.
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { NotEntitledError } from '../../src/errors.js';
import { acquireLicense } from '../../src/license/index.js';
import { contract, licenseOptions, rejectionOf, TEST_PRODUCT_CODE, TEST_SKU, useEmulator } from '../support/index.js';
import { baseEnv, emulatorEnv, runCli, startCli, useTempDir, waitFor, type CliProcess } from './helpers.js';

const emulator = useEmulator();
const tempDir = useTempDir();

/** Contract options from the environment, as a Helm chart or task definition sets them (no public key anywhere). */
const contractEnv = (extra: NodeJS.ProcessEnv = {}) => {
  const { MARKETPLACE_PUBLIC_KEY: _key, ...env } = emulatorEnv(emulator());
  return {
    ...env,
    MARKETPLACE_PRICING: 'contract',
    MARKETPLACE_PRODUCT_SKU: TEST_SKU,
    MARKETPLACE_ENTITLEMENT: 'Users:Count:1',
    ...extra,
  };
};
const callsOf = (operation: string) => emulator().calls.filter((call) => call.operation === operation);
const lm = () => emulator().licenseManager;

async function startServe(env: NodeJS.ProcessEnv, args: string[] = []): Promise<{ cli: CliProcess; url: string }> {
  const cli = startCli(['serve', '--port', '0', ...args], { env });
  await waitFor(() => cli.stderr().includes('serve.listening') || cli.child.exitCode !== null, 'serve to listen');
  const url = /"url":"(http:[^"]+)"/.exec(cli.stderr())?.[1];
  if (!url) throw new Error(`serve did not listen: ${cli.stderr()}`);
  return { cli, url };
}

async function healthz(url: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${url}/healthz`);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe('register --pricing', () => {
  it('contract is a usage error (exit 64) pointing at serve and run; nothing is called', async () => {
    const result = await runCli(['register'], { env: contractEnv() });
    expect(result.code).toBe(64);
    expect(result.stderr).toContain('serve --pricing contract');
    expect(emulator().calls).toHaveLength(0);
  });

  it('custom does a MeterUsage dry run, needs no public key, and writes no file', async () => {
    const dir = join(tempDir(), 'custom-register');
    const env = baseEnv({ ...emulatorEnv(emulator()), MARKETPLACE_PUBLIC_KEY: '' });
    const result = await runCli(
      [
        'register',
        '--pricing',
        'custom',
        '--product-code',
        TEST_PRODUCT_CODE,
        '--meter-dimensions',
        'requests',
        '--out',
        join(dir, 'e.jwt'),
      ],
      { env },
    );
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('MeterUsage dry run for requests permitted');
    expect(emulator().calls.map((call) => [call.operation, call.input.DryRun])).toEqual([['MeterUsage', true]]);
    await expect(readdir(dir)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('custom for a buyer without a subscription exits 77', async () => {
    emulator().scenario.entitled = false;
    const result = await runCli(
      ['register', '--pricing', 'custom', '--product-code', TEST_PRODUCT_CODE, '--meter-dimensions', 'requests'],
      { env: emulatorEnv(emulator()) },
    );
    expect(result.code).toBe(77);
  });

  it('custom without --meter-dimensions, or a malformed --entitlement, is a usage error (exit 64)', async () => {
    const custom = await runCli(['register', '--pricing', 'custom', '--product-code', TEST_PRODUCT_CODE], {
      env: emulatorEnv(emulator()),
    });
    expect(custom.code).toBe(64);
    expect(custom.stderr).toContain('--meter-dimensions is required');
    const run = await runCli(['run', '--entitlement', 'Users', '--', 'true'], { env: contractEnv() });
    expect(run.code).toBe(64);
    expect(run.failure()).toContain('NAME:UNIT[:VALUE]');
  });

  it('contract requires --product-sku and --entitlement, and not --product-code; hourly requires --product-code', async () => {
    const env = emulatorEnv(emulator());
    const noSku = await runCli(['run', '--pricing', 'contract', '--entitlement', 'Users:Count:1', '--', 'true'], {
      env,
    });
    expect([noSku.code, noSku.failure()]).toEqual([
      64,
      expect.stringContaining('--product-sku is required (or set MARKETPLACE_PRODUCT_SKU)'),
    ]);
    const noEntitlement = await runCli(['run', '--pricing', 'contract', '--product-sku', 'sku-1', '--', 'true'], {
      env,
    });
    expect([noEntitlement.code, noEntitlement.failure()]).toEqual([
      64,
      expect.stringContaining('--entitlement is required (or set MARKETPLACE_ENTITLEMENT)'),
    ]);
    const hourly = await runCli(['run', '--product-sku', 'sku-1', '--entitlement', 'Users:Count:1', '--', 'true'], {
      env,
    });
    expect([hourly.code, hourly.failure()]).toEqual([
      64,
      expect.stringContaining('--product-code is required (or set MARKETPLACE_PRODUCT_CODE)'),
    ]);
  });
});

describe('serve --pricing contract', () => {
  it('holds the licence: /healthz 200, /metrics shows the lease; SIGTERM checks it in and exits 0', async () => {
    const license = lm().addLicense(contract(1));
    const { cli, url } = await startServe(contractEnv());
    await waitFor(() => cli.stdout().includes('serving on'), 'serve to be entitled');
    expect(cli.stdout()).toContain(license.licenseArn);
    const health = await healthz(url);
    expect(health).toMatchObject({
      status: 200,
      body: { entitled: true, pricing: 'contract', licenseArn: license.licenseArn },
    });
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toContain('marketplace_entitlement_license_state{state="held"} 1');
    expect(metrics).toMatch(/marketplace_entitlement_license_expiration_timestamp_seconds \d{10}/);
    expect(lm().inUse(license.licenseArn, 'Users')).toBe(1);

    cli.child.kill('SIGTERM');
    expect((await cli.done).code).toBe(0);
    expect(callsOf('CheckInLicense')).toHaveLength(1);
    expect(lm().inUse(license.licenseArn, 'Users')).toBe(0);
    expect(callsOf('RegisterUsage')).toHaveLength(0);
  });

  it('answers 503 once the contract expires mid-run', async () => {
    const license = lm().addLicense(contract(1));
    const { cli, url } = await startServe(contractEnv({ MARKETPLACE_LICENSE_RECHECK: '200ms' }));
    await waitFor(() => cli.stdout().includes('serving on'), 'serve to be entitled');
    lm().expire(license.licenseArn);
    await waitFor(() => cli.stderr().includes('serve.entitlement_lost'), 'the lease to be lost');
    expect(await healthz(url)).toMatchObject({ status: 503, body: { entitled: false, code: 'LICENSE_EXPIRED' } });
    cli.child.kill('SIGTERM');
    expect((await cli.done).code).toBe(0);
  });

  it('exits 77 when the pool is exhausted', async () => {
    lm().addLicense(contract(0));
    const { cli } = await startServe(contractEnv());
    expect((await cli.done).code).toBe(77);
  });

  it('a SIGKILLed holder cannot check in: its unit returns to the pool when the checkout time-to-live ends', async () => {
    const license = lm().addLicense(contract(1));
    const { cli } = await startServe(contractEnv());
    await waitFor(() => cli.stdout().includes('serving on'), 'serve to be entitled');
    cli.child.kill('SIGKILL');
    expect((await cli.done).signal).toBe('SIGKILL');
    expect(callsOf('CheckInLicense')).toHaveLength(0);
    await rejectionOf(acquireLicense(licenseOptions(emulator())), NotEntitledError);
    lm().advanceClock(lm().scenario.ttlMs);
    const lease = await acquireLicense(licenseOptions(emulator()));
    expect(lease.licenseArn).toBe(license.licenseArn);
    await lease.close();
  });
});

describe('run --pricing contract', () => {
  it('holds the licence for the child, tells it the ARN, and checks in when it exits with its code', async () => {
    const license = lm().addLicense(contract(1));
    const script = 'console.log("ARN=" + process.env.MARKETPLACE_LICENSE_ARN); process.exit(3)';
    const result = await runCli(['run', '--', process.execPath, '-e', script], { env: contractEnv() });
    expect(result.code).toBe(3);
    expect(result.stdout).toContain(`ARN=${license.licenseArn}`);
    expect(callsOf('CheckInLicense')).toHaveLength(1);
    expect(lm().inUse(license.licenseArn, 'Users')).toBe(0);
  });

  it('forwards SIGTERM to the child and checks in after it exits', async () => {
    const license = lm().addLicense(contract(1));
    const script = 'process.on("SIGTERM", () => process.exit(0)); console.log("ready"); setInterval(() => {}, 1000)';
    const cli = startCli(['run', '--', process.execPath, '-e', script], { env: contractEnv() });
    await waitFor(() => cli.stdout().includes('ready'), 'the child to start');
    expect(lm().inUse(license.licenseArn, 'Users')).toBe(1);
    cli.child.kill('SIGTERM');
    expect((await cli.done).code).toBe(0);
    expect(lm().inUse(license.licenseArn, 'Users')).toBe(0);
  });
});

describe('run --pricing contract, licence lost', () => {
  it('stops the child with SIGTERM when the contract expires mid-run, and exits 77', async () => {
    const license = lm().addLicense(contract(1));
    const script =
      'process.on("SIGTERM", () => { console.log("stopping"); process.exit(0); }); console.log("ready"); setInterval(() => {}, 1000)';
    const cli = startCli(['run', '--', process.execPath, '-e', script], {
      env: contractEnv({ MARKETPLACE_LICENSE_RECHECK: '200ms' }),
    });
    await waitFor(() => cli.stdout().includes('ready'), 'the child to start');
    lm().expire(license.licenseArn);
    const result = await cli.done;
    expect(result.code).toBe(77);
    expect(result.stdout).toContain('stopping');
    expect(result.failure()).toContain('LICENSE_EXPIRED');
  });
});

describe('serve --pricing custom', () => {
  it('checks with a MeterUsage dry run (first dimension), not RegisterUsage, without a public key', async () => {
    const env = { ...emulatorEnv(emulator()), MARKETPLACE_PUBLIC_KEY: '' };
    const spoolDir = join(tempDir(), 'custom-spool');
    const { cli, url } = await startServe(env, [
      '--pricing',
      'custom',
      '--product-code',
      TEST_PRODUCT_CODE,
      '--meter-dimensions',
      'requests,users',
      '--spool-dir',
      spoolDir,
    ]);
    await waitFor(() => cli.stdout().includes('serving on'), 'serve to be entitled');
    expect(await healthz(url)).toMatchObject({
      status: 200,
      body: { entitled: true, pricing: 'custom', dimension: 'requests' },
    });
    expect(callsOf('RegisterUsage')).toHaveLength(0);
    expect(callsOf('MeterUsage')[0]!.input).toMatchObject({ UsageDimension: 'requests', DryRun: true });
    cli.child.kill('SIGTERM');
    expect((await cli.done).code).toBe(0);
  });
});
