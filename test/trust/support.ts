/**
 * Helpers for the trust tests (docs/threat-model.md): hand-made RSA keys, sealed copies of the bundle, and pods
 * simulated in a private mount namespace (`unshare -m`, as root) with bind mounts shaped like the kubelet's.
 *
 * @example
 * const sealed = await sealedBundle({ productCode, publicKeyFile, binding: 'none' });
 * const result = await runInPod({ podUid, args: [sealed.cli, 'check'] });
 */
import { spawn } from 'node:child_process';
import { createPublicKey, type KeyObject } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mountHolding, readMountInfo } from '../../src/platform/mountinfo.js';
import { cliResult, runCli, type CliProcess, type CliResult } from '../cli/helpers.js';
import { copyBundle } from '../support/bundle.js';

/** DER TLV with the definite length form for any size. */
function der(tag: number, ...parts: Buffer[]): Buffer {
  const body = Buffer.concat(parts);
  const length =
    body.length < 128
      ? Buffer.from([body.length])
      : (() => {
          const bytes = Buffer.from(body.length.toString(16).padStart(body.length > 0xff ? 4 : 2, '0'), 'hex');
          return Buffer.concat([Buffer.from([0x80 | bytes.length]), bytes]);
        })();
  return Buffer.concat([Buffer.from([tag]), length, body]);
}

const derInteger = (value: Buffer) => der(0x02, value[0]! & 0x80 ? Buffer.concat([Buffer.from([0]), value]) : value);

/** An RSA SubjectPublicKeyInfo with any modulus and exponent: keys no honest generator makes. */
export function rsaPublicKey(modulus: Buffer, exponent: number): KeyObject {
  const rsaEncryption = Buffer.from('300d06092a864886f70d0101010500', 'hex');
  const e = Buffer.from(
    exponent.toString(16).padStart(exponent.toString(16).length + (exponent.toString(16).length % 2), '0'),
    'hex',
  );
  const spki = der(0x30, rsaEncryption, der(0x03, Buffer.from([0]), der(0x30, derInteger(modulus), derInteger(e))));
  return createPublicKey({ key: spki, format: 'der', type: 'spki' });
}

export const pemOf = (key: KeyObject) => key.export({ type: 'spki', format: 'pem' }).toString();

/**
 * Where sealed copies live: outside the checkout (no node_modules above a copied bundle) and, unlike a tmpfs /tmp,
 * usually on the root filesystem, as a sealed CLI requires of itself.
 */
const SEALED_ROOT = existsSync('/var/tmp') ? '/var/tmp' : tmpdir();

export interface SealedBundle {
  dir: string;
  cli: string;
  remove(): void;
}

