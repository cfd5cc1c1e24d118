/**
 * The production credential paths, through the shipped bundle alone: the CLI copied into an empty directory (no
 * node_modules, as in the image) gets credentials the two ways production does, and the emulator (the same
 * bundle, started with --access-key-id and the secret, so every SigV4 signature is fully verified) sees the
 * access key id those paths handed out.
 *
 * - ECS task role: `AWS_CONTAINER_CREDENTIALS_FULL_URI` on the emulator's ECS credentials stand-in (loopback), with
 *   `AWS_CONTAINER_AUTHORIZATION_TOKEN`.
 * - IRSA: `AWS_WEB_IDENTITY_TOKEN_FILE` + `AWS_ROLE_ARN`, with `AWS_ENDPOINT_URL_STS` at the emulator's STS stand-in.
 *
 * The stand-ins are those of a second, in-process emulator ("the agent") handing out `HANDED_OUT`: the bundle's
 * emulator only verifies what the credentials signed.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MeteringEmulator, RoleCredentials } from '../../src/emulator/index.js';
import { copyBundle, startTestEmulator, TEST_PRODUCT_CODE, TEST_REGION } from '../support/index.js';
import { baseEnv, runCli, startCli, waitFor, type CliProcess } from './helpers.js';

const HANDED_OUT: RoleCredentials = {
  accessKeyId: 'ASIAHANDEDOUTBYPATH1',
  secretAccessKey: 'handed-out-secret-not-real',
  sessionToken: 'handed-out-session-token',
};
const ROLE_ARN = 'arn:aws:iam::123456789012:role/marketplace-product';

let dir: string;
let entry: string;
let emulator: { cli: CliProcess; url: string; keyFile: string };

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'bundle-alone-'));
  entry = await copyBundle(dir);
  const keyFile = join(dir, 'emulator-key.pem');
  const cli = startCli(
    ['emulator', '--port', '0', '--access-key-id', HANDED_OUT.accessKeyId, '--public-key-out', keyFile],
    {
      entry,
      env: baseEnv({ MARKETPLACE_SECRET_ACCESS_KEY: HANDED_OUT.secretAccessKey }),
    },
  );
  await waitFor(() => cli.stdout().includes('listening on') || cli.child.exitCode !== null, 'the emulator URL', 30_000);
  const url = /listening on (http:\/\/\S+?);/.exec(cli.stdout())?.[1];
  if (!url) throw new Error(`the emulator did not start:\n${cli.stdout()}\n${cli.stderr()}`);
  expect(cli.stdout()).toContain(`SigV4 verified for ${HANDED_OUT.accessKeyId}`);
  emulator = { cli, url, keyFile };
});

afterAll(async () => {
  emulator?.cli.child.kill('SIGTERM');
  await emulator?.cli.done;
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** `register` from the copied bundle with only `credentialEnv` to find credentials (no keys, no profile, no IMDS). */
function register(name: string, credentialEnv: NodeJS.ProcessEnv) {
  const home = join(dir, `home-${name}`);
  return runCli(
    [
      'register',
      '--product-code',
      TEST_PRODUCT_CODE,
      '--public-key-file',
      emulator.keyFile,
      '--endpoint',
      emulator.url,
      '--out',
      join(dir, `${name}.jwt`),
      '--deadline',
      '20s',
    ],
    {
      entry,
      env: baseEnv({
        HOME: home,
        AWS_CONFIG_FILE: join(home, 'config'),
        AWS_SHARED_CREDENTIALS_FILE: join(home, 'credentials'),
        AWS_REGION: TEST_REGION,
        POD_UID: `pod-${name}`,
        ...credentialEnv,
      }),
    },
  );
}

/** The emulator's log lines for RegisterUsage calls (JSON on its stderr). */
function registerUsageCalls(): Record<string, unknown>[] {
  return emulator.cli
    .stderr()
    .split('\n')
    .filter((line) => line.includes('"emulator.call"'))
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .filter((call) => call.operation === 'RegisterUsage');
}

