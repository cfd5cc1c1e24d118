/**
 * The artifacts against the CLI they run: every command line in a manifest, task definition or probe parses with
 * the CLI's own option table (an unknown or misspelled flag fails), its configuration resolves (required options
 * present, values typed), and every `MARKETPLACE_*` variable names an option of a command the pod or task runs.
 * The CLI ignores `MARKETPLACE_*` variables that name no option, so a misspelled one would otherwise be silently
 * replaced by the default.
 */
import { describe, expect, it } from 'vitest';
import type { Container, Probe } from 'kubernetes-types/core/v1.js';
import { envNames, resolveArgs } from '../../cmd/args.js';
import { commands } from '../../cmd/commands.js';
import { parseFast } from '../../cmd/fast-parse.js';
import { ENTITLEMENT_FILE_ENV } from '../../src/entitlement-file/entitlement-file-path.js';
import { renderExampleApp } from '../../scripts/helm.mjs';
import {
  CONTRACT,
  type Doc,
  KUSTOMIZATIONS,
  allContainers,
  kustomize,
  parseYamlDocs,
  path,
  readJson,
  readText,
} from './helpers.js';

/** One container of a pod or task: its `MARKETPLACE_*`-relevant environment and the CLI command lines it runs. */
interface Runner {
  name: string;
  env: Record<string, string>;
  /** Each: [command, ...arguments], i.e. what follows the CLI's path. */
  commandLines: string[][];
}

/** `[command, ...args]` of an argv that runs the CLI, or undefined for anything else. */
const afterCli = (argv: string[] | undefined) =>
  argv && CONTRACT.cli.every((part, i) => argv[i] === part) ? argv.slice(CONTRACT.cli.length) : undefined;

/** Our image's ENTRYPOINT is the CLI, so `args` (Kubernetes) or `command` (ECS) alone is its command line. */
const isOurImage = (image: string | undefined) => /\/marketplace-entitlement:/.test(image ?? '');

function podRunners(docs: Doc[]): Runner[] {
  const configMaps = new Map<string, Record<string, string>>(
    docs.filter((d) => d.kind === 'ConfigMap').map((d) => [d.metadata.name, d.data ?? {}]),
  );
  const spec = docs.find((d) => d.kind === 'Deployment')!.spec.template.spec;
  return allContainers(spec).map((c: Container) => {
    const fromConfigMaps = (c.envFrom ?? []).map((e) => configMaps.get(e.configMapRef?.name ?? '') ?? {});
    const literal = Object.fromEntries(
      (c.env ?? []).filter((e) => e.value !== undefined).map((e) => [e.name, e.value!]),
    );
    const probes: (Probe | undefined)[] = [c.startupProbe, c.readinessProbe, c.livenessProbe];
    const main = c.command ? afterCli([...c.command, ...(c.args ?? [])]) : isOurImage(c.image) ? c.args : undefined;
    return {
      name: c.name,
      env: Object.assign({}, ...fromConfigMaps, literal),
      commandLines: [main, ...probes.map((p) => afterCli(p?.exec?.command))].filter(
        (x): x is string[] => x !== undefined,
      ),
    };
  });
}

function taskRunners(td: Doc): Runner[] {
  return td.containerDefinitions.map((c: Doc) => {
    const health: string[] | undefined = c.healthCheck?.command;
    return {
      name: c.name,
      env: Object.fromEntries((c.environment ?? []).map((e: Doc) => [e.name, e.value])),
      commandLines: [
        isOurImage(c.image) ? c.command : undefined,
        health?.[0] === 'CMD' ? afterCli(health.slice(1)) : undefined,
      ].filter((x): x is string[] => x !== undefined),
    };
  });
}

/** Every way the runners' command lines and `MARKETPLACE_*` variables disagree with the CLI (empty when none). */
function cliContractViolations(runners: Runner[]): string[] {
  const v: string[] = [];
  const read = new Set([ENTITLEMENT_FILE_ENV]); // the app's variable (createEntitlementGate), set by `run` too
  for (const r of runners) {
    for (const [name, ...rest] of r.commandLines) {
      const where = `${r.name}: ${[name, ...rest].join(' ')}`;
      const spec = commands.find((c) => c.name === name);
      if (!spec) {
        v.push(`${where}: no command ${name}`);
        continue;
      }
      for (const [option, o] of Object.entries(spec.options))
        for (const variable of envNames(option, o)) read.add(variable);
      const end = spec.passThrough && rest.includes('--') ? rest.indexOf('--') : rest.length;
      const raw = parseFast(spec, rest.slice(0, end));
      if (!raw) {
        v.push(`${where}: the command line does not parse (unknown or misspelled flag, missing value)`);
        continue;
      }
      try {
        const args = resolveArgs(spec, raw, r.env);
        // Only hourly pricing verifies a signed answer: custom and contract read no key.
        const needsKey = 'public-key-file' in spec.options && (args.pricing ?? 'hourly') === 'hourly';
        if (needsKey && (args['public-key-file'] === undefined) === (args['public-key'] === undefined)) {
          v.push(`${where}: needs exactly one of --public-key-file / --public-key (or their MARKETPLACE_* variables)`);
        }
      } catch (err) {
        v.push(`${where}: ${(err as Error).message}`);
      }
    }
  }
  for (const r of runners) {
    for (const name of Object.keys(r.env)) {
      if (name.startsWith('MARKETPLACE_') && !read.has(name))
        v.push(`${r.name}: ${name} names no option of a command this pod or task runs`);
    }
  }
  return v;
}