/** A copy of the bundle sealed by `bake --into` with the given settings (and baked TLS roots, if given); throws when bake fails. */
export async function sealedBundle(options: {
  productCode: string;
  publicKeyPem: string;
  binding: string;
  version?: number;
  tlsRootsFile?: string;
}): Promise<SealedBundle> {
  const dir = mkdtempSync(join(SEALED_ROOT, 'me-sealed-'));
  const holder = mountHolding(dir, readMountInfo() ?? []);
  if (holder && holder.mountPoint !== '/')
    throw new Error(
      `${dir} is on a ${holder.fsType} mount at ${holder.mountPoint}: a sealed CLI there refuses to run (IMAGE_TAMPERED).`,
    );
  const cli = await copyBundle(dir);
  const keyFile = join(dir, 'key.pem');
  writeFileSync(keyFile, options.publicKeyPem);
  const bake = await runCli([
    'bake',
    '--product-code',
    options.productCode,
    '--public-key-file',
    keyFile,
    '--instance-binding',
    options.binding,
    '--public-key-version',
    String(options.version ?? 1),
    '--into',
    dir,
    ...(options.tlsRootsFile ? ['--tls-roots', options.tlsRootsFile] : []),
  ]);
  rmSync(keyFile);
  if (bake.code !== 0) throw new Error(`bake failed (${bake.code}): ${bake.stdout}${bake.stderr}`);
  return { dir, cli, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** The permission model's flag in this Node: `--permission` from Node 24 (22 accepts both), `--experimental-permission` before. */
export const PERMISSION_FLAG = process.allowedNodeEnvironmentFlags.has('--permission')
  ? '--permission'
  : '--experimental-permission';

/** A fresh random pod UID. */
export const podUid = () => crypto.randomUUID();

/** Fails loudly, never skips: the namespace tests need root (CI runs as root). */
export function requireRoot(): void {
  if (process.getuid?.() !== 0)
    throw new Error('These tests need root for `unshare -m` and bind mounts (CI runs as root); run them as root.');
}

export interface PodOptions {
  /** The pod this process belongs to: the kubelet's mounts name it. */
  uid: string;
  /** Also mount another pod's kubelet files into this one (a hostPath under the kubelet's pods/ directory). */
  hostPathOf?: string;
  /** The kubelet's root is its own filesystem (mount roots then start at /pods/). */
  kubeletOwnFilesystem?: boolean;
  /** Extra shell commands run (as root, in the namespace) after the kubelet mounts, e.g. a mount over code. */
  extraMounts?: string[];
  /** The command run in the pod: node and its arguments (`node` is this Node binary). */
  args: string[];
  env?: NodeJS.ProcessEnv;
}

const quote = (text: string) => `'${text.replace(/'/g, `'\\''`)}'`;

/**
 * Starts `node ARGS` in a private mount namespace that looks like pod `uid` to /proc/self/mountinfo: the kubelet's
 * etc-hosts, a container's termination-log and a volume, bind-mounted from `<root>/pods/<uid>/...`.
 */
export function startInPod(options: PodOptions): CliProcess {
  requireRoot();
  const base = mkdtempSync(join(tmpdir(), 'me-pod-'));
  const kubelet = options.kubeletOwnFilesystem ? join(base, 'kubelet-fs') : join(base, 'var/lib/kubelet');
  // The kubelet's layout: pods/<uid>/etc-hosts (a file), containers/<name>/<id> (the termination log, a file),
  // volumes/<plugin>/<name> (a directory); each bind-mounted into the container.
  const pod = (uid: string) => `${kubelet}/pods/${uid}`;
  const podFiles = (uid: string) => [
    `mkdir -p ${pod(uid)}/containers/app ${pod(uid)}/volumes/kubernetes.io~empty-dir/shared ${base}/mnt/${uid}/shared`,
    `touch ${pod(uid)}/etc-hosts ${pod(uid)}/containers/app/0a1b2c3d ${base}/mnt/${uid}/hosts ${base}/mnt/${uid}/termination-log`,
  ];
  const bind = (uid: string) => [
    `mount --bind ${pod(uid)}/etc-hosts ${base}/mnt/${uid}/hosts`,
    `mount --bind ${pod(uid)}/containers/app/0a1b2c3d ${base}/mnt/${uid}/termination-log`,
    `mount --bind ${pod(uid)}/volumes/kubernetes.io~empty-dir/shared ${base}/mnt/${uid}/shared`,
  ];
  const script = [
    'set -e',
    ...(options.kubeletOwnFilesystem ? [`mkdir -p ${kubelet}`, `mount -t tmpfs kubelet ${kubelet}`] : []),
    ...podFiles(options.uid),
    ...bind(options.uid),
    ...(options.hostPathOf
      ? [
          ...podFiles(options.hostPathOf),
          `mount --bind ${pod(options.hostPathOf)}/volumes/kubernetes.io~empty-dir/shared ${base}/mnt/${options.hostPathOf}/shared`,
        ]
      : []),
    ...(options.extraMounts ?? []),
    `exec ${[process.execPath, ...options.args].map(quote).join(' ')}`,
  ].join('\n');
  const child = spawn('unshare', ['-m', '--propagation', 'private', 'sh', '-c', script], { env: options.env ?? {} });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const done = new Promise<CliResult>((resolve, reject) => {
    child.on('error', reject);
    // Only the CLI's own lines: `unshare` and `sh` may print theirs.
    child.on('close', (code, signal) =>
      resolve(
        cliResult(
          code,
          signal,
          stdout,
          stderr,
          stderr
            .split('\n')
            .filter((l) => l.startsWith('{'))
            .join('\n'),
        ),
      ),
    );
  }).finally(() => rmSync(base, { recursive: true, force: true }));
  // `unshare` and `sh` exec: the child is node itself, so signals reach it directly.
  return { child, stdout: () => stdout, stderr: () => stderr, done };
}

/** {@link startInPod} and wait for it to exit. */
export function runInPod(options: PodOptions): Promise<CliResult> {
  return startInPod(options).done;
}
