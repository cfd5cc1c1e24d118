/**
 * charts/: the library chart and the example app chart with a real helm (the pinned binary of scripts/helm.mjs).
 * `helm lint --strict` of both, `helm template` of every mode and pricing model with every rendered object validated
 * like k8s/ (kubernetes-models, `satisfies` kubernetes-types under tsc, Pod Security "restricted", measured sizing),
 * the schema's refusals at `helm install` time, the chart agreeing with k8s/, and the docs' values table.
 */
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { PodSpec } from 'kubernetes-types/core/v1.js';
import { HELM_VERSION, exampleAppArgs, exampleAppChart, helm, renderExampleApp } from '../../scripts/helm.mjs';
import { PRODUCT_CODE_PATTERN } from '../../src/registration/register.js';
import {
  CONTRACT,
  type Doc,
  MEASURED_PEAK_MIB,
  allContainers,
  argValue,
  container,
  deploymentOf,
  env,
  expectReferencesResolve,
  kustomize,
  manifestsAsTypeScript,
  mount,
  parseYamlDocs,
  path,
  quantity,
  readJson,
  readText,
  restrictedViolations,
  typecheck,
  validateWithSchema,
} from './helpers.js';

const CLI_OPTION_ENV = [
  'MARKETPLACE_PRICING',
  'MARKETPLACE_PRODUCT_SKU',
  'MARKETPLACE_ENTITLEMENT',
  'MARKETPLACE_CHECKOUT_TYPE',
  'MARKETPLACE_KEY_FINGERPRINT',
];
const MARKETPLACE_ISSUER = 'aws:294406891311:AWS/Marketplace:issuer-fingerprint';
/** A well-formed public key PEM (AWS's documentation example: rendering only; the CLI refuses it at run time). */
const PUBLIC_KEY = path('test', 'fixtures', 'aws-doc-example-key.pem');

/** Every mode, and every pricing model in the modes that serve it. */
const CASES: Record<string, { valuesFiles: string[]; mode: string; pricing: string }> = {
  'init-container': { valuesFiles: ['init-container'], mode: 'initContainer', pricing: 'hourly' },
  'native-sidecar': { valuesFiles: ['native-sidecar'], mode: 'nativeSidecar', pricing: 'hourly' },
  'run-wrapper': { valuesFiles: ['run-wrapper'], mode: 'runWrapper', pricing: 'hourly' },
  'native-sidecar + custom metering': {
    valuesFiles: ['native-sidecar', 'custom-metering'],
    mode: 'nativeSidecar',
    pricing: 'custom',
  },
  'native-sidecar + contract': {
    valuesFiles: ['native-sidecar', 'contract'],
    mode: 'nativeSidecar',
    pricing: 'contract',
  },
  'run-wrapper + contract': { valuesFiles: ['run-wrapper', 'contract'], mode: 'runWrapper', pricing: 'contract' },
};
const UNSEALED = { 'marketplace-entitlement.productCode': 'abc123def456ghi789jkl0mno' };
const UNSEALED_KEY = { 'marketplace-entitlement.publicKey': PUBLIC_KEY };

const rendered = new Map<string, Doc[]>();
/** `helm template` once per case; unsealed (product code and key as values) when asked. */
function render(name: string, unsealed = false): Doc[] {
  const key = `${name}${unsealed ? ' (unsealed)' : ''}`;
  if (!rendered.has(key)) {
    const text = renderExampleApp({
      valuesFiles: CASES[name]!.valuesFiles,
      ...(unsealed ? { set: UNSEALED, setFile: UNSEALED_KEY } : {}),
    });
    rendered.set(key, parseYamlDocs(text, `helm template ${key}`));
  }
  return rendered.get(key)!;
}
const podSpec = (docs: Doc[]) => deploymentOf(docs, 'helm template').spec.template.spec as PodSpec;
const configData = (docs: Doc[]) =>
  docs.find((d) => d.kind === 'ConfigMap' && d.metadata.name.endsWith('-marketplace-entitlement-config'))!
    .data as Record<string, string>;

