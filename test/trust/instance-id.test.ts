/**
 * The one instance resolver, over hand-written mountinfo files (the real kernel's answer is tested in
 * pod-namespace.test.ts) and a local ECS task metadata server.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigurationError, ExitCode } from '../../src/errors.js';
import { parseMountInfo, podUidsInMounts, resolveInstanceId } from '../../src/platform/index.js';
import { mountsOverCode } from '../../src/platform/mountinfo.js';
import { rejectionOf, startStubServer } from '../support/index.js';

const POD_A = '4f6c2a1e-9b3d-4c55-8e21-0a1b2c3d4e5f';
const POD_B = '7d2e8f10-1111-4222-8333-944455566677';
const TASK_ARN = 'arn:aws:ecs:eu-west-1:123456789012:task/cluster/0123456789abcdef0123456789abcdef';

const dir = mkdtempSync(join(tmpdir(), 'me-mountinfo-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const line = (id: number, root: string, mountPoint: string, fs = 'ext4') => `${id} 1 254:0 ${root} ${mountPoint} rw,relatime shared:1 - ${fs} /dev/vda rw`;
const ROOT_FS = line(20, '/', '/', 'overlay');
const kubeletMounts = (uid: string, kubeletRoot = '/var/lib/kubelet') => [
  line(30, `${kubeletRoot}/pods/${uid}/etc-hosts`, '/etc/hosts'),
  line(31, `${kubeletRoot}/pods/${uid}/containers/app/0a1b2c3d`, '/dev/termination-log'),
  line(32, `${kubeletRoot}/pods/${uid}/volumes/kubernetes.io~projected/kube-api-access-x`, '/var/run/secrets/kubernetes.io/serviceaccount', 'tmpfs'),
];

function mountInfo(...lines: string[]): string {
  const file = join(dir, `mountinfo-${Math.random().toString(36).slice(2)}`);
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

describe('the pod UID from the kubelet mounts', () => {
  it('is read from the etc-hosts, containers/ and volumes/ mounts', async () => {
    const resolved = await resolveInstanceId({ env: {}, mountInfoPath: mountInfo(ROOT_FS, ...kubeletMounts(POD_A)) });
    expect(resolved).toEqual({ instance: POD_A, source: 'kubernetes' });
  });

  it('is found whatever the kubelet root (its own filesystem: roots start at /pods/)', async () => {
    expect((await resolveInstanceId({ env: {}, mountInfoPath: mountInfo(ROOT_FS, ...kubeletMounts(POD_A, '/data/kubelet')) }))?.instance).toBe(POD_A);
    expect((await resolveInstanceId({ env: {}, mountInfoPath: mountInfo(ROOT_FS, line(40, `/pods/${POD_A}/etc-hosts`, '/etc/hosts')) }))?.instance).toBe(POD_A);
  });

  it('ignores a pods/<UUID> path not followed by a kubelet entry, and octal-escaped paths are decoded', () => {
    const mounts = parseMountInfo([ROOT_FS, line(50, `/srv/pods/${POD_B}/backup`, '/backup'), line(51, '/a\\040b/pods/x', '/with\\040space')].join('\n'));
    expect(podUidsInMounts(mounts)).toEqual([]);
    expect(mounts[2]!.mountPoint).toBe('/with space');
  });

  it("refuses two pods' mounts (a hostPath of another pod's kubelet files): INSTANCE_AMBIGUOUS, exit 78", async () => {
    const hostPath = line(60, `/var/lib/kubelet/pods/${POD_B}/volumes/kubernetes.io~empty-dir/shared`, '/stolen');
    const error = await rejectionOf(resolveInstanceId({ env: {}, mountInfoPath: mountInfo(ROOT_FS, ...kubeletMounts(POD_A), hostPath) }), ConfigurationError);
    expect(error).toMatchObject({ code: 'INSTANCE_AMBIGUOUS', exitCode: ExitCode.CONFIGURATION });
    expect(error.message).toContain(POD_A);
    expect(error.message).toContain(POD_B);
  });

  it.each([
    ['instanceId', { instanceId: POD_B }, {}],
    ['POD_UID', {}, { POD_UID: POD_B }],
    ['MARKETPLACE_INSTANCE_ID', {}, { MARKETPLACE_INSTANCE_ID: POD_B }],
  ])('refuses a differing explicit %s, naming both (exit 78)', async (source, options, env) => {
    const error = await rejectionOf(
      resolveInstanceId({ ...options, env, mountInfoPath: mountInfo(ROOT_FS, ...kubeletMounts(POD_A)) }),
      ConfigurationError,
    );
    expect(error).toMatchObject({ code: 'INSTANCE_CONFLICT', exitCode: 78 });
    expect(error.message).toContain(source);
    expect(error.message).toContain(POD_A);
    expect(error.message).toContain(POD_B);
  });

  it('accepts an explicit value equal to the platform one (POD_UID from the downward API)', async () => {
    const resolved = await resolveInstanceId({ instanceId: POD_A, env: { POD_UID: POD_A }, mountInfoPath: mountInfo(ROOT_FS, ...kubeletMounts(POD_A)) });
    expect(resolved).toEqual({ instance: POD_A, source: 'kubernetes' });
  });
});

describe('off any platform', () => {
  const bare = () => mountInfo(ROOT_FS);

  it('uses the explicit value, most specific first, and none when nothing is given', async () => {
    expect(await resolveInstanceId({ instanceId: 'laptop-1', env: { POD_UID: 'other' }, mountInfoPath: bare() })).toEqual({ instance: 'laptop-1', source: 'instanceId' });
    expect(await resolveInstanceId({ env: { POD_UID: 'pod-x' }, mountInfoPath: bare() })).toEqual({ instance: 'pod-x', source: 'POD_UID' });
    expect(await resolveInstanceId({ env: {}, mountInfoPath: bare() })).toBeUndefined();
  });

  it.each(['platform', 'kubernetes', 'ecs'] as const)('with binding %s fails closed: INSTANCE_UNKNOWN, exit 78, explicit values notwithstanding', async (binding) => {
    const error = await rejectionOf(resolveInstanceId({ instanceId: POD_A, env: {}, binding, mountInfoPath: bare() }), ConfigurationError);
    expect(error).toMatchObject({ code: 'INSTANCE_UNKNOWN', exitCode: 78 });
  });

  it('binding none is the opt-out: the explicit value is used', async () => {
    expect((await resolveInstanceId({ instanceId: 'local', env: {}, binding: 'none', mountInfoPath: bare() }))?.instance).toBe('local');
  });

  it('binding kubernetes refuses an ECS task', async () => {
    const ecs = await startStubServer({ 'GET /task': () => ({ status: 200, body: { TaskARN: TASK_ARN } }) });
    try {
      const env = { ECS_CONTAINER_METADATA_URI_V4: ecs.url };
      await expect(resolveInstanceId({ env, binding: 'kubernetes', mountInfoPath: bare() })).rejects.toMatchObject({ code: 'INSTANCE_UNKNOWN' });
      expect(await resolveInstanceId({ env, binding: 'ecs', mountInfoPath: bare() })).toEqual({ instance: TASK_ARN, source: 'ecs' });
    } finally {
      await ecs.close();
    }
  });
});

describe('the ECS task ARN', () => {
  it('comes from task metadata v4; a differing explicit value is refused, an equal one accepted', async () => {
    const ecs = await startStubServer({ 'GET /task': () => ({ status: 200, body: { TaskARN: TASK_ARN } }) });
    try {
      const env = { ECS_CONTAINER_METADATA_URI_V4: ecs.url };
      expect(await resolveInstanceId({ env, mountInfoPath: mountInfo(ROOT_FS) })).toEqual({ instance: TASK_ARN, source: 'ecs' });
      expect(await resolveInstanceId({ instanceId: TASK_ARN, env, mountInfoPath: mountInfo(ROOT_FS) })).toEqual({ instance: TASK_ARN, source: 'ecs' });
      await expect(resolveInstanceId({ env: { ...env, MARKETPLACE_INSTANCE_ID: 'task-b' }, mountInfoPath: mountInfo(ROOT_FS) })).rejects.toMatchObject({
        code: 'INSTANCE_CONFLICT',
      });
    } finally {
      await ecs.close();
    }
  });
});

describe('mounts over code', () => {
  const mounts = parseMountInfo([ROOT_FS, line(70, '/configmap/..data/cli.mjs', '/opt/app/cli.mjs', 'tmpfs'), line(71, '/', '/srv/data', 'tmpfs')].join('\n'));

  it('finds a file mounted over, a directory under a mount, and a mount inside a tree', () => {
    expect(mountsOverCode({ files: ['/opt/app/cli.mjs'], trees: [] }, mounts)).toEqual(['/opt/app/cli.mjs is on a tmpfs mount at /opt/app/cli.mjs']);
    expect(mountsOverCode({ files: [], trees: ['/srv/data/app'] }, mounts)).toEqual(['/srv/data/app is on a tmpfs mount at /srv/data']);
    expect(mountsOverCode({ files: [], trees: ['/opt/app'] }, mounts)).toEqual(['a tmpfs mount at /opt/app/cli.mjs lies inside /opt/app']);
  });

  it('finds nothing for code on the root filesystem', () => {
    expect(mountsOverCode({ files: ['/opt/other/cli.mjs'], trees: ['/opt/other', '/'] }, mounts)).toEqual([]);
  });
});
