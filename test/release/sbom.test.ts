/**
 * dist/sbom.cdx.json, the CycloneDX SBOM of the npm package's bundle, held against the bundle's own metafile
 * (dist/bundle-meta.json: the npm packages with code in an output), the third-party notices, and package-lock.json;
 * and the generator (scripts/sbom.mjs) on hand-made input: package URLs, lockfile hashes, the build timestamp.
 * The image's SBOM is built and checked by `npm run test:container` (scripts/container-arm64.mjs).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
// @ts-expect-error: plain .mjs build scripts without type declarations
import { buildTimestamp, npmPackageSbom, npmPurl } from '../../scripts/sbom.mjs';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');

interface Component {
  type: string;
  'bom-ref': string;
  group?: string;
  name: string;
  version: string;
  purl: string;
  licenses?: { expression: string }[];
  hashes?: { alg: string; content: string }[];
}
const bom = JSON.parse(read('dist/sbom.cdx.json')) as {
  bomFormat: string;
  specVersion: string;
  serialNumber?: string;
  metadata: { timestamp?: string; component: Component };
  components: Component[];
  dependencies: { ref: string; dependsOn?: string[] }[];
};
const fullName = (c: Component) => (c.group ? `${c.group}/${c.name}` : c.name);
const listed = bom.components.map((c) => `${fullName(c)}@${c.version}`);

/** name@version of every npm package with code in a bundle output, read from the metafile and the packages. */
function packagesInBundle(): string[] {
  const meta = JSON.parse(read('dist/bundle-meta.json')) as {
    outputs: Record<string, { inputs: string[]; emptyInputs: string[] }>;
  };
  const dirs = new Set<string>();
  for (const output of Object.values(meta.outputs)) {
    const empty = new Set(output.emptyInputs);
    for (const input of output.inputs) {
      const dir = /^(.*node_modules\/(?:@[^/]+\/)?[^/]+)\//.exec(input)?.[1];
      if (dir && !empty.has(input)) dirs.add(dir);
    }
  }
  return [
    ...new Set(
      [...dirs].map((dir) => {
        const manifest = JSON.parse(read(join(dir, 'package.json'))) as { name: string; version: string };
        return `${manifest.name}@${manifest.version}`;
      }),
    ),
  ].sort();
}

