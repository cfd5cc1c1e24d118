/**
 * Which running instance a registration is for: the Kubernetes pod UID or the ECS task ARN. Binding the
 * entitlement file to it makes a copied file useless in another pod or task.
 *
 * Order: the explicit option (`--instance-id`), env `POD_UID` (set it from the downward API
 * `metadata.uid`), the ECS task metadata `TaskARN`. Undefined when none is known (e.g. a laptop).
 *
 * @example
 * const instance = await resolveInstanceId({ env: process.env }); // "4f6c2a1e-..." in a pod
 */
import { ConfigurationError } from './errors.js';
import { readEcsTaskMetadata } from './ecs-metadata.js';

export interface ResolvedInstance {
  instance: string;
  source: 'option' | 'POD_UID' | 'ecs-task-metadata';
}

/** An instance id is written into the file and compared verbatim; keep it printable and bounded. */
const INSTANCE_PATTERN = /^[\x21-\x7e]{1,512}$/;

export async function resolveInstanceId(options: { instanceId?: string | undefined; env?: NodeJS.ProcessEnv }): Promise<ResolvedInstance | undefined> {
  const env = options.env ?? process.env;
  if (options.instanceId !== undefined && options.instanceId !== '') return { instance: checked(options.instanceId, '--instance-id'), source: 'option' };
  if (env.POD_UID) return { instance: checked(env.POD_UID, 'POD_UID'), source: 'POD_UID' };
  const task = await readEcsTaskMetadata(env).catch((err: unknown) => {
    throw new ConfigurationError(
      'INSTANCE_ID_UNAVAILABLE',
      `ECS_CONTAINER_METADATA_URI_V4 is set but the task ARN could not be read (${(err as Error).message}). ` +
        'Pass --instance-id explicitly or fix access to the task metadata endpoint.',
      { cause: err },
    );
  });
  return task && { instance: task.taskArn, source: 'ecs-task-metadata' };
}

function checked(value: string, source: string): string {
  if (!INSTANCE_PATTERN.test(value)) {
    throw new ConfigurationError('INVALID_INSTANCE_ID', `${source} ${JSON.stringify(value)} is not a valid instance id: 1-512 printable ASCII characters, no spaces.`);
  }
  return value;
}
