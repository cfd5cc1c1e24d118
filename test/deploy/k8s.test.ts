/**
 * k8s/: every manifest validated against the Kubernetes schemas (kubernetes-models), the kustomize base and both
 * overlays rendered with `kubectl kustomize` and checked for what each variant promises, Pod Security "restricted",
 * and resources sized from the measured footprint of the CLI. The strict (`satisfies`) check is in typecheck.test.ts.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { PodSpec } from 'kubernetes-types/core/v1.js';
import { KUBECTL_VERSION, ensureKubectl } from '../../scripts/helm.mjs';
import {
  CONTRACT,
  type Doc,
  KUSTOMIZATIONS,
  MEASURED_PEAK_MIB,
  allContainers,
  argValue,
  container,
  deploymentOf,
  env,
  expectReferencesResolve,
  kustomize,
  mount,
  parseYamlDocs,
  path,
  quantity,
  readJson,
  readText,
  restrictedViolations,
  validateWithSchema,
} from './helpers.js';

/** `kubectl kustomize` once per directory; a failure (kubectl missing) fails every test that needs the output. */
const cache = new Map<string, Doc[] | Error>();
const render = (k: string): Doc[] => {
  if (!cache.has(k)) {
    try {
      cache.set(k, kustomize(k));
    } catch (err) {
      cache.set(k, err as Error);
    }
  }
  const r = cache.get(k)!;
  if (r instanceof Error) throw r;
  return r;
};

const deployment = (k: string) => deploymentOf(render(k), k);
const podSpec = (k: string) => deployment(k).spec.template.spec as PodSpec;

