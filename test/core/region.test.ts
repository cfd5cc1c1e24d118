/**
 * Region discovery and credential warnings, end to end: the Region found must be the one the SDK signs for, as
 * the emulator's recorded SigV4 credential scope shows. Metadata services are local stand-ins: every `env` here
 * either disables IMDS or points it at one, so nothing is ever sent to 169.254.x.x.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ConfigurationError, ensureEntitled, ExitCode } from '../../src/index.js';
import { resolveRegion } from '../../src/platform/index.js';
import { acquireLicense } from '../../src/license/index.js';
import {
  contract,
  DUMMY_CREDENTIALS,
  emulatorOptions,
  IMDS_TOKEN,
  licenseOptions,
  recordingLogger,
  rejectionOf,
  startImdsServer,
  startStubServer,
  startTestEmulator,
  useEmulator,
  type StubServer,
} from '../support/index.js';

const emulator = useEmulator();

const NO_IMDS = { AWS_EC2_METADATA_DISABLED: 'true' } as const;

const servers: StubServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
  vi.unstubAllEnvs();
});

async function stub<T extends StubServer>(started: Promise<T>): Promise<T> {
  const server = await started;
  servers.push(server);
  return server;
}

/** ensureEntitled with Region discovery from `env` (no explicit Region). */
function discover(env: NodeJS.ProcessEnv, overrides = {}) {
  return ensureEntitled(emulatorOptions(emulator(), { region: undefined, env, ...overrides }));
}

describe('Region discovery', () => {
  it.each([
    ['AWS_REGION', { ...NO_IMDS, AWS_REGION: 'eu-north-1', AWS_DEFAULT_REGION: 'us-west-2' }, 'eu-north-1'],
    ['AWS_DEFAULT_REGION', { ...NO_IMDS, AWS_DEFAULT_REGION: 'us-west-2' }, 'us-west-2'],
  ])('from %s', async (_source, env, region) => {
    const entitlement = await discover(env);

    expect(entitlement.region).toBe(region);
    expect(emulator().calls[0]?.region).toBe(region);
  });

  it('the explicit option wins over the environment', async () => {
    const entitlement = await ensureEntitled(
      emulatorOptions(emulator(), { region: 'sa-east-1', env: { ...NO_IMDS, AWS_REGION: 'eu-north-1' } }),
    );
    expect(emulator().calls[0]?.region).toBe('sa-east-1');
    expect(entitlement.region).toBe('sa-east-1');
  });

  it('from ECS task metadata v4: the TaskARN Region is the SigV4 credential scope', async () => {
    const ecsAgent = await startTestEmulator({ ecs: { region: 'ap-southeast-2' } });
    try {
      const logger = recordingLogger();
      const entitlement = await discover(
        { ...NO_IMDS, ECS_CONTAINER_METADATA_URI_V4: ecsAgent.ecs!.metadataUri },
        { logger },
      );

      expect(entitlement.region).toBe('ap-southeast-2');
      expect(emulator().calls[0]?.region).toBe('ap-southeast-2');
      expect(ecsAgent.calls.map((call) => [call.operation, call.input.path])).toEqual([
        ['EcsTaskMetadata', new URL(`${ecsAgent.ecs!.metadataUri}/task`).pathname],
      ]);
      expect(logger.entries.find((e) => e.fields?.event === 'register.region')?.fields).toMatchObject({
        source: 'ecs-task-metadata',
      });
    } finally {
      await ecsAgent.close();
    }
  });

  it('from an IMDSv2 stand-in: token PUT, then the Region GET with that token', async () => {
    const imds = await stub(startImdsServer('ap-northeast-3'));
    const entitlement = await discover({ AWS_EC2_METADATA_SERVICE_ENDPOINT: `${imds.url}/` });

    expect(entitlement.region).toBe('ap-northeast-3');
    expect(emulator().calls[0]?.region).toBe('ap-northeast-3');
    expect(imds.requests.map((r) => `${r.method} ${r.path}`)).toEqual([
      'PUT /latest/api/token',
      'GET /latest/meta-data/placement/region',
    ]);
    expect(imds.requests[1]?.headers['x-aws-ec2-metadata-token']).toBe(IMDS_TOKEN);
  });

  it('falls back to IMDS when ECS task metadata misbehaves, and says so', async () => {
    const ecs = await stub(startStubServer({ 'GET /task': () => ({ status: 500, body: 'agent restarting' }) }));
    const imds = await stub(startImdsServer('eu-south-2'));
    const logger = recordingLogger();
    const { region } = await resolveRegion({
      env: { ECS_CONTAINER_METADATA_URI_V4: ecs.url, AWS_EC2_METADATA_SERVICE_ENDPOINT: imds.url },
      logger,
    });

    expect(region).toBe('eu-south-2');
    expect(logger.events('warn')).toEqual(['region.ecs_metadata_failed']);
  });

  it.each(['true', 'TRUE'])('AWS_EC2_METADATA_DISABLED=%s is honoured: IMDS is not asked', async (disabled) => {
    const imds = await stub(startImdsServer('eu-west-3'));
    const error = await rejectionOf(
      discover({ AWS_EC2_METADATA_SERVICE_ENDPOINT: imds.url, AWS_EC2_METADATA_DISABLED: disabled }),
      ConfigurationError,
    );

    expect(error).toMatchObject({ code: 'MISSING_REGION' });
    expect(imds.requests).toHaveLength(0);
  });

  it('no Region anywhere: MISSING_REGION, saying how to set it, and no call', async () => {
    const error = await rejectionOf(discover({ ...NO_IMDS }), ConfigurationError);

    expect(error).toMatchObject({ code: 'MISSING_REGION', exitCode: ExitCode.CONFIGURATION });
    expect(error.message).toMatch(/AWS_REGION/);
    expect(emulator().calls).toHaveLength(0);
  });

  it('a Region that is no Region name: INVALID_REGION', async () => {
    const error = await rejectionOf(discover({ ...NO_IMDS, AWS_REGION: 'Europe' }), ConfigurationError);

    expect(error).toMatchObject({ code: 'INVALID_REGION', exitCode: ExitCode.CONFIGURATION });
    expect(emulator().calls).toHaveLength(0);
  });
});

