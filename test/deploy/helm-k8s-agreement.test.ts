/**
 * The Helm chart and k8s/ agree: each kustomization rendered with `kubectl kustomize` and the example chart with the
 * matching values render the same Deployment. Needs kubectl, so it runs in `npm run test:interop`.
 */
import { describe, expect, it } from 'vitest';
import { renderExampleApp } from '../../scripts/helm.mjs';
import { type Doc, deploymentOf, kustomize, parseYamlDocs, path } from './helpers.js';

const UNSEALED_KEY = { 'marketplace-entitlement.publicKey': path('test', 'fixtures', 'aws-doc-example-key.pem') };

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
    for (const d of docs.filter((x) => x.kind === 'ConfigMap')) names[d.metadata.name] = 'public-key.pem' in d.data ? 'PUBLIC-KEY' : 'SETTINGS';
    const walk = (x: unknown): unknown => {
      if (Array.isArray(x)) return x.map(walk);
      if (x && typeof x === 'object') {
        return Object.fromEntries(Object.entries(x)
          // Defaults either side may spell out: readOnly: false, an empty list of init containers.
          .filter(([k, v]) => !(k === 'readOnly' && v === false) && !(Array.isArray(v) && v.length === 0) && v !== null)
          .map(([k, v]) => [k, typeof v === 'string' && v in names ? names[v] : walk(v)]));
      }
      return x;
    };
    return walk(deploymentOf(docs, 'agreement')) as Doc;
  };

  it.each(PAIRS)('%s and the chart with values/%s.yaml render the same Deployment', (dir, values) => {
    const chart = parseYamlDocs(renderExampleApp({
      valuesFiles: [values],
      // The run-wrapper overlay's args are the example's command line; the others leave the command to the image.
      set: { ...K8S_VALUES, ...(values === 'run-wrapper' ? {} : NO_APP_COMMAND) },
      setFile: UNSEALED_KEY,
    }), `helm template ${values}`);
    const kustomized = kustomize(dir);
    const k = canonical(kustomized);
    delete k.metadata.namespace;
    expect(canonical(chart)).toEqual(k);
    const data = (docs: Doc[]) => docs.filter((d) => d.kind === 'ConfigMap').map((d) => Object.keys(d.data).sort()).sort();
    expect(data(chart)).toEqual(data(kustomized));
    const sa = (docs: Doc[]) => docs.find((d) => d.kind === 'ServiceAccount')!;
    expect(sa(chart).metadata.annotations).toEqual(sa(kustomized).metadata.annotations);
    expect(sa(chart).metadata.name).toBe(sa(kustomized).metadata.name);
  });
});
