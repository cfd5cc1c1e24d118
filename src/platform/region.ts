/**
 * Region discovery. RegisterUsage must be called in the Region the task or pod runs in (else
 * InvalidRegionException), so a default Region is never assumed. Order: the explicit option,
 * AWS_REGION / AWS_DEFAULT_REGION (Fargate and the EKS IRSA webhook set them), ECS task metadata v4,
 * EC2 IMDSv2 (honouring AWS_EC2_METADATA_DISABLED and AWS_EC2_METADATA_SERVICE_ENDPOINT like the SDK).
 *
 * @example
 * const { region, source } = await resolveRegion({}); // { region: 'eu-west-1', source: 'AWS_REGION' }
 */
import { ConfigurationError } from '../common/errors.js';
import { METADATA_TIMEOUT_MS, readEcsTaskMetadata } from './ecs-metadata.js';
import { toLogger, type Logger, type LoggerLike } from '../common/logger.js';

/** The Region found and where it came from. */
export interface ResolvedRegion {
  /** e.g. `us-east-1`. */
  region: string;
  /** Where it was found, in the order tried. */
  source: 'option' | 'AWS_REGION' | 'AWS_DEFAULT_REGION' | 'ecs-task-metadata' | 'ec2-imds';
}

const REGION_PATTERN = /^[a-z]{2}(-[a-z]+)+-\d+$/;

/**
 * The Region to call AWS in: the `region` option, `AWS_REGION`/`AWS_DEFAULT_REGION`, the ECS task metadata v4 task ARN,
 * then EC2 IMDSv2; never a default. Throws `MISSING_REGION` when none answers.
 *
 * @example
 * const { region, source } = await resolveRegion({}); // { region: 'eu-west-1', source: 'AWS_REGION' }
 */
export async function resolveRegion(options: {
  region?: string | undefined;
  env?: NodeJS.ProcessEnv;
  logger?: LoggerLike;
}): Promise<ResolvedRegion> {
  const env = options.env ?? process.env;
  const found = await findRegion(options.region, env, options.logger && toLogger(options.logger));
  if (!found) {
    throw new ConfigurationError(
      'MISSING_REGION',
      'No AWS Region found: set --region / the region option or AWS_REGION to the Region this task or pod runs in. ' +
        'Fargate and EKS with IRSA set AWS_REGION themselves; on ECS with EC2 set it in the task definition. ' +
        '(Looked at: the option, AWS_REGION, AWS_DEFAULT_REGION, ECS task metadata, EC2 instance metadata.)',
    );
  }
  if (!REGION_PATTERN.test(found.region)) {
    throw new ConfigurationError(
      'INVALID_REGION',
      `Region ${JSON.stringify(found.region)} (from ${found.source}) is not an AWS Region name like eu-west-1.`,
    );
  }
  return found;
}

async function findRegion(
  explicit: string | undefined,
  env: NodeJS.ProcessEnv,
  logger?: Logger,
): Promise<ResolvedRegion | undefined> {
  if (explicit) return { region: explicit, source: 'option' };
  if (env.AWS_REGION) return { region: env.AWS_REGION, source: 'AWS_REGION' };
  if (env.AWS_DEFAULT_REGION) return { region: env.AWS_DEFAULT_REGION, source: 'AWS_DEFAULT_REGION' };
  try {
    const task = await readEcsTaskMetadata(env);
    if (task) return { region: task.region, source: 'ecs-task-metadata' };
  } catch (err) {
    logger?.warn?.(`ECS task metadata did not give a Region: ${(err as Error).message}`, {
      event: 'region.ecs_metadata_failed',
    });
  }
  const region = await readImdsRegion(env).catch((err: Error) => {
    logger?.debug?.(`EC2 instance metadata did not give a Region: ${err.message}`, { event: 'region.imds_failed' });
    return undefined;
  });
  return region ? { region, source: 'ec2-imds' } : undefined;
}

/** IMDSv2: a session token first (PUT), then the placement Region. Pods often cannot reach it (hop limit 1). */
async function readImdsRegion(env: NodeJS.ProcessEnv): Promise<string | undefined> {
  if ((env.AWS_EC2_METADATA_DISABLED ?? '').toLowerCase() === 'true') return undefined;
  const base = (env.AWS_EC2_METADATA_SERVICE_ENDPOINT || 'http://169.254.169.254').replace(/\/+$/, '');
  const tokenResponse = await fetch(`${base}/latest/api/token`, {
    method: 'PUT',
    headers: { 'x-aws-ec2-metadata-token-ttl-seconds': '60' },
    signal: AbortSignal.timeout(METADATA_TIMEOUT_MS),
  });
  if (!tokenResponse.ok) throw new Error(`IMDS token request answered HTTP ${tokenResponse.status}`);
  const token = await tokenResponse.text();
  const regionResponse = await fetch(`${base}/latest/meta-data/placement/region`, {
    headers: { 'x-aws-ec2-metadata-token': token },
    signal: AbortSignal.timeout(METADATA_TIMEOUT_MS),
  });
  if (!regionResponse.ok) throw new Error(`IMDS region request answered HTTP ${regionResponse.status}`);
  return (await regionResponse.text()).trim() || undefined;
}