describe('dist/sbom.cdx.json', () => {
  it('is a CycloneDX 1.6 JSON document about this package', () => {
    const project = JSON.parse(read('package.json')) as { name: string; version: string; license: string };
    expect(bom.bomFormat).toBe('CycloneDX');
    expect(bom.specVersion).toBe('1.6');
    expect(bom.metadata.component).toMatchObject({
      type: 'application',
      name: project.name,
      version: project.version,
      purl: `pkg:npm/${project.name}@${project.version}`,
    });
    expect(bom.metadata.component.licenses).toEqual([{ expression: project.license }]);
    // Reproducible: nothing random, no clock.
    expect(bom).not.toHaveProperty('serialNumber');
    if (bom.metadata.timestamp !== undefined)
      expect(bom.metadata.timestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  });

  it('lists exactly the npm packages with code in the bundle (the metafile), each once', () => {
    const inBundle = packagesInBundle();
    expect(inBundle.length).toBeGreaterThan(20);
    expect([...listed].sort()).toEqual(inBundle);
    expect(new Set(listed).size).toBe(listed.length);
    for (const name of ['@aws-sdk/client-marketplace-metering', 'jose', 'yargs', '@smithy/core'])
      expect(
        listed.some((id) => id.startsWith(`${name}@`)),
        name,
      ).toBe(true);
    expect(
      listed.some((id) => /^(vitest|typescript|esbuild)@/.test(id)),
      'no build tool is in the bundle',
    ).toBe(false);
  });

  it('names the same packages, versions and licences as dist/THIRD_PARTY_NOTICES', () => {
    const notices = [...read('dist/THIRD_PARTY_NOTICES').matchAll(/^={78}\n(\S+)@(\S+) \((.*)\)$/gm)].map(
      ([, name, version, license]) => `${name}@${version} ${license}`,
    );
    expect(bom.components.map((c) => `${fullName(c)}@${c.version} ${c.licenses?.[0]?.expression}`)).toEqual(notices);
  });

  it('gives each package its npm package URL and the SHA-512 package-lock.json pins', () => {
    const lock = JSON.parse(read('package-lock.json')) as {
      packages: Record<string, { version?: string; integrity?: string }>;
    };
    for (const c of bom.components) {
      const name = fullName(c);
      expect(c.purl, name).toBe(`pkg:npm/${name.replace(/^@/, '%40')}@${c.version}`);
      expect(c['bom-ref']).toBe(c.purl);
      const locked = Object.entries(lock.packages).filter(
        ([path, entry]) => path.endsWith(`node_modules/${name}`) && entry.version === c.version,
      );
      expect(locked.length, `${name}@${c.version} in package-lock.json`).toBeGreaterThan(0);
      const pinned = locked.map(([, entry]) =>
        Buffer.from(entry.integrity!.replace(/^sha512-/, ''), 'base64').toString('hex'),
      );
      expect(pinned, name).toContain(c.hashes?.find((h) => h.alg === 'SHA-512')?.content);
    }
  });

  it('says the package depends on every component', () => {
    const root = bom.dependencies.find((d) => d.ref === bom.metadata.component['bom-ref']);
    expect([...(root?.dependsOn ?? [])].sort()).toEqual(bom.components.map((c) => c['bom-ref']).sort());
  });
});

describe('scripts/sbom.mjs', () => {
  const project = { name: 'demo', version: '1.2.3', license: 'Apache-2.0', description: 'd' };
  const integrity = `sha512-${Buffer.alloc(64, 7).toString('base64')}`;
  const lock = {
    packages: {
      'node_modules/@scope/a': { version: '1.0.0', integrity },
      'node_modules/b': { version: '9.9.9', integrity }, // another version than the one bundled: no hash claimed
    },
  };
  const packages = [
    { name: '@scope/a', version: '1.0.0', license: 'MIT', dir: 'node_modules/@scope/a' },
    { name: 'b', version: '2.0.0', license: '(MIT OR Apache-2.0)', dir: 'node_modules/x/node_modules/b' },
  ];

  it('encodes scoped names in package URLs, hashes only what the lockfile pins for that version', () => {
    expect(npmPurl('@scope/a', '1.0.0')).toBe('pkg:npm/%40scope/a@1.0.0');
    const doc = npmPackageSbom({ project, packages, lock, timestamp: '2026-01-02T03:04:05Z' });
    expect(doc.components[0]).toMatchObject({
      group: '@scope',
      name: 'a',
      purl: 'pkg:npm/%40scope/a@1.0.0',
      hashes: [{ alg: 'SHA-512', content: '07'.repeat(64) }],
    });
    expect(doc.components[1]).toMatchObject({ name: 'b', licenses: [{ expression: '(MIT OR Apache-2.0)' }] });
    expect(doc.components[1].hashes).toBeUndefined();
    expect(doc.metadata.timestamp).toBe('2026-01-02T03:04:05Z');
    expect(JSON.stringify(npmPackageSbom({ project, packages, lock, timestamp: undefined }))).toBe(
      JSON.stringify(npmPackageSbom({ project, packages, lock, timestamp: undefined })),
    );
  });

  const outside = mkdtempSync(join(tmpdir(), 'sbom-no-git-'));
  afterAll(() => rmSync(outside, { recursive: true, force: true }));

  it('takes the timestamp from SOURCE_DATE_EPOCH, else the commit time, else none; never the clock', () => {
    expect(buildTimestamp(ROOT, { SOURCE_DATE_EPOCH: '1700000000' })).toBe('2023-11-14T22:13:20Z');
    const commitTime = Number(
      execFileSync('git', ['log', '-1', '--format=%ct'], { cwd: ROOT, encoding: 'utf8' }).trim(),
    );
    expect(buildTimestamp(ROOT, {})).toBe(new Date(commitTime * 1000).toISOString().replace('.000Z', 'Z'));
    expect(buildTimestamp(outside, {})).toBeUndefined();
  });

  it('refuses a SOURCE_DATE_EPOCH that is not whole seconds, saying what it needs', () => {
    for (const bad of ['yesterday', '1700000000.5', '-1']) {
      expect(() => buildTimestamp(ROOT, { SOURCE_DATE_EPOCH: bad })).toThrow(
        /SOURCE_DATE_EPOCH must be whole seconds since 1970-01-01 UTC/,
      );
    }
  });
});
