/**
 * The strict check kubernetes-models cannot do: every rendered manifest (base and overlays) and every raw base
 * file is emitted as `export const d = <json> satisfies <Kind>` with kubernetes-types@1.30 and every ECS task
 * definition as `satisfies RegisterTaskDefinitionCommandInput` (@aws-sdk/client-ecs), then `tsc --noEmit` runs
 * once over all of them. Deliberately broken copies prove that an unknown or misspelled field fails.
 */
import { describe, expect, it } from 'vitest';
import {
  type Doc,
  KUSTOMIZATIONS,
  type TypecheckResult,
  kustomize,
  manifestsAsTypeScript,
  parseYamlDocs,
  readJson,
  readText,
  typecheck,
} from './helpers.js';

const TASK_DEFINITIONS = [
  'ecs/task-definition.json',
  'ecs/task-definition-sidecar.json',
  'ecs/task-definition-contract.json',
];
const RAW_MANIFESTS = ['k8s/base/serviceaccount.yaml', 'k8s/base/deployment.yaml'];

const fileName = (source: string) => `${source.replace(/[^a-z0-9]+/gi, '-')}.ts`;
const taskDefinitionAsTypeScript = (td: Doc) =>
  `import type { RegisterTaskDefinitionCommandInput } from '@aws-sdk/client-ecs';\n` +
  `export const td = ${JSON.stringify(td, null, 2)} satisfies RegisterTaskDefinitionCommandInput;\n`;

const files: Record<string, string> = {};
let outcome: TypecheckResult | Error | undefined;

/** Generates every file and runs tsc once; a failure (kubectl missing, tsc crashing) fails every test. */
function check(): TypecheckResult {
  outcome ??= (() => {
    try {
      return generateAndCheck();
    } catch (err) {
      return err as Error;
    }
  })();
  if (outcome instanceof Error) throw outcome;
  return outcome;
}

function generateAndCheck(): TypecheckResult {
  for (const k of KUSTOMIZATIONS) files[fileName(`rendered ${k}`)] = manifestsAsTypeScript(kustomize(k));
  for (const f of RAW_MANIFESTS) files[fileName(f)] = manifestsAsTypeScript(parseYamlDocs(readText(f), f));
  for (const f of TASK_DEFINITIONS) files[fileName(f)] = taskDefinitionAsTypeScript(readJson(f));

  // Broken copies: each must fail, for the reason given.
  const base = kustomize('k8s/base');
  const misspelled = structuredClone(base);
  const app = misspelled.find((d) => d.kind === 'Deployment')!.spec.template.spec.containers[0];
  app.readinesProbe = app.readinessProbe ?? { exec: { command: ['check'] } };
  delete app.readinessProbe;
  files['broken-readinesProbe.ts'] = manifestsAsTypeScript(misspelled);

  const sidecar = structuredClone(kustomize('k8s/overlays/native-sidecar'));
  const init = sidecar.find((d) => d.kind === 'Deployment')!.spec.template.spec.initContainers[0];
  init.startupProbe = { ...init.startupProbe, httpGet: { path: '/healthz', prot: 9611 } };
  files['broken-httpGet-prot.ts'] = manifestsAsTypeScript(sidecar);

  const td = readJson('ecs/task-definition.json');
  td.containerDefinitions[0].essentail = td.containerDefinitions[0].essential;
  files['broken-ecs-essentail.ts'] = taskDefinitionAsTypeScript(td);

  // Graviton: the same task definitions pinned to ARM64 (the image index has both); a misspelled architecture fails.
  for (const f of TASK_DEFINITIONS) {
    const arm = readJson(f);
    arm.runtimePlatform.cpuArchitecture = 'ARM64';
    files[fileName(`${f} on ARM64`)] = taskDefinitionAsTypeScript(arm);
  }
  const aarch = readJson('ecs/task-definition.json');
  aarch.runtimePlatform.cpuArchitecture = 'AARCH64';
  files['broken-ecs-aarch64.ts'] = taskDefinitionAsTypeScript(aarch);

  const td2 = readJson('ecs/task-definition-sidecar.json');
  td2.containerDefinitions[1].dependsOn[0].condition = 'HEALTHYY';
  files['broken-ecs-condition.ts'] = taskDefinitionAsTypeScript(td2);

  return typecheck(files);
}

describe('strict type check (satisfies + tsc --noEmit)', () => {
  it('tsc ran over every generated file', { timeout: 120_000 }, () => {
    const result = check();
    expect(result.status, result.output).not.toBeNull();
    expect(Object.keys(result.errors)).toEqual(expect.arrayContaining(Object.keys(files)));
    expect(result.errors['<other>'] ?? [], result.output).toEqual([]);
  });

  it.each([...KUSTOMIZATIONS.map((k) => `rendered ${k}`), ...RAW_MANIFESTS])(
    '%s satisfies kubernetes-types 1.30',
    (source) => {
      const result = check();
      expect(result.errors[fileName(source)], result.output).toEqual([]);
    },
  );

  it.each([...TASK_DEFINITIONS, ...TASK_DEFINITIONS.map((f) => `${f} on ARM64`)])(
    '%s satisfies RegisterTaskDefinitionCommandInput',
    (source) => {
      const result = check();
      expect(result.errors[fileName(source)], result.output).toEqual([]);
    },
  );

  it.each([
    ['broken-readinesProbe.ts', /readinesProbe/],
    ['broken-httpGet-prot.ts', /prot|port/],
    ['broken-ecs-essentail.ts', /essentail/],
    ['broken-ecs-condition.ts', /HEALTHYY/],
    ['broken-ecs-aarch64.ts', /AARCH64/],
  ])('a deliberately broken copy fails: %s', (file, reason) => {
    const result = check();
    const errors = result.errors[file] ?? [];
    expect(errors.length, `tsc accepted ${file}:\n${files[file]!.slice(0, 400)}`).toBeGreaterThan(0);
    expect(errors.join('\n')).toMatch(reason);
  });
});
