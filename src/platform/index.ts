/// <reference types="node" preserve="true" />
/**
 * marketplace-entitlement/platform: where the process runs. The AWS Region (environment, ECS task metadata), the
 * instance an entitlement is bound to (the kubelet's pod UID from the mounts, the ECS task ARN), and the mount table
 * both read.
 *
 * @example
 * import { resolveInstanceId, resolveRegion } from 'marketplace-entitlement/platform';
 * const instance = await resolveInstanceId(); // undefined off Kubernetes and ECS
 * const { region, source } = await resolveRegion({});
 * console.log(region, source, instance?.instance, instance?.source);
 */
export { resolveRegion } from './region.js';
export type { ResolvedRegion } from './region.js';
export { readEcsTaskMetadata } from './ecs-metadata.js';
export { resolveInstanceId, INSTANCE_BINDINGS } from './instance-id.js';
export type { ResolvedInstance, ResolveInstanceOptions, InstanceBinding, InstanceSource } from './instance-id.js';
export { parseMountInfo, podUidsInMounts, readMountInfo } from './mountinfo.js';
export type { MountEntry } from './mountinfo.js';
