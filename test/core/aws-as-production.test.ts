/**
 * The environment in which AWS is reached as in production (test/support/aws-as-production.ts): in a private
 * network and mount namespace, with no endpoint setting anywhere, Node's own HTTPS client, the AWS SDK's IRSA path
 * (STS AssumeRoleWithWebIdentity) and its ECS path (task metadata v4, container credentials at 169.254.170.2)
 * reach the emulator under AWS's own host names, and only when told to trust the run's CA. The emulator's calls
 * come back to the test.
 */
import { mkdir, readdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { RoleCredentials } from '../../src/emulator/index.js';
import { startAwsAsProduction, type AwsAsProduction } from '../support/index.js';

const FIXTURES = fileURLToPath(new URL('../fixtures/aws-as-production/', import.meta.url));
const HTTPS_GET = join(FIXTURES, 'https-get.mjs');
const SDK_REGISTER = join(FIXTURES, 'sdk-register.mjs');
const NODE = process.execPath;
const ROLE: RoleCredentials = {
  accessKeyId: 'ASIAROLEASPRODUCTION',
  secretAccessKey: 'role-secret-not-real',
  sessionToken: 'role-session-token',
};

let aws: AwsAsProduction;
beforeAll(async () => {
  aws = await startAwsAsProduction({ region: 'us-east-1' });
});
afterAll(() => aws?.close());

/** [operation, host, status] of each recorded call: what reached the emulator, under which name. */
function reached(
  calls: { operation: string; host?: string; statusCode: number }[],
): [string, string | undefined, number][] {
  return calls.map((call) => [call.operation, call.host, call.statusCode]);
}

describe('AWS as production reaches it, outside containers', () => {
  it("Node's HTTPS client reaches the emulator at AWS's host name only when trusting the run CA; other names resolve nowhere", async () => {
    const metering = `https://${aws.hostNames.metering}/`;
    const result = await aws.run({
      commands: [
        { argv: [NODE, HTTPS_GET, metering, aws.caFile] },
        { argv: [NODE, HTTPS_GET, metering] },
        { argv: [NODE, HTTPS_GET, 'https://metering.marketplace.eu-west-1.amazonaws.com/', aws.caFile] },
      ],
    });

    expect(aws.hostNames.metering).toBe('metering.marketplace.us-east-1.amazonaws.com');
    // Reached: an unsigned GET is refused as AWS refuses it.
    expect(result.commands[0]).toMatchObject({ code: 0, stdout: 'status 403\n' });
    // Node's default trust store does not know the run CA.
    expect(result.commands[1]).toMatchObject({ code: 1, stdout: 'error UNABLE_TO_VERIFY_LEAF_SIGNATURE\n' });
    // A name not in the hosts file has no DNS to fall back on: the namespace has no network.
    expect(result.commands[2]).toMatchObject({
      code: 1,
      stdout: expect.stringMatching(/^error (ENOTFOUND|EAI_AGAIN)\n$/),
    });
    expect(reached(result.calls)).toEqual([['', aws.hostNames.metering, 403]]);
  });

  it('EKS with IRSA: the SDK default chain exchanges the web identity token at sts.<region>.amazonaws.com, then signs with what it got', async () => {
    const tokenFile = join(aws.dir, 'irsa-token');
    await writeFile(tokenFile, 'projected-service-account-jwt');
    const result = await aws.run({
      emulator: { roleCredentials: ROLE },
      commands: [
        {
          argv: [NODE, SDK_REGISTER],
          env: {
            AWS_REGION: 'us-east-1',
            AWS_WEB_IDENTITY_TOKEN_FILE: tokenFile,
            AWS_ROLE_ARN: 'arn:aws:iam::123456789012:role/product',
            CA_FILE: aws.caFile,
          },
        },
      ],
    });

    const [register] = result.commands;
    expect(register!.code, register!.stderr).toBe(0);
    expect(JSON.parse(register!.stdout)).toEqual({
      region: 'us-east-1',
      source: 'AWS_REGION',
      accessKeyId: ROLE.accessKeyId,
      signed: true,
    });
    expect(reached(result.calls)).toEqual([
      ['AssumeRoleWithWebIdentity', 'sts.us-east-1.amazonaws.com', 200],
      ['RegisterUsage', 'metering.marketplace.us-east-1.amazonaws.com', 200],
    ]);
    expect(result.calls[0]?.input).toMatchObject({
      RoleArn: 'arn:aws:iam::123456789012:role/product',
      WebIdentityToken: 'projected-service-account-jwt',
    });
    expect(result.calls[1]).toMatchObject({ accessKeyId: ROLE.accessKeyId, region: 'us-east-1' });
  });

  it('ECS task: the Region from task metadata v4 and credentials from 169.254.170.2, as the agent sets them', async () => {
    const result = await aws.run({
      emulator: { roleCredentials: ROLE },
      commands: [{ argv: [NODE, SDK_REGISTER], env: { ...aws.ecsEnvironment, CA_FILE: aws.caFile } }],
    });

    const [register] = result.commands;
    expect(register!.code, register!.stderr).toBe(0);
    expect(aws.ecsEnvironment.ECS_CONTAINER_METADATA_URI_V4).toMatch(/^http:\/\/169\.254\.170\.2\/v4\//);
    expect(JSON.parse(register!.stdout)).toEqual({
      region: 'us-east-1',
      source: 'ecs-task-metadata',
      accessKeyId: ROLE.accessKeyId,
      signed: true,
    });
    expect(reached(result.calls)).toEqual([
      ['EcsTaskMetadata', '169.254.170.2', 200],
      ['EcsContainerCredentials', '169.254.170.2', 200],
      ['RegisterUsage', 'metering.marketplace.us-east-1.amazonaws.com', 200],
    ]);
    expect(result.calls[2]).toMatchObject({ accessKeyId: ROLE.accessKeyId });
  });

  it('a background command runs beside the next ones and is stopped at the end; each run is a fresh emulator', async () => {
    const sidecar = `process.on('SIGTERM', () => { console.log('stopped'); process.exit(0); }); console.log('ready'); setInterval(() => {}, 1 << 30);`;
    const result = await aws.run({
      commands: [
        { argv: [NODE, '-e', sidecar], background: { readyWhen: 'ready' } },
        { argv: [NODE, HTTPS_GET, `https://${aws.hostNames.licenseManager}/`, aws.caFile] },
      ],
    });

    expect(result.commands[0]).toMatchObject({ code: 0, stdout: 'ready\nstopped\n', timedOut: false });
    expect(result.commands[1]).toMatchObject({ code: 0, stdout: 'status 403\n' });
    expect(reached(result.calls)).toEqual([['', aws.hostNames.licenseManager, 403]]);
  });

  it('a background command that exits before printing its ready text does not hold up the run (a sidecar that failed)', async () => {
    const result = await aws.run({
      commands: [
        { argv: [NODE, '-e', 'process.exitCode = 77'], background: { readyWhen: 'serving on' } },
        { argv: [NODE, '-e', 'console.log("next")'] },
      ],
    });
    expect(result.commands.map((c) => [c.code, c.timedOut])).toEqual([
      [77, false],
      [0, false],
    ]);
  });
});

/** Processes on this machine whose command line contains `marker`. */
async function processesWith(marker: string): Promise<string[]> {
  const pids = (await readdir('/proc')).filter((entry) => /^\d+$/.test(entry));
  const lines = await Promise.all(pids.map((pid) => readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')));
  return lines.filter((line) => line.includes(marker));
}

describe('nothing outlives a run', () => {
  it('a process left behind in the namespace (detached, never waited for) is gone when run() returns; /etc/hosts is untouched', async () => {
    const marker = `left-behind-${process.pid}-${Date.now()}`;
    const leaver = `require('node:child_process').spawn(process.execPath, ['-e', 'setInterval(() => {}, 1 << 30)', '${marker}'], { detached: true, stdio: 'ignore' }).unref(); console.log('left one');`;
    const result = await aws.run({ commands: [{ argv: [NODE, '-e', leaver] }] });

    expect(result.commands[0]).toMatchObject({ code: 0, stdout: 'left one\n' });
    expect(await processesWith(marker)).toEqual([]);
    expect(await readFile('/etc/hosts', 'utf8')).not.toContain('amazonaws.com');
    expect((await readdir(aws.dir)).filter((name) => name.startsWith('hosts'))).toEqual([]);
  });
});

describe('a machine that cannot make the namespace fails the run with one clear line', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it('without unshare', async () => {
    vi.stubEnv('PATH', join(aws.dir, 'no-such-bin'));
    await expect(aws.run({ commands: [] })).rejects.toThrow(
      /^aws-as-production: `unshare` is not installed \(util-linux\)/,
    );
  });

  it('without ip', async () => {
    const onlyUnshare = join(aws.dir, 'only-unshare');
    await mkdir(onlyUnshare, { recursive: true });
    await symlink('/usr/bin/unshare', join(onlyUnshare, 'unshare')).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'EEXIST') throw err;
    });
    vi.stubEnv('PATH', onlyUnshare);
    await expect(aws.run({ commands: [] })).rejects.toThrow(
      /^aws-as-production: `ip` is not installed: it is needed to bring loopback up/,
    );
  });
});
