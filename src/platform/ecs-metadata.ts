/**
 * ECS task metadata endpoint v4: where an ECS task (EC2 or Fargate) learns its task ARN, and through it its
 * Region and identity. The agent sets `ECS_CONTAINER_METADATA_URI_V4`; outside ECS it is absent.
 *
 * @example
 * const task = await readEcsTaskMetadata(); // undefined outside ECS
 * task?.taskArn; // "arn:aws:ecs:eu-west-1:123456789012:task/cluster/0123..."
 */
export interface EcsTaskMetadata {
  taskArn: string;
  region: string;
}

export const METADATA_TIMEOUT_MS = 1_000;

/** Reads `$ECS_CONTAINER_METADATA_URI_V4/task`; undefined when not on ECS. Throws when the endpoint misbehaves. */
export async function readEcsTaskMetadata(env: NodeJS.ProcessEnv = process.env): Promise<EcsTaskMetadata | undefined> {
  const base = env.ECS_CONTAINER_METADATA_URI_V4;
  if (!base) return undefined;
  const response = await fetch(`${base.replace(/\/+$/, '')}/task`, {
    signal: AbortSignal.timeout(METADATA_TIMEOUT_MS),
  });
  if (!response.ok) throw new Error(`ECS task metadata endpoint answered HTTP ${response.status}`);
  const body = (await response.json()) as { TaskARN?: unknown };
  const taskArn = body.TaskARN;
  const region = typeof taskArn === 'string' ? taskArn.split(':')[3] : undefined;
  if (typeof taskArn !== 'string' || !region)
    throw new Error('ECS task metadata has no TaskARN of the form arn:aws:ecs:REGION:...');
  return { taskArn, region };
}