describe('EKS Pod Identity warning', () => {
  const POD_IDENTITY_ENV = {
    ...NO_IMDS,
    AWS_REGION: 'us-east-2',
    AWS_CONTAINER_CREDENTIALS_FULL_URI: 'http://169.254.170.23/v1/credentials',
  };

  it('warns when the environment shows Pod Identity and the SDK chain picks the credentials', async () => {
    // The warning reads `env`; the SDK's own chain reads process.env, where static keys come first, so the
    // Pod Identity agent (169.254.170.23) is never contacted.
    vi.stubEnv('AWS_ACCESS_KEY_ID', DUMMY_CREDENTIALS.accessKeyId);
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', DUMMY_CREDENTIALS.secretAccessKey);
    const logger = recordingLogger();
    await discover(POD_IDENTITY_ENV, { credentials: undefined, logger });

    const warning = logger.entries.find((e) => e.fields?.event === 'register.pod_identity');
    expect(warning?.level).toBe('warn');
    expect(warning?.message).toMatch(/IRSA/);
    expect(emulator().calls[0]?.accessKeyId).toBe(DUMMY_CREDENTIALS.accessKeyId);
  });

  it('warns for License Manager in its own words: AWS documents no support either way, IRSA is what it documents', async () => {
    vi.stubEnv('AWS_ACCESS_KEY_ID', DUMMY_CREDENTIALS.accessKeyId);
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', DUMMY_CREDENTIALS.secretAccessKey);
    emulator().licenseManager.addLicense(contract(1));
    const logger = recordingLogger();
    const lease = await acquireLicense(
      licenseOptions(emulator(), { region: undefined, env: POD_IDENTITY_ENV, credentials: undefined, logger }),
    );
    await lease.close();

    const warning = logger.entries.find((e) => e.fields?.event === 'license.pod_identity');
    expect(warning?.level).toBe('warn');
    expect(warning?.message).toMatch(/AWS License Manager/);
    expect(warning?.message).toMatch(/IRSA/);
    expect(warning?.message).not.toMatch(/Metering|does not support/);
  });

  it('stays silent with explicit credentials or another credentials endpoint', async () => {
    const logger = recordingLogger();
    await discover(POD_IDENTITY_ENV, { logger });
    await discover({ ...POD_IDENTITY_ENV, AWS_CONTAINER_CREDENTIALS_FULL_URI: 'http://127.0.0.1:1/creds' }, { logger });

    expect(logger.events('warn')).toEqual([]);
  });
});
