/**
 * The one instance resolver. Which mounts name a pod is tested through the pure functions over mountinfo text; the
 * resolver itself as it runs, reading the kernel's own /proc/self/mountinfo: in pods simulated in a private mount
 * namespace (`unshare -m` as root, bind mounts shaped like the kubelet's: support.ts) for the Kubernetes cases, and
 * in this process on this host, which must name no pod, for the others (with a local ECS task metadata server).
 */
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { ConfigurationError, ExitCode } from '../../src/errors.js';
import {
  parseMountInfo,
  podUidsInMounts,
  readMountInfo,
  resolveInstanceId,
  type ResolvedInstance,
  type ResolveInstanceOptions,
} from '../../src/platform/index.js';
import { MOUNTINFO_PATH, mountsOverCode } from '../../src/platform/mountinfo.js';
import { rejectionOf, startStubServer } from '../support/index.js';
import { podUid, runInPod, type PodOptions } from './support.js';

const POD_A = podUid();
const POD_B = podUid();
const TASK_ARN = 'arn:aws:ecs:eu-west-1:123456789012:task/cluster/0123456789abcdef0123456789abcdef';
const LIBRARY = fileURLToPath(new URL('../../dist/src/platform/index.js', import.meta.url));

const line = (id: number, root: string, mountPoint: string, fs = 'ext4') =>
  `${id} 1 254:0 ${root} ${mountPoint} rw,relatime shared:1 - ${fs} /dev/vda rw`;
const ROOT_FS = line(20, '/', '/', 'overlay');
const kubeletMounts = (uid: string, kubeletRoot = '/var/lib/kubelet') => [
  line(30, `${kubeletRoot}/pods/${uid}/etc-hosts`, '/etc/hosts'),
  line(31, `${kubeletRoot}/pods/${uid}/containers/app/0a1b2c3d`, '/dev/termination-log'),
  line(
    32,
    `${kubeletRoot}/pods/${uid}/volumes/kubernetes.io~projected/kube-api-access-x`,
    '/var/run/secrets/kubernetes.io/serviceaccount',
    'tmpfs',
  ),
];
const podsIn = (...lines: string[]) => podUidsInMounts(parseMountInfo(lines.join('\n')));

describe('which mounts name a pod', () => {
  it.each([0, 1, 2])(
    "each of the kubelet's etc-hosts, containers/ and volumes/ mounts names it (mount %i)",
    (which) => {
      expect(podsIn(ROOT_FS, kubeletMounts(POD_A)[which]!)).toEqual([POD_A]);
    },
  );

  it('all three name one pod, once', () => {
    expect(podsIn(ROOT_FS, ...kubeletMounts(POD_A))).toEqual([POD_A]);
  });

  it('any kubelet root, also its own filesystem (roots start at /pods/)', () => {
    expect(podsIn(ROOT_FS, ...kubeletMounts(POD_A, '/data/kubelet'))).toEqual([POD_A]);
    expect(podsIn(ROOT_FS, line(40, `/pods/${POD_A}/etc-hosts`, '/etc/hosts'))).toEqual([POD_A]);
  });

  it('ignores a pods/<UUID> path not followed by a kubelet entry, and octal-escaped paths are decoded', () => {
    const mounts = parseMountInfo(
      [ROOT_FS, line(50, `/srv/pods/${POD_B}/backup`, '/backup'), line(51, '/a\\040b/pods/x', '/with\\040space')].join(
        '\n',
      ),
    );
    expect(podUidsInMounts(mounts)).toEqual([]);
    expect(mounts[2]!.mountPoint).toBe('/with space');
  });

  it("a hostPath of another pod's kubelet files names both pods, in the order first seen", () => {
    const hostPath = line(60, `/var/lib/kubelet/pods/${POD_B}/volumes/kubernetes.io~empty-dir/shared`, '/stolen');
    expect(podsIn(ROOT_FS, ...kubeletMounts(POD_A), hostPath)).toEqual([POD_A, POD_B]);
  });
});

/** What the resolver answered in the pod's process: the instance (null for none) or the error it threw. */
interface PodAnswer {
  resolved?: ResolvedInstance | null;
  error?: { name: string; code: string; exitCode: number; message: string };
}

