/**
 * Which running instance a registration is for: the Kubernetes pod UID or the ECS task ARN, taken from the
 * platform, not from the manifest. Every consumer (register, check, serve, run, the gate, the usage meter) asks
 * this one resolver.
 *
 * - Kubernetes: the pod UID the kubelet's own mounts name in `/proc/self/mountinfo` (its `pods/<UID>/etc-hosts`,
 *   `containers/...` and `volumes/...` directories). Several different UIDs (e.g. a hostPath mount of another pod's
 *   kubelet files) are refused: `INSTANCE_AMBIGUOUS`.
 * - ECS: the task ARN from task metadata v4 (`ECS_CONTAINER_METADATA_URI_V4`).
 * - Explicit values (`instanceId` / `--instance-id`, `MARKETPLACE_INSTANCE_ID`, `POD_UID`) are used only where the
 *   platform gives none (a laptop, plain Docker). Where it gives one, an explicit value that differs is refused
 *   (`INSTANCE_CONFLICT`, exit 78) and an equal one is fine.
 *
 * @example
 * const instance = await resolveInstanceId({ env: process.env });
 * // { instance: '4f6c2a1e-...', source: 'kubernetes' } in a pod
 */
import { ConfigurationError } from '../common/errors.js';
import { readEcsTaskMetadata } from './ecs-metadata.js';
import { podUidsInMounts, readMountInfo, MOUNTINFO_PATH } from './mountinfo.js';

/** Where the instance came from: the platform (`kubernetes`, `ecs`) or an explicit setting (its name). */
export type InstanceSource = 'kubernetes' | 'ecs' | 'instanceId' | 'MARKETPLACE_INSTANCE_ID' | 'POD_UID';

/** The instance an entitlement file is bound to, and where it came from. */
export interface ResolvedInstance {
  /** The pod UID or ECS task ARN. */
  instance: string;
  /** Where it was found. */
  source: InstanceSource;
}

/**
 * What a sealed image demands of the platform: `platform` (Kubernetes or ECS), one of them by name, or `none`
 * (no demand: explicit values may name the instance off any platform).
 */
export type InstanceBinding = 'platform' | 'kubernetes' | 'ecs' | 'none';

/** Every {@link InstanceBinding}, e.g. for a CLI option's choices. */
export const INSTANCE_BINDINGS: readonly InstanceBinding[] = ['platform', 'kubernetes', 'ecs', 'none'];

/** Options of {@link resolveInstanceId}. */
export interface ResolveInstanceOptions {
  /** An explicit instance (`--instance-id`). Used only where the platform gives none; must agree where it does. */
  instanceId?: string | undefined;
  /** The environment to read explicit settings and ECS metadata variables from. Default `process.env`. */
  env?: NodeJS.ProcessEnv;
  /** Fail closed (`INSTANCE_UNKNOWN`) unless this platform gives the instance. Default `none`. */
  binding?: InstanceBinding;
}

/** An instance id is written into the file and compared verbatim; keep it printable and bounded. */
const INSTANCE_PATTERN = /^[\x21-\x7e]{1,512}$/;

/**
 * This instance's identity: the platform's (the pod UID from the kubelet's mounts, the ECS task ARN) where there is
 * one, else an explicit value; undefined where neither names one (e.g. a laptop).
 *
 * @example
 * const instance = await resolveInstanceId(); // { instance: '5b1c7c1e-...', source: 'kubernetes' }
 */
export async function resolveInstanceId(options: ResolveInstanceOptions = {}): Promise<ResolvedInstance | undefined> {
  const env = options.env ?? process.env;
  const explicit = explicitInstances(options.instanceId, env);
  const platform = kubernetesInstance() ?? (await ecsInstance(env));
  const binding = options.binding ?? 'none';
  if (binding !== 'none' && (!platform || (binding !== 'platform' && platform.source !== binding))) {
    const wanted = { platform: 'a Kubernetes pod or an ECS task', kubernetes: 'a Kubernetes pod', ecs: 'an ECS task' }[
      binding
    ];
    const found = platform
      ? `it runs in ${platform.source === 'ecs' ? 'an ECS task' : 'a Kubernetes pod'}`
      : 'no platform instance was found';
    throw new ConfigurationError(
      'INSTANCE_UNKNOWN',
      `This image is bound to run in ${wanted}, but ${found} (kubelet pod mounts in ${MOUNTINFO_PATH}, ECS task ` +
        'metadata). Run it there, or ask the seller for an image baked with another --instance-binding.',
    );
  }
  if (!platform) return explicit[0];
  const differing = explicit.find((given) => given.instance !== platform.instance);
  if (differing) {
    throw new ConfigurationError(
      'INSTANCE_CONFLICT',
      `${differing.source} says the instance is ${JSON.stringify(differing.instance)}, but the platform ` +
        `(${platform.source}) says ${JSON.stringify(platform.instance)}. The platform's answer is the one used: ` +
        `remove ${differing.source} or set it to that value.`,
    );
  }
  return platform;
}

/** The explicit settings that are present, most specific first. */
function explicitInstances(instanceId: string | undefined, env: NodeJS.ProcessEnv): ResolvedInstance[] {
  const given: [string | undefined, InstanceSource][] = [
    [instanceId, 'instanceId'],
    [env.MARKETPLACE_INSTANCE_ID, 'MARKETPLACE_INSTANCE_ID'],
    [env.POD_UID, 'POD_UID'],
  ];
  return given
    .filter(([value]) => value !== undefined && value !== '')
    .map(([value, source]) => ({ instance: checked(value!, source), source }));
}

/** The pod UID from the kubelet's mounts, or undefined outside Kubernetes. */
function kubernetesInstance(): ResolvedInstance | undefined {
  const uids = podUidsInMounts(readMountInfo() ?? []);
  if (uids.length > 1) {
    throw new ConfigurationError(
      'INSTANCE_AMBIGUOUS',
      `The kubelet mounts in ${MOUNTINFO_PATH} name ${uids.length} pods (${uids.join(', ')}): a volume mounts ` +
        "another pod's kubelet files (a hostPath under the kubelet's pods/ directory?). Remove that volume; the " +
        "pod's identity must be unambiguous.",
    );
  }
  return uids[0] === undefined ? undefined : { instance: uids[0], source: 'kubernetes' };
}

async function ecsInstance(env: NodeJS.ProcessEnv): Promise<ResolvedInstance | undefined> {
  const task = await readEcsTaskMetadata(env).catch((err: unknown) => {
    throw new ConfigurationError(
      'INSTANCE_ID_UNAVAILABLE',
      `ECS_CONTAINER_METADATA_URI_V4 is set but the task ARN could not be read (${(err as Error).message}). ` +
        'Fix access to the task metadata endpoint (the ECS agent sets this variable; do not set it yourself).',
      { cause: err },
    );
  });
  return task && { instance: checked(task.taskArn, 'ecs'), source: 'ecs' };
}

function checked(value: string, source: InstanceSource): string {
  if (!INSTANCE_PATTERN.test(value)) {
    throw new ConfigurationError(
      'INVALID_INSTANCE_ID',
      `${source} ${JSON.stringify(value)} is not a valid instance id: 1-512 printable ASCII characters, no spaces.`,
    );
  }
  return value;
}
