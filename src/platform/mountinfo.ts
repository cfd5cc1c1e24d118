/**
 * Reading `/proc/self/mountinfo`: what the kernel says is mounted where in this process's mount namespace. A
 * manifest can add mounts but cannot make the kernel report other ones, so two trust decisions rest on it: the
 * pod UID (the kubelet mounts files from its own `pods/<UID>/` directory into every container) and whether code
 * was mounted over the image's files.
 *
 * Only synchronous reads of one small file: the exec probe runs cold every few seconds.
 *
 * @example
 * const mounts = readMountInfo();            // undefined off Linux
 * podUidsInMounts(mounts ?? []);             // ['4f6c2a1e-...'] in a Kubernetes pod
 * mountHolding('/opt/app/cli.mjs', mounts!); // { mountPoint: '/', root: '/', ... }
 */
import { readFileSync } from 'node:fs';

/** Where the kernel publishes this process's mounts. */
export const MOUNTINFO_PATH = '/proc/self/mountinfo';

/** One line of mountinfo: the fields the trust checks need. */
export interface MountEntry {
  /** The path inside the mounted filesystem that is mounted (a bind mount's source path). */
  root: string;
  /** Where it is mounted in this namespace. */
  mountPoint: string;
  /** The filesystem type (`ext4`, `tmpfs`, `overlay`, ...), named in findings. */
  fsType: string;
}

/** The kubelet's per-pod directory and the entries it mounts from it (hosts file, termination log, volumes). */
const KUBELET_POD_MOUNT =
  /(?:^|\/)pods\/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\/(?:etc-hosts(?:\/|$)|containers\/|volumes\/)/;

/** The mounts of this process, or undefined where there is no mountinfo (not Linux, /proc not mounted). */
export function readMountInfo(): MountEntry[] | undefined {
  let text: string;
  try {
    text = readFileSync(MOUNTINFO_PATH, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  return parseMountInfo(text);
}

/**
 * Parses mountinfo text (proc(5)): `ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPER`.
 *
 * @example parseMountInfo('36 35 98:0 /mnt1 /mnt2 rw - ext3 /dev/root rw')[0].mountPoint // '/mnt2'
 */
export function parseMountInfo(text: string): MountEntry[] {
  const entries: MountEntry[] = [];
  for (const line of text.split('\n')) {
    const fields = line.split(' ');
    const separator = fields.indexOf('-', 6);
    if (fields.length < 7 || separator < 0) continue;
    entries.push({
      root: unescapeOctal(fields[3]!),
      mountPoint: unescapeOctal(fields[4]!),
      fsType: fields[separator + 1] ?? '',
    });
  }
  return entries;
}

/** The kernel writes space, tab, newline and backslash in paths as `\040`, `\011`, `\012`, `\134`. */
function unescapeOctal(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));
}

/**
 * The distinct pod UIDs named by kubelet-made mounts (their root lies in a `pods/<UID>/` directory, followed by
 * `etc-hosts`, `containers/` or `volumes/`), in the order first seen. Empty outside Kubernetes.
 */
export function podUidsInMounts(mounts: readonly MountEntry[]): string[] {
  const uids = new Set<string>();
  for (const mount of mounts) {
    const match = KUBELET_POD_MOUNT.exec(mount.root);
    if (match) uids.add(match[1]!);
  }
  return [...uids];
}

/** The mount that holds `path` (the last-mounted one with the longest mount point that contains it). */
export function mountHolding(path: string, mounts: readonly MountEntry[]): MountEntry | undefined {
  let holder: MountEntry | undefined;
  for (const mount of mounts) {
    if (isWithin(path, mount.mountPoint) && (!holder || mount.mountPoint.length >= holder.mountPoint.length))
      holder = mount;
  }
  return holder;
}

/** True when `path` is `dir` or below it. */
export function isWithin(path: string, dir: string): boolean {
  return dir === '/' || path === dir || path.startsWith(`${dir}/`);
}

/**
 * Mounts that put something other than the root filesystem at, over or inside the given paths: each path must be
 * held by the mount at `/`, and (for `trees`) no mount may lie inside the directory. Returns one line per finding.
 *
 * @example
 * mountsOverCode({ files: ['/opt/app/cli.mjs'], trees: ['/opt/app'] }, readMountInfo()!) // [] when untouched
 */
export function mountsOverCode(
  paths: { files: readonly string[]; trees: readonly string[] },
  mounts: readonly MountEntry[],
): string[] {
  const findings: string[] = [];
  for (const path of [...paths.files, ...paths.trees]) {
    const holder = mountHolding(path, mounts);
    if (holder && holder.mountPoint !== '/')
      findings.push(`${path} is on a ${holder.fsType} mount at ${holder.mountPoint}`);
  }
  // A tree at / would hold every mount; the first loop already covers what lies at it.
  for (const tree of paths.trees.filter((dir) => dir !== '/')) {
    for (const mount of mounts) {
      if (mount.mountPoint !== tree && isWithin(mount.mountPoint, tree))
        findings.push(`a ${mount.fsType} mount at ${mount.mountPoint} lies inside ${tree}`);
    }
  }
  return [...new Set(findings)];
}