/** The built library's resolver, run in a process of a simulated pod with these options (JSON: no `env`, the process's own). */
const RESOLVE = `const { resolveInstanceId } = await import(${JSON.stringify(LIBRARY)});
  const answer = await resolveInstanceId(JSON.parse(process.argv[1])).then(
    (resolved) => ({ resolved: resolved ?? null }),
    ({ name, code, exitCode, message }) => ({ error: { name, code, exitCode, message } }),
  );
  console.log(JSON.stringify(answer));`;

async function resolveInPod(
  pod: Omit<PodOptions, 'args'>,
  options: Omit<ResolveInstanceOptions, 'env'> = {},
): Promise<PodAnswer> {
  const result = await runInPod({
    env: {},
    ...pod,
    args: ['--input-type=module', '-e', RESOLVE, JSON.stringify(options)],
  });
  if (result.code !== 0)
    throw new Error(
      `the resolver's process in pod ${pod.uid} exited ${String(result.code)}: ${result.stdout}${result.stderr}`,
    );
  return JSON.parse(result.stdout) as PodAnswer;
}

const configurationError = (code: string) => ({ name: 'ConfigurationError', code, exitCode: ExitCode.CONFIGURATION });

describe('in a pod (the kubelet mounts in its own mount namespace)', () => {
  it('is the pod UID the kubelet mounts name, with nothing set', async () => {
    expect(await resolveInPod({ uid: POD_A })).toEqual({ resolved: { instance: POD_A, source: 'kubernetes' } });
  });

  it('is found with the kubelet root on its own filesystem (mount roots /pods/<UID>/...)', async () => {
    expect(await resolveInPod({ uid: POD_A, kubeletOwnFilesystem: true })).toEqual({
      resolved: { instance: POD_A, source: 'kubernetes' },
    });
  });

  it("refuses two pods' mounts (a hostPath of another pod's kubelet files): INSTANCE_AMBIGUOUS, exit 78", async () => {
    const { error } = await resolveInPod({ uid: POD_A, hostPathOf: POD_B });
    expect(error).toMatchObject(configurationError('INSTANCE_AMBIGUOUS'));
    expect(error?.message).toContain(POD_A);
    expect(error?.message).toContain(POD_B);
  });

  it.each([
    ['instanceId', { instanceId: POD_B }, {}],
    ['POD_UID', {}, { POD_UID: POD_B }],
    ['MARKETPLACE_INSTANCE_ID', {}, { MARKETPLACE_INSTANCE_ID: POD_B }],
  ])('refuses a differing explicit %s, naming both (exit 78)', async (source, options, env) => {
    const { error } = await resolveInPod({ uid: POD_A, env }, options);
    expect(error).toMatchObject(configurationError('INSTANCE_CONFLICT'));
    expect(error?.message).toContain(source);
    expect(error?.message).toContain(POD_A);
    expect(error?.message).toContain(POD_B);
  });

  it('accepts an explicit value equal to the platform one (POD_UID from the downward API)', async () => {
    expect(await resolveInPod({ uid: POD_A, env: { POD_UID: POD_A } }, { instanceId: POD_A })).toEqual({
      resolved: { instance: POD_A, source: 'kubernetes' },
    });
  });

  it.each(['platform', 'kubernetes'] as const)('binding %s is met by the pod', async (binding) => {
    expect(await resolveInPod({ uid: POD_A }, { binding })).toEqual({
      resolved: { instance: POD_A, source: 'kubernetes' },
    });
  });

  it('binding ecs refuses a pod: INSTANCE_UNKNOWN, exit 78', async () => {
    const { error } = await resolveInPod({ uid: POD_A }, { binding: 'ecs' });
    expect(error).toMatchObject(configurationError('INSTANCE_UNKNOWN'));
    expect(error?.message).toContain('it runs in a Kubernetes pod');
  });
});