/** An emulator whose STS and ECS credentials stand-ins hand out `credentials`, the ECS one only for `ecs-agent-token`. */
function startAgent(credentials: RoleCredentials): Promise<MeteringEmulator> {
  return startTestEmulator({
    roleCredentials: credentials,
    ecs: { region: TEST_REGION, authorizationToken: 'ecs-agent-token' },
  });
}

/** What the agent was asked, as [operation, status]. */
function asked(agent: MeteringEmulator): [string, number][] {
  return agent.calls.map((call) => [call.operation, call.statusCode]);
}

describe('the bundle alone gets production credentials', () => {
  it('ECS task role: AWS_CONTAINER_CREDENTIALS_FULL_URI on loopback, with its authorization token', async () => {
    const agent = await startAgent(HANDED_OUT);
    try {
      const before = registerUsageCalls().length;
      const { AWS_CONTAINER_CREDENTIALS_FULL_URI, AWS_CONTAINER_AUTHORIZATION_TOKEN } = agent.ecs!.environment;
      const result = await register('ecs', { AWS_CONTAINER_CREDENTIALS_FULL_URI, AWS_CONTAINER_AUTHORIZATION_TOKEN });

      expect(result.code, result.stderr).toBe(0);
      expect(AWS_CONTAINER_AUTHORIZATION_TOKEN).toBe('ecs-agent-token');
      expect(asked(agent)).toEqual([['EcsContainerCredentials', 200]]); // a wrong token would be a 401
      expect(registerUsageCalls().slice(before)).toEqual([
        expect.objectContaining({ statusCode: 200, accessKeyId: HANDED_OUT.accessKeyId }),
      ]);
    } finally {
      await agent.close();
    }
  });

  it('IRSA: a web identity token file and AWS_ROLE_ARN, exchanged at AWS_ENDPOINT_URL_STS', async () => {
    const agent = await startAgent(HANDED_OUT);
    const tokenFile = join(dir, 'irsa-token');
    await writeFile(tokenFile, 'projected-service-account-jwt');
    try {
      const before = registerUsageCalls().length;
      const result = await register('irsa', {
        AWS_WEB_IDENTITY_TOKEN_FILE: tokenFile,
        AWS_ROLE_ARN: ROLE_ARN,
        AWS_ENDPOINT_URL_STS: agent.url,
      });

      expect(result.code, result.stderr).toBe(0);
      expect(asked(agent)).toEqual([['AssumeRoleWithWebIdentity', 200]]);
      expect(agent.calls[0]?.input).toEqual(
        expect.objectContaining({
          Action: 'AssumeRoleWithWebIdentity',
          RoleArn: ROLE_ARN,
          WebIdentityToken: await readFile(tokenFile, 'utf8'),
        }),
      );
      expect(registerUsageCalls().slice(before)).toEqual([
        expect.objectContaining({ statusCode: 200, accessKeyId: HANDED_OUT.accessKeyId }),
      ]);
    } finally {
      await agent.close();
    }
  });

  it('the emulator verifies the signature: credentials with another secret are refused', async () => {
    const agent = await startAgent({ ...HANDED_OUT, secretAccessKey: 'another-secret' });
    try {
      const before = registerUsageCalls().length;
      const { AWS_CONTAINER_CREDENTIALS_FULL_URI, AWS_CONTAINER_AUTHORIZATION_TOKEN } = agent.ecs!.environment;
      const result = await register('wrong-secret', {
        AWS_CONTAINER_CREDENTIALS_FULL_URI,
        AWS_CONTAINER_AUTHORIZATION_TOKEN,
      });

      expect(result.code, result.stderr).toBe(78); // refused credentials: a configuration problem, not retried
      expect(registerUsageCalls().slice(before)).toContainEqual(
        expect.objectContaining({ statusCode: 403, errorType: 'InvalidSignatureException' }),
      );
    } finally {
      await agent.close();
    }
  });
});