describe('kubectl', () => {
  it(`is the pinned ${KUBECTL_VERSION} from the npm registry package (scripts/helm.mjs)`, () => {
    const r = spawnSync(ensureKubectl(), ['version', '--client', '--output', 'json'], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).clientVersion.gitVersion).toBe(KUBECTL_VERSION);
  });

  it('a render that warns fails: an overlay with the deprecated `bases` field is refused, naming the warning', () => {
    mkdirSync(path('.tmp'), { recursive: true });
    const dir = mkdtempSync(path('.tmp', 'kustomize-'));
    try {
      writeFileSync(`${dir}/kustomization.yaml`, `bases:\n- ${relative(dir, path('k8s', 'base'))}\n`);
      expect(() => kustomize(relative(path(), dir))).toThrow(/warned:[\s\S]*'bases' is deprecated/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('raw manifest files', () => {
  const files = ['k8s/base/serviceaccount.yaml', 'k8s/base/deployment.yaml'];

  it.each(files)('%s is valid against the Kubernetes schema', (file) => {
    const docs = parseYamlDocs(readText(file), file);
    expect(docs.length).toBeGreaterThan(0);
    for (const doc of docs) expect(() => validateWithSchema(doc), `${file} ${doc.kind}`).not.toThrow();
  });

  it('the schema validation is not a no-op: a wrong type and a missing required field are caught', () => {
    const doc = parseYamlDocs(readText('k8s/base/deployment.yaml'), 'deployment.yaml')[0]!;
    const wrongType = structuredClone(doc);
    wrongType.spec.replicas = 'one';
    expect(() => validateWithSchema(wrongType)).toThrow(/replicas/);
    const noImage = structuredClone(doc);
    delete noImage.spec.template.spec.containers[0].name;
    expect(() => validateWithSchema(noImage)).toThrow(/name/);
  });

  it('every YAML file under k8s/ parses and every kustomization directory is tested', () => {
    const dirs = new Set<string>();
    const walk = (dir: string) => {
      for (const e of readdirSync(path(dir), { withFileTypes: true })) {
        if (e.isDirectory()) walk(`${dir}/${e.name}`);
        else if (e.name.endsWith('.yaml')) {
          expect(() => parseYamlDocs(readText(`${dir}/${e.name}`), e.name)).not.toThrow();
          if (e.name === 'kustomization.yaml') dirs.add(dir);
        }
      }
    };
    walk('k8s');
    expect([...dirs].sort()).toEqual([...KUSTOMIZATIONS].sort());
  });
});

describe.each(KUSTOMIZATIONS)('kubectl kustomize %s', (k) => {
  it('renders, and every rendered manifest is valid against the Kubernetes schema', () => {
    const kinds = render(k)
      .map((d) => d.kind)
      .sort();
    expect(kinds).toEqual(['ConfigMap', 'ConfigMap', 'Deployment', 'ServiceAccount']);
    for (const doc of render(k))
      expect(() => validateWithSchema(doc), `${doc.kind} ${doc.metadata?.name}`).not.toThrow();
  });

  it('is Pod Security "restricted" compliant, with a read-only root filesystem everywhere', () => {
    expect(restrictedViolations(podSpec(k))).toEqual([]);
  });

  it('references only ConfigMaps, ServiceAccounts and volumes that exist', () => {
    expectReferencesResolve(render(k), podSpec(k));
  });

  it('gives every container of ours POD_UID from the downward API and the product configuration', () => {
    for (const c of allContainers(podSpec(k))) {
      expect(env(c, 'POD_UID')?.valueFrom?.fieldRef?.fieldPath, `${c.name} POD_UID`).toBe('metadata.uid');
      expect(env(c, 'MARKETPLACE_PUBLIC_KEY_FILE')?.value, `${c.name} key file`).toBe(
        '/etc/marketplace-entitlement/public-key.pem',
      );
      expect(c.envFrom?.[0]?.configMapRef?.name, `${c.name} envFrom`).toMatch(/^marketplace-entitlement-config-/);
    }
    const config = render(k).find((d) => d.kind === 'ConfigMap' && d.data?.MARKETPLACE_PRODUCT_CODE);
    expect(config?.data.MARKETPLACE_PRODUCT_CODE).toMatch(/^[-a-zA-Z0-9/=:_.@]{1,255}$/);
  });

  it('keeps the entitlement in an in-memory emptyDir', () => {
    const vol = (podSpec(k).volumes ?? []).find((v) => v.name === 'entitlement');
    expect(vol?.emptyDir?.medium).toBe('Memory');
    expect(quantity(vol?.emptyDir?.sizeLimit)).toBeLessThanOrEqual(1024 ** 2);
  });

  it('sets memory requests and limits from the measured footprint, and no CPU limit (throttling slows every cold start)', () => {
    for (const c of allContainers(podSpec(k))) {
      const r = c.resources ?? {};
      expect(quantity(r.requests?.cpu), `${c.name} cpu request`).toBeGreaterThan(0);
      expect(quantity(r.requests?.memory), `${c.name} memory request`).toBeGreaterThan(0);
      expect(quantity(r.limits?.memory), `${c.name} memory limit`).toBeGreaterThanOrEqual(quantity(r.requests?.memory));
      expect(r.limits?.cpu, `${c.name} has a CPU limit`).toBeUndefined();
    }
  });

  it('resolves every image through `images:` in the base to a registry name with a pinned tag', () => {
    for (const c of allContainers(podSpec(k))) {
      expect(c.image, c.name).toMatch(/^[a-z0-9.-]+\.[a-z]+\/[a-z0-9./_-]+:[\w.-]+$/);
      expect(c.image, c.name).not.toMatch(/:latest$/);
      if (c.name !== 'app') expect(c.image, c.name).toMatch(/\/marketplace-entitlement:/);
    }
  });
});

describe('base: init container + exec check', () => {
  const k = 'k8s/base';

  it('runs `register` in an init container that writes into the emptyDir', () => {
    const init = container(podSpec(k), 'marketplace-entitlement');
    expect(podSpec(k).initContainers).toHaveLength(1);
    expect(init.args).toEqual(['register']);
    expect(init.restartPolicy, 'a plain init container runs to completion before the app starts').toBeUndefined();
    const m = mount(init, CONTRACT.outDir);
    expect(m?.name).toBe('entitlement');
    expect(m?.readOnly ?? false).toBe(false);
    expect(init.securityContext?.runAsUser).toBe(CONTRACT.uid);
  });

  it('mounts the emptyDir read-only in the app, whose readiness probe runs `check`', () => {
    const app = container(podSpec(k), 'app');
    const m = mount(app, CONTRACT.outDir);
    expect(m?.name).toBe('entitlement');
    expect(m?.readOnly).toBe(true);
    expect(app.readinessProbe?.exec?.command).toEqual([...CONTRACT.cli, 'check']);
    expect(
      app.livenessProbe,
      'a liveness probe on the entitlement would crash-loop the buyer on a transient problem',
    ).toBeUndefined();
    expect(env(app, 'MARKETPLACE_ENTITLEMENT_FILE')?.value).toBe(CONTRACT.outFile);
  });

  it('has a ServiceAccount with the IRSA role annotation, matching iam/irsa-trust-policy.json', () => {
    const sa = render(k).find((d) => d.kind === 'ServiceAccount')!;
    const roleArn = sa.metadata.annotations?.['eks.amazonaws.com/role-arn'];
    expect(roleArn).toMatch(/^arn:aws:iam::\d{12}:role\/[\w+=,.@-]+$/);
    const trust = readJson('iam/irsa-trust-policy.json');
    const subs = trust.Statement.flatMap((s: Doc) =>
      Object.entries(s.Condition.StringEquals)
        .filter(([key]) => key.endsWith(':sub'))
        .map(([, v]) => v),
    );
    expect(subs).toEqual([`system:serviceaccount:${sa.metadata.namespace}:${sa.metadata.name}`]);
  });

  it('sizes the init container from the measured peak RSS of `register`', () => {
    const r = container(podSpec(k), 'marketplace-entitlement').resources!;
    expect(quantity(r.requests!.memory) / 1024 ** 2).toBeGreaterThanOrEqual(MEASURED_PEAK_MIB.register);
    expect(quantity(r.limits!.memory) / 1024 ** 2).toBeGreaterThanOrEqual(MEASURED_PEAK_MIB.register * 1.5);
  });

  it("leaves room in the app container's memory limit for the exec probe, which runs inside the app's cgroup", () => {
    const r = container(podSpec(k), 'app').resources!;
    expect((quantity(r.limits!.memory) - quantity(r.requests!.memory)) / 1024 ** 2).toBeGreaterThanOrEqual(
      MEASURED_PEAK_MIB.check,
    );
  });
});

describe('overlay: native sidecar', () => {
  const k = 'k8s/overlays/native-sidecar';

  it('runs `serve` as a restartable init container (restartPolicy: Always) and nothing else before the app', () => {
    const spec = podSpec(k);
    expect(spec.initContainers).toHaveLength(1);
    const sidecar = spec.initContainers![0]!;
    expect(sidecar.restartPolicy).toBe('Always');
    expect(sidecar.args?.[0]).toBe('serve');
    expect(mount(sidecar, CONTRACT.outDir)?.readOnly ?? false).toBe(false);
  });

  it('gates the app on a startupProbe GET /healthz on the port serve listens on, reachable by the kubelet', () => {
    const sidecar = podSpec(k).initContainers![0]!;
    const port = Number(argValue(sidecar.args, '--port'));
    expect(port).toBeGreaterThan(0);
    expect(
      argValue(sidecar.args, '--host'),
      'the kubelet probes the pod IP, so serve must not bind 127.0.0.1 only',
    ).toMatch(/^(0\.0\.0\.0|::)$/);
    expect(sidecar.ports?.map((p) => p.containerPort)).toContain(port);
    for (const probe of [sidecar.startupProbe, sidecar.readinessProbe]) {
      expect(probe?.httpGet?.path).toBe('/healthz');
      expect(probe?.httpGet?.port).toBe(port);
    }
    const app = container(podSpec(k), 'app');
    expect(
      (app.ports ?? []).map((p) => p.containerPort),
      'sidecar and app share the pod network namespace',
    ).not.toContain(port);
    const s = sidecar.startupProbe!;
    expect(
      (s.periodSeconds ?? 10) * (s.failureThreshold ?? 3),
      'startup probe must outlast the 30 min RegisterUsage retry window',
    ).toBeGreaterThanOrEqual(30 * 60);
  });

  it('needs nothing in the app image: no exec probe on the app', () => {
    const app = container(podSpec(k), 'app');
    expect(app.readinessProbe).toBeUndefined();
    expect(app.command).toBeUndefined();
  });

  it('sizes the sidecar from the measured RSS of `serve`', () => {
    const r = podSpec(k).initContainers![0]!.resources!;
    expect(quantity(r.requests!.memory) / 1024 ** 2).toBeGreaterThanOrEqual(MEASURED_PEAK_MIB.serve);
    expect(quantity(r.limits!.memory) / 1024 ** 2).toBeGreaterThanOrEqual(MEASURED_PEAK_MIB.serve * 1.5);
  });
});

describe('overlay: contract sidecar', () => {
  const k = 'k8s/overlays/contract-sidecar';
  const config = () => render(k).find((d) => d.kind === 'ConfigMap' && d.data?.MARKETPLACE_PRICING)?.data ?? {};

  it('is the native sidecar told --pricing contract, with a product SKU and NAME:UNIT[:VALUE] entitlements', () => {
    const sidecar = podSpec(k).initContainers![0]!;
    expect(sidecar.restartPolicy).toBe('Always');
    expect(sidecar.args?.[0]).toBe('serve');
    expect(sidecar.startupProbe?.httpGet?.path).toBe('/healthz');
    expect(sidecar.readinessProbe?.httpGet?.path, 'a lost licence makes the pod un-Ready').toBe('/healthz');
    expect(config()).toMatchObject({ MARKETPLACE_PRICING: 'contract', MARKETPLACE_PRODUCT_SKU: expect.any(String) });
    for (const item of String(config().MARKETPLACE_ENTITLEMENT).split(','))
      expect(item).toMatch(/^[^:]+:[A-Za-z/]+(:[^:]+)?$/);
  });

  it('gates nothing on the entitlement file (contract pricing writes none): the app has no exec probe', () => {
    const app = container(podSpec(k), 'app');
    expect(app.readinessProbe).toBeUndefined();
  });

  it('leaves serve the pod termination grace period to check the licence in', () => {
    expect(podSpec(k).terminationGracePeriodSeconds ?? 30).toBeGreaterThanOrEqual(30);
  });
});

describe('overlay: run wrapper', () => {
  const k = 'k8s/overlays/run-wrapper';

  it('has no init container; the app entrypoint is `run --` followed by the app command', () => {
    const spec = podSpec(k);
    expect(spec.initContainers ?? []).toHaveLength(0);
    const app = container(spec, 'app');
    expect(app.command).toEqual([...CONTRACT.cli, 'run', '--']);
    expect(
      app.args?.length,
      'Kubernetes ignores the image CMD once command is set: args must hold the app command',
    ).toBeGreaterThan(0);
  });

  it('lets `run` write the entitlement file, and still gates readiness on `check`', () => {
    const app = container(podSpec(k), 'app');
    expect(mount(app, CONTRACT.outDir)?.readOnly).toBe(false);
    expect(app.readinessProbe?.exec?.command).toEqual([...CONTRACT.cli, 'check']);
  });

  it('adds the measured footprint of the wrapper to the app container', () => {
    const base = container(podSpec('k8s/base'), 'app').resources!;
    const wrapped = container(podSpec(k), 'app').resources!;
    const mib = (q: string | number | undefined) => quantity(q) / 1024 ** 2;
    expect(mib(wrapped.requests!.memory) - mib(base.requests!.memory)).toBeGreaterThanOrEqual(
      MEASURED_PEAK_MIB.run * 0.8,
    );
    expect(mib(wrapped.limits!.memory) - mib(base.limits!.memory)).toBeGreaterThanOrEqual(MEASURED_PEAK_MIB.run * 0.8);
  });
});

describe('Pod Security checker', () => {
  it('is not a no-op: it reports each weakened setting', () => {
    const spec = structuredClone(podSpec('k8s/base'));
    expect(restrictedViolations(spec)).toEqual([]);
    delete spec.initContainers![0]!.securityContext!.allowPrivilegeEscalation;
    spec.containers[0]!.securityContext!.capabilities = { add: ['SYS_ADMIN'], drop: [] };
    spec.containers[0]!.securityContext!.readOnlyRootFilesystem = false;
    delete spec.securityContext!.seccompProfile;
    spec.volumes!.push({ name: 'host', hostPath: { path: '/' } });
    const violations = restrictedViolations(spec).join('\n');
    for (const expected of [
      'allowPrivilegeEscalation',
      'drop ALL',
      'SYS_ADMIN',
      'readOnlyRootFilesystem',
      'seccompProfile',
      'hostPath',
    ]) {
      expect(violations).toContain(expected);
    }
  });
});