describe('on this host (no kubelet mounts)', () => {
  beforeAll(() => {
    const pods = podUidsInMounts(readMountInfo() ?? []);
    if (pods.length > 0) {
      throw new Error(
        `This host's ${MOUNTINFO_PATH} names kubelet pod mounts (${pods.join(', ')}), so the resolver sees a pod here: ` +
          'these cases need a machine outside Kubernetes (the pod cases simulate their own pods).',
      );
    }
  });

  describe('off any platform', () => {
    it('uses the explicit value, most specific first, and none when nothing is given', async () => {
      expect(await resolveInstanceId({ instanceId: 'laptop-1', env: { POD_UID: 'other' } })).toEqual({
        instance: 'laptop-1',
        source: 'instanceId',
      });
      expect(await resolveInstanceId({ env: { POD_UID: 'pod-x' } })).toEqual({ instance: 'pod-x', source: 'POD_UID' });
      expect(await resolveInstanceId({ env: {} })).toBeUndefined();
    });

    it.each(['platform', 'kubernetes', 'ecs'] as const)(
      'with binding %s fails closed: INSTANCE_UNKNOWN, exit 78, explicit values notwithstanding',
      async (binding) => {
        const error = await rejectionOf(resolveInstanceId({ instanceId: POD_A, env: {}, binding }), ConfigurationError);
        expect(error).toMatchObject({ code: 'INSTANCE_UNKNOWN', exitCode: ExitCode.CONFIGURATION });
        expect(error.message).toContain('no platform instance was found');
      },
    );

    it('binding none is the opt-out: the explicit value is used', async () => {
      expect((await resolveInstanceId({ instanceId: 'local', env: {}, binding: 'none' }))?.instance).toBe('local');
    });
  });

  describe('in an ECS task (task metadata v4)', () => {
    const withTask = async (test: (env: NodeJS.ProcessEnv) => Promise<void>) => {
      const ecs = await startStubServer({ 'GET /task': () => ({ status: 200, body: { TaskARN: TASK_ARN } }) });
      try {
        await test({ ECS_CONTAINER_METADATA_URI_V4: ecs.url });
      } finally {
        await ecs.close();
      }
    };

    it('binding kubernetes refuses an ECS task; binding ecs accepts it', () =>
      withTask(async (env) => {
        await expect(resolveInstanceId({ env, binding: 'kubernetes' })).rejects.toMatchObject({
          code: 'INSTANCE_UNKNOWN',
        });
        expect(await resolveInstanceId({ env, binding: 'ecs' })).toEqual({ instance: TASK_ARN, source: 'ecs' });
      }));

    it('is the task ARN; a differing explicit value is refused, an equal one accepted', () =>
      withTask(async (env) => {
        expect(await resolveInstanceId({ env })).toEqual({ instance: TASK_ARN, source: 'ecs' });
        expect(await resolveInstanceId({ instanceId: TASK_ARN, env })).toEqual({ instance: TASK_ARN, source: 'ecs' });
        await expect(resolveInstanceId({ env: { ...env, MARKETPLACE_INSTANCE_ID: 'task-b' } })).rejects.toMatchObject({
          code: 'INSTANCE_CONFLICT',
        });
      }));
  });
});

describe('mounts over code', () => {
  const mounts = parseMountInfo(
    [
      ROOT_FS,
      line(70, '/configmap/..data/cli.mjs', '/opt/app/cli.mjs', 'tmpfs'),
      line(71, '/', '/srv/data', 'tmpfs'),
    ].join('\n'),
  );

  it('finds a file mounted over, a directory under a mount, and a mount inside a tree', () => {
    expect(mountsOverCode({ files: ['/opt/app/cli.mjs'], trees: [] }, mounts)).toEqual([
      '/opt/app/cli.mjs is on a tmpfs mount at /opt/app/cli.mjs',
    ]);
    expect(mountsOverCode({ files: [], trees: ['/srv/data/app'] }, mounts)).toEqual([
      '/srv/data/app is on a tmpfs mount at /srv/data',
    ]);
    expect(mountsOverCode({ files: [], trees: ['/opt/app'] }, mounts)).toEqual([
      'a tmpfs mount at /opt/app/cli.mjs lies inside /opt/app',
    ]);
  });

  it('finds nothing for code on the root filesystem', () => {
    expect(mountsOverCode({ files: ['/opt/other/cli.mjs'], trees: ['/opt/other', '/'] }, mounts)).toEqual([]);
  });
});