const TASK_DEFINITIONS = [
  'ecs/task-definition.json',
  'ecs/task-definition-sidecar.json',
  'ecs/task-definition-contract.json',
];

describe('command lines and MARKETPLACE_* variables match the CLI', () => {
  it.each(KUSTOMIZATIONS)('rendered %s', (k) => {
    const runners = podRunners(kustomize(k));
    expect(
      runners.flatMap((r) => r.commandLines).length,
      'found no CLI command line: the extraction is broken',
    ).toBeGreaterThan(0);
    expect(cliContractViolations(runners)).toEqual([]);
  });

  // Unsealed (product code and key as values), so the configuration resolves as it would in the pod.
  it.each(['init-container', 'native-sidecar', 'run-wrapper'])(
    'helm template charts/example-app with values/%s.yaml',
    (values) => {
      const text = renderExampleApp({
        valuesFiles: [values],
        set: { 'marketplace-entitlement.productCode': 'abc123' },
        setFile: { 'marketplace-entitlement.publicKey': path('test', 'fixtures', 'aws-doc-example-key.pem') },
      });
      const runners = podRunners(parseYamlDocs(text, `helm template ${values}`));
      expect(
        runners.flatMap((r) => r.commandLines).length,
        'found no CLI command line: the extraction is broken',
      ).toBeGreaterThan(0);
      expect(cliContractViolations(runners)).toEqual([]);
    },
  );

  it.each(TASK_DEFINITIONS)('%s', (file) => {
    const runners = taskRunners(readJson(file));
    expect(
      runners.flatMap((r) => r.commandLines).length,
      'found no CLI command line: the extraction is broken',
    ).toBeGreaterThan(0);
    expect(cliContractViolations(runners)).toEqual([]);
  });

  it('every MARKETPLACE_* name in the Dockerfile and docs/deployment.md is an option of some command', () => {
    const known = new Set([
      ENTITLEMENT_FILE_ENV,
      ...commands.flatMap((c) => Object.entries(c.options).flatMap(([option, o]) => envNames(option, o))),
    ]);
    for (const file of ['Dockerfile', 'docs/deployment.md']) {
      const names = [...readText(file).matchAll(/\bMARKETPLACE_[A-Z][A-Z0-9_]*\b/g)].map((m) => m[0]);
      expect(names.length, file).toBeGreaterThan(0);
      expect(
        names.filter((n) => !known.has(n)),
        file,
      ).toEqual([]);
    }
  });
});

describe('the contract check is not a no-op', () => {
  const sidecarRunners = () => podRunners(kustomize('k8s/overlays/native-sidecar'));

  it('reports a misspelled MARKETPLACE_* variable (the CLI would silently ignore it)', () => {
    const runners = sidecarRunners();
    runners[0]!.env.MARKETPLACE_PUBLIC_KEY_VERISON = '2';
    expect(cliContractViolations(runners).join('\n')).toMatch(/MARKETPLACE_PUBLIC_KEY_VERISON names no option/);
  });

  it('reports an unknown flag, a missing required option and a missing or doubled key', () => {
    const runners = sidecarRunners();
    const sidecar = runners.find((r) => r.commandLines[0]?.[0] === 'serve')!;
    sidecar.commandLines[0] = ['serve', '--hosts', '0.0.0.0'];
    expect(cliContractViolations(runners).join('\n')).toMatch(
      /serve --hosts 0\.0\.0\.0: the command line does not parse/,
    );

    const td = taskRunners(readJson('ecs/task-definition.json'));
    delete td.find((r) => r.name === 'marketplace-entitlement')!.env.MARKETPLACE_PRODUCT_CODE;
    td.find((r) => r.name === 'app')!.env.MARKETPLACE_PUBLIC_KEY_FILE = '/etc/marketplace-entitlement/public-key.pem';
    const violations = cliContractViolations(td).join('\n');
    expect(violations).toMatch(/marketplace-entitlement: register: --product-code is required/);
    expect(violations).toMatch(/app: check: needs exactly one of --public-key-file/);
  });

  it('reads the app container probe of the base and the ECS health check as command lines', () => {
    const app = podRunners(kustomize('k8s/base')).find((r) => r.name === 'app')!;
    expect(app.commandLines).toEqual([['check']]);
    const ecsApp = taskRunners(readJson('ecs/task-definition.json')).find((r) => r.name === 'app')!;
    expect(ecsApp.commandLines).toEqual([['check']]);
  });
});