describe('helm', () => {
  it(`is the pinned ${HELM_VERSION} from the npm registry package (scripts/helm.mjs)`, () => {
    const r = helm(['version', '--template', '{{.Version}}']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe(HELM_VERSION);
  });
});

describe('helm lint --strict', () => {
  it('passes for the library chart', () => {
    const r = helm(['lint', '--strict', path('charts', 'marketplace-entitlement')]);
    expect(r.status, `${r.stdout}${r.stderr}`).toBe(0);
    expect(r.stdout).toMatch(/1 chart\(s\) linted, 0 chart\(s\) failed/);
  });

  it.each(Object.keys(CASES))('passes for example-app with %s values', (name) => {
    const chart = exampleAppChart();
    const r = helm([
      'lint',
      '--strict',
      chart,
      ...CASES[name]!.valuesFiles.flatMap((f) => ['-f', join(chart, 'values', `${f}.yaml`)]),
    ]);
    expect(r.status, `${r.stdout}${r.stderr}`).toBe(0);
    expect(`${r.stdout}${r.stderr}`).not.toMatch(/\[(WARNING|ERROR)\]/);
  });

  it('is not a no-op: a library chart with a broken template fails', () => {
    const dir = mkdtempSync(join(tmpdir(), 'me-lint-'));
    try {
      cpSync(path('charts', 'marketplace-entitlement'), dir, { recursive: true });
      writeFileSync(
        join(dir, 'templates', '_broken.tpl'),
        '{{- define "marketplace-entitlement.broken" -}}{{ .Values.x | nosuchfunction }}{{- end -}}\n',
      );
      const r = helm(['lint', '--strict', dir]);
      expect(r.status).not.toBe(0);
      expect(`${r.stdout}${r.stderr}`).toMatch(/nosuchfunction/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('an empty IRSA role ARN fails at render time, naming the value', () => {
    const r = helm([...exampleAppArgs(), '--set', 'marketplace-entitlement.serviceAccount.roleArn=']);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/serviceAccount\.roleArn is required/);
  });
});

describe.each(Object.keys(CASES))('helm template example-app (%s)', (name) => {
  const { mode, pricing } = CASES[name]!;

  it('renders cleanly: exit 0 and nothing on stderr (no warning)', () => {
    const r = helm(exampleAppArgs({ valuesFiles: CASES[name]!.valuesFiles }));
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
  });

  it('renders a ServiceAccount, the settings ConfigMap and a Deployment, each valid against the Kubernetes schema', () => {
    for (const unsealed of [false, true]) {
      const docs = render(name, unsealed);
      expect(docs.map((d) => d.kind).sort()).toEqual(
        unsealed
          ? ['ConfigMap', 'ConfigMap', 'Deployment', 'ServiceAccount']
          : ['ConfigMap', 'Deployment', 'ServiceAccount'],
      );
      for (const doc of docs) expect(() => validateWithSchema(doc), `${doc.kind} ${doc.metadata?.name}`).not.toThrow();
    }
  });

  it('is Pod Security "restricted" compliant, with a read-only root filesystem everywhere', () => {
    expect(restrictedViolations(podSpec(render(name)))).toEqual([]);
    expect(restrictedViolations(podSpec(render(name, true)))).toEqual([]);
  });

  it('references only ConfigMaps, ServiceAccounts and volumes that exist', () => {
    for (const unsealed of [false, true]) {
      const docs = render(name, unsealed);
      expectReferencesResolve(docs, podSpec(docs));
    }
  });

  it('gives every container POD_UID from the downward API; the key file only for an unsealed image', () => {
    for (const c of allContainers(podSpec(render(name)))) {
      expect(env(c, 'POD_UID')?.valueFrom?.fieldRef?.fieldPath, `${c.name} POD_UID`).toBe('metadata.uid');
      expect(env(c, 'MARKETPLACE_PUBLIC_KEY_FILE'), `${c.name}: a sealed image carries its key`).toBeUndefined();
    }
    expect(
      configData(render(name)).MARKETPLACE_PRODUCT_CODE,
      'a sealed image carries its product code',
    ).toBeUndefined();
    const unsealed = render(name, true);
    for (const c of allContainers(podSpec(unsealed))) {
      expect(env(c, 'MARKETPLACE_PUBLIC_KEY_FILE')?.value, c.name).toBe('/etc/marketplace-entitlement/public-key.pem');
      expect(mount(c, '/etc/marketplace-entitlement')?.readOnly, c.name).toBe(true);
    }
    expect(configData(unsealed).MARKETPLACE_PRODUCT_CODE).toBe(UNSEALED['marketplace-entitlement.productCode']);
    const key = unsealed.find((d) => d.kind === 'ConfigMap' && d.data['public-key.pem']);
    expect(key?.data['public-key.pem']).toBe(readText('test', 'fixtures', 'aws-doc-example-key.pem'));
  });

  it('keeps the entitlement in an in-memory emptyDir, mounted read-only in the app unless `run` writes it', () => {
    const spec = podSpec(render(name));
    const vol = (spec.volumes ?? []).find((v) => v.name === 'entitlement');
    expect(vol?.emptyDir?.medium).toBe('Memory');
    expect(quantity(vol?.emptyDir?.sizeLimit)).toBeLessThanOrEqual(1024 ** 2);
    const app = container(spec, 'app');
    expect(mount(app, CONTRACT.outDir)?.readOnly ?? false).toBe(mode !== 'runWrapper');
    expect(env(app, 'MARKETPLACE_ENTITLEMENT_FILE')?.value).toBe(CONTRACT.outFile);
  });

  it('sizes our containers from the measured peaks, with no CPU limit anywhere', () => {
    const spec = podSpec(render(name));
    for (const c of allContainers(spec)) {
      expect(quantity(c.resources?.requests?.cpu), `${c.name} cpu request`).toBeGreaterThan(0);
      expect(c.resources?.limits?.cpu, `${c.name} has a CPU limit`).toBeUndefined();
    }
    const gate = spec.initContainers?.[0];
    const peak = mode === 'initContainer' ? MEASURED_PEAK_MIB.register : MEASURED_PEAK_MIB.serve;
    if (gate) {
      expect(quantity(gate.resources!.requests!.memory) / 1024 ** 2).toBeGreaterThanOrEqual(peak);
      expect(quantity(gate.resources!.limits!.memory) / 1024 ** 2).toBeGreaterThanOrEqual(peak * 1.5);
    }
    const app = container(spec, 'app').resources!;
    if (mode !== 'nativeSidecar') {
      expect(
        (quantity(app.limits!.memory) - quantity(app.requests!.memory)) / 1024 ** 2,
        'room for the exec check probe',
      ).toBeGreaterThanOrEqual(MEASURED_PEAK_MIB.check);
    }
  });

  it(`maps pricing model ${pricing} onto the CLI's options (environment names)`, () => {
    const data = configData(render(name));
    const spec = podSpec(render(name));
    const present = CLI_OPTION_ENV.filter((k) => k in data);
    if (pricing === 'hourly') {
      expect(present, 'hourly is the CLI default: nothing to set').toEqual([]);
    } else if (pricing === 'custom') {
      expect(data).toMatchObject({ MARKETPLACE_PRICING: 'custom', MARKETPLACE_METER_DIMENSIONS: 'requests,gb_stored' });
      const sidecar = spec.initContainers![0]!;
      expect(sidecar.args?.[0]).toBe('serve');
      expect(
        mount(sidecar, '/var/lib/marketplace-entitlement/usage')?.readOnly ?? false,
        'serve spools usage here (read-only root)',
      ).toBe(false);
      expect(spec.volumes?.find((v) => v.name === 'usage-spool')?.emptyDir).toBeDefined();
    } else {
      expect(data).toEqual(
        expect.objectContaining({
          MARKETPLACE_PRICING: 'contract',
          MARKETPLACE_PRODUCT_SKU: '2a7c4d8e-1f3b-4c5d-9e6f-7a8b9c0d1e2f',
          MARKETPLACE_ENTITLEMENT: 'ReadOnlyUsers:Count:1,PremiumTier:None',
          MARKETPLACE_CHECKOUT_TYPE: 'PROVISIONAL',
          MARKETPLACE_KEY_FINGERPRINT: MARKETPLACE_ISSUER,
        }),
      );
      const gate = mode === 'runWrapper' ? container(spec, 'app') : spec.initContainers![0]!;
      expect(gate.envFrom?.[0]?.configMapRef?.name).toBe('my-app-marketplace-entitlement-config');
    }
  });

  if (mode === 'initContainer') {
    it('runs `register` in a plain init container and gates readiness on `check` in the app', () => {
      const spec = podSpec(render(name));
      expect(spec.initContainers).toHaveLength(1);
      const init = container(spec, 'marketplace-entitlement');
      expect(init.args).toEqual(['register']);
      expect(init.restartPolicy).toBeUndefined();
      expect(mount(init, CONTRACT.outDir)?.readOnly ?? false).toBe(false);
      expect(init.securityContext?.runAsUser).toBe(CONTRACT.uid);
      expect(container(spec, 'app').readinessProbe?.exec?.command).toEqual([...CONTRACT.cli, 'check']);
      expect(container(spec, 'app').livenessProbe).toBeUndefined();
    });
  }
  if (mode === 'nativeSidecar') {
    it('runs `serve` as a native sidecar whose startup probe outlasts the 30 min retry window', () => {
      const spec = podSpec(render(name));
      const sidecar = spec.initContainers![0]!;
      expect(sidecar.restartPolicy).toBe('Always');
      expect(sidecar.args?.[0]).toBe('serve');
      const port = Number(argValue(sidecar.args, '--port'));
      expect(argValue(sidecar.args, '--host')).toMatch(/^(0\.0\.0\.0|::)$/);
      expect(sidecar.ports?.map((p) => p.containerPort)).toContain(port);
      for (const probe of [sidecar.startupProbe, sidecar.readinessProbe]) {
        expect(probe?.httpGet?.path).toBe('/healthz');
        expect(probe?.httpGet?.port).toBe(port);
      }
      const s = sidecar.startupProbe!;
      expect((s.periodSeconds ?? 10) * (s.failureThreshold ?? 3)).toBeGreaterThanOrEqual(30 * 60);
      const app = container(spec, 'app');
      expect(app.readinessProbe, 'the app image needs nothing').toBeUndefined();
      expect((app.ports ?? []).map((p) => p.containerPort)).not.toContain(port);
    });
  }
  if (mode === 'runWrapper') {
    it("makes the app's command `run -- <its command and args>`, with no init container", () => {
      const spec = podSpec(render(name));
      expect(spec.initContainers ?? []).toHaveLength(0);
      const app = container(spec, 'app');
      expect(app.command).toEqual([...CONTRACT.cli, 'run', '--']);
      expect(app.args).toEqual(['/usr/local/bin/my-app', '--listen', ':8080']);
      expect(app.readinessProbe?.exec?.command).toEqual([...CONTRACT.cli, 'check']);
      const base = container(podSpec(render('init-container')), 'app').resources!;
      const mib = (q: string | number | undefined) => quantity(q) / 1024 ** 2;
      expect(mib(app.resources!.requests!.memory) - mib(base.requests!.memory)).toBeGreaterThanOrEqual(
        MEASURED_PEAK_MIB.run * 0.8,
      );
    });
  }
});

describe('every rendered manifest satisfies kubernetes-types 1.30 (tsc --noEmit)', () => {
  it('compiles, and a misspelled field in a rendered copy does not', { timeout: 120_000 }, () => {
    const files: Record<string, string> = {};
    for (const name of Object.keys(CASES)) {
      files[`helm-${name.replace(/[^a-z]+/g, '-')}.ts`] = manifestsAsTypeScript(render(name, true));
    }
    const broken = structuredClone(render('native-sidecar'));
    const sidecar = deploymentOf(broken, 'broken').spec.template.spec.initContainers[0];
    sidecar.startupProbe.httpGet.prot = sidecar.startupProbe.httpGet.port;
    files['helm-broken.ts'] = manifestsAsTypeScript(broken);
    const result = typecheck(files);
    for (const name of Object.keys(files).filter((f) => f !== 'helm-broken.ts'))
      expect(result.errors[name], result.output).toEqual([]);
    expect(result.errors['helm-broken.ts']!.join('\n')).toMatch(/prot/);
  });
});

describe('values.schema.json refuses bad values at `helm install` time', () => {
  const REFUSED: Array<[string, Record<string, string>, RegExp]> = [
    ['an unknown mode', { mode: 'none' }, /\/mode/],
    ['a switch that does not exist', { enabled: 'false' }, /additional properties 'enabled'/],
    ['an unknown pricing model', { 'pricing.model': 'free' }, /\/pricing\/model/],
    ['a malformed product code', { productCode: 'not a code!', publicKey: 'x' }, /\/productCode/],
    ['a product code without its public key', { productCode: 'abc123' }, /publicKey/],
    ['a public key that is not PEM', { productCode: 'abc123', publicKey: 'MIIB' }, /\/publicKey/],
    ['custom metering without dimensions', { mode: 'nativeSidecar', 'pricing.model': 'custom' }, /meterDimensions/],
    [
      'custom metering outside the native sidecar',
      { 'pricing.model': 'custom', 'pricing.meterDimensions[0]': 'requests' },
      /\/mode/,
    ],
    [
      'contract pricing in an init container (register refuses it)',
      {
        'pricing.model': 'contract',
        'pricing.productSku': 'sku',
        'pricing.entitlements[0].name': 'Users',
        'pricing.entitlements[0].unit': 'Count',
      },
      /\/mode/,
    ],
    [
      'contract pricing without a product SKU',
      {
        mode: 'runWrapper',
        'pricing.model': 'contract',
        'pricing.entitlements[0].name': 'Users',
        'pricing.entitlements[0].unit': 'Count',
      },
      /productSku/,
    ],
    [
      'an entitlement unit License Manager does not have',
      {
        mode: 'runWrapper',
        'pricing.model': 'contract',
        'pricing.productSku': 'sku',
        'pricing.entitlements[0].name': 'Users',
        'pricing.entitlements[0].unit': 'Seats',
      },
      /unit/,
    ],
    [
      'a key fingerprint (pinned to the AWS Marketplace issuer)',
      { 'pricing.keyFingerprint': 'aws:111122223333:Mine:issuer-fingerprint' },
      /keyFingerprint/,
    ],
    ['the latest tag', { 'image.tag': 'latest' }, /\/image\/tag/],
    ['a CPU limit', { 'resources.register.limits.cpu': '100m' }, /cpu/],
    ['a malformed role ARN', { 'serviceAccount.roleArn': 'my-role' }, /roleArn/],
    ['a sidecar port out of range', { 'sidecar.port': '70000' }, /\/sidecar\/port/],
    [
      'a node architecture the image index does not have',
      { nodeArchitectures: '{arm64,s390x}' },
      /\/nodeArchitectures\/1/,
    ],
  ];

  it.each(REFUSED)('refuses %s', (_what, values, message) => {
    const set = Object.fromEntries(Object.entries(values).map(([k, v]) => [`marketplace-entitlement.${k}`, v]));
    const args = exampleAppArgs({ set });
    const r = helm(['install', ...args.slice(1), '--dry-run=client']);
    expect(r.status, r.stdout).not.toBe(0);
    expect(r.stderr).toMatch(/values don't meet the specifications of the schema/);
    expect(r.stderr).toMatch(message);
  });

  it('accepts the example values (so the refusals above are the values, not the command)', () => {
    const r = helm([
      'install',
      ...exampleAppArgs({ valuesFiles: ['run-wrapper', 'contract'] }).slice(1),
      '--dry-run=client',
    ]);
    expect(r.status, r.stderr).toBe(0);
  });

  it("uses the CLI's own product code pattern", () => {
    const schema = readJson('charts/marketplace-entitlement/values.schema.json');
    expect(schema.properties.productCode.pattern).toBe(PRODUCT_CODE_PATTERN.source);
  });

  it('refuses, at render time, an app readiness probe where the gate owns it, and keeps it with the native sidecar', () => {
    const probe = ['--set-json', 'app.readinessProbe={"httpGet":{"path":"/ready","port":8080}}'];
    const init = helm([...exampleAppArgs(), ...probe]);
    expect(init.status).not.toBe(0);
    expect(init.stderr).toMatch(
      /container app has a readinessProbe, but in mode initContainer the gate's `check` is the readiness probe/,
    );
    const sidecar = parseYamlDocs(renderExampleApp({ valuesFiles: ['native-sidecar'], set: {} }), 'sidecar');
    expect(container(podSpec(sidecar), 'app').readinessProbe).toBeUndefined();
    const r = helm([...exampleAppArgs({ valuesFiles: ['native-sidecar'] }), ...probe]);
    expect(r.status, r.stderr).toBe(0);
    expect(container(podSpec(parseYamlDocs(r.stdout, 'sidecar + probe')), 'app').readinessProbe?.httpGet?.path).toBe(
      '/ready',
    );
  });
});

describe('node architectures (the image is one index for amd64 and arm64)', () => {
  const archAffinity = (docs: Doc[]) =>
    podSpec(docs).affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms.flatMap(
      (t) => t.matchExpressions ?? [],
    );

  it.each(Object.keys(CASES))('%s: the pod may be scheduled on amd64 and arm64 nodes, and on no other', (name) => {
    expect(archAffinity(render(name))).toEqual([
      { key: 'kubernetes.io/arch', operator: 'In', values: ['amd64', 'arm64'] },
    ]);
  });

  it('nodeArchitectures={arm64} pins the pod to Graviton (arm64) nodes', () => {
    const docs = parseYamlDocs(
      renderExampleApp({ set: { 'marketplace-entitlement.nodeArchitectures': '{arm64}' } }),
      'arm64 only',
    );
    expect(archAffinity(docs)).toEqual([{ key: 'kubernetes.io/arch', operator: 'In', values: ['arm64'] }]);
  });
});

describe('the chart and k8s/ agree (one source of truth for the manifests)', () => {
  // k8s/ as values: its product code placeholder, its images, no app command (k8s/base leaves it to the image).
  const K8S_VALUES = { 'marketplace-entitlement.productCode': 'REPLACE_WITH_PRODUCT_CODE' };
  const NO_APP_COMMAND = { 'app.command': 'null', 'app.args': 'null' };
  const PAIRS: Array<[string, string]> = [
    ['k8s/base', 'init-container'],
    ['k8s/overlays/native-sidecar', 'native-sidecar'],
    ['k8s/overlays/run-wrapper', 'run-wrapper'],
  ];
  /** ConfigMap names stand for what they hold (kustomize appends a hash, the chart the release name). */
  const canonical = (docs: Doc[]) => {
    const names: Record<string, string> = {};
    for (const d of docs.filter((x) => x.kind === 'ConfigMap'))
      names[d.metadata.name] = 'public-key.pem' in d.data ? 'PUBLIC-KEY' : 'SETTINGS';
    const walk = (x: unknown): unknown => {
      if (Array.isArray(x)) return x.map(walk);
      if (x && typeof x === 'object') {
        return Object.fromEntries(
          Object.entries(x)
            // Defaults either side may spell out: readOnly: false, an empty list of init containers.
            .filter(
              ([k, v]) => !(k === 'readOnly' && v === false) && !(Array.isArray(v) && v.length === 0) && v !== null,
            )
            .map(([k, v]) => [k, typeof v === 'string' && v in names ? names[v] : walk(v)]),
        );
      }
      return x;
    };
    return walk(deploymentOf(docs, 'agreement')) as Doc;
  };

  it.each(PAIRS)('%s and the chart with values/%s.yaml render the same Deployment', (dir, values) => {
    const chart = parseYamlDocs(
      renderExampleApp({
        valuesFiles: [values],
        // The run-wrapper overlay's args are the example's command line; the others leave the command to the image.
        set: { ...K8S_VALUES, ...(values === 'run-wrapper' ? {} : NO_APP_COMMAND) },
        setFile: UNSEALED_KEY,
      }),
      `helm template ${values}`,
    );
    const kustomized = kustomize(dir);
    const k = canonical(kustomized);
    delete k.metadata.namespace;
    expect(canonical(chart)).toEqual(k);
    const data = (docs: Doc[]) =>
      docs
        .filter((d) => d.kind === 'ConfigMap')
        .map((d) => Object.keys(d.data).sort())
        .sort();
    expect(data(chart)).toEqual(data(kustomized));
    const sa = (docs: Doc[]) => docs.find((d) => d.kind === 'ServiceAccount')!;
    expect(sa(chart).metadata.annotations).toEqual(sa(kustomized).metadata.annotations);
    expect(sa(chart).metadata.name).toBe(sa(kustomized).metadata.name);
  });
});

describe('docs/deployment.md values table', () => {
  const schema = readJson('charts/marketplace-entitlement/values.schema.json');
  /** Leaf paths of the schema (`pricing.model`, `resources.register`), following $ref to definitions as leaves. */
  const leaves = (node: Doc, prefix: string): string[] =>
    Object.entries(node.properties ?? {}).flatMap(([k, v]: [string, any]) => {
      const p = prefix ? `${prefix}.${k}` : k;
      return v.properties && !v.$ref ? leaves(v, p) : [p];
    });
  const table = () => {
    const doc = readText('docs', 'deployment.md');
    const start = doc.indexOf('### Values');
    const section = doc.slice(start, doc.indexOf('\n### ', start + 1));
    return Object.fromEntries(
      [...section.matchAll(/^\| `([a-zA-Z.]+)` \| ([^|]*) \|/gm)].map((m) => [m[1]!, m[2]!.trim()]),
    );
  };

  it('lists every value of the schema, and nothing else', () => {
    expect(Object.keys(table()).sort()).toEqual(
      leaves(schema, '')
        .filter((p) => p !== 'global')
        .sort(),
    );
  });

  it("gives each value's default from the library chart's values.yaml", () => {
    const defaults = parseYamlDocs(readText('charts', 'marketplace-entitlement', 'values.yaml'), 'values.yaml')[0]!;
    for (const [key, shown] of Object.entries(table())) {
      const value = key.split('.').reduce<any>((o, k) => o?.[k], defaults);
      const expected =
        value === undefined
          ? ''
          : `\`${typeof value === 'object' || value === '' ? JSON.stringify(value) : String(value)}\``;
      expect(shown, key).toBe(expected);
    }
  });
});
