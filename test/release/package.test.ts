/**
 * What the npm package ships, from `npm pack --dry-run --json` over the built tree: the library (JS + .d.ts, no
 * source maps into unshipped sources), the bundled CLI with its third-party notices, the licence, the docs and the
 * deployment manifests; nothing else. And the third-party notices generator on a hand-made node_modules.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs build script without type declarations
import { writeThirdPartyNotices } from '../../scripts/third-party-notices.mjs';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as Record<string, any>;

function filesUnder(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => relative(ROOT, join(entry.parentPath, entry.name)));
}

const packed = JSON.parse(
  execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: ROOT, encoding: 'utf8' }),
)[0] as {
  files: { path: string }[];
};
const shipped = new Set(packed.files.map((f) => f.path));

describe('the npm package', () => {
  it('ships exactly the library, the bundled CLI, notices, SBOM, licence, docs, deployment manifests and Helm charts', () => {
    const library = filesUnder('src')
      .filter((f) => f.endsWith('.ts'))
      .flatMap((f) => [`dist/${f.replace(/\.ts$/, '.js')}`, `dist/${f.replace(/\.ts$/, '.d.ts')}`]);
    const expected = [
      'package.json',
      'README.md',
      'LICENSE',
      'CHANGELOG.md',
      'SECURITY.md',
      'dist/cli.cjs',
      'dist/cli.mjs',
      ...filesUnder('dist/chunks'),
      'dist/THIRD_PARTY_NOTICES',
      'dist/sbom.cdx.json',
      ...library,
      // Tracked files only (what .gitignore keeps out, e.g. `helm dependency build` output, npm does too), never a .gitignore.
      ...execFileSync('git', ['ls-files', '--', 'docs', 'k8s', 'charts', 'ecs', 'iam'], { cwd: ROOT, encoding: 'utf8' })
        .split('\n')
        .filter((f) => f !== '' && !f.endsWith('.gitignore')),
    ];
    expect([...shipped].sort()).toEqual([...new Set(expected)].sort());
  });

  it('points main, types, every entry point of exports (each condition) and bin at shipped files', () => {
    const entries = Object.values(manifest.exports).filter((e): e is Record<string, string> => typeof e === 'object');
    expect(entries.length).toBeGreaterThan(1);
    const targets = [
      manifest.main,
      manifest.types,
      ...entries.flatMap((e) => Object.values(e)),
      manifest.bin['marketplace-entitlement'],
    ];
    for (const target of targets) expect(shipped, target).toContain(target.replace(/^\.\//, ''));
    expect(manifest.exports['.'].types).toBe(manifest.types);
  });

  it('maps each subpath to the same .d.ts for TypeScript that reads no exports (typesVersions) as exports does', () => {
    const fromExports = Object.entries(manifest.exports)
      .filter(([subpath, e]) => subpath !== '.' && typeof e === 'object')
      .map(([subpath, e]) => [subpath.slice(2), [(e as { types: string }).types]]);
    expect(manifest.typesVersions).toEqual({ '*': Object.fromEntries(fromExports) });
  });

  it('depends at run time on exactly the packages the unbundled library imports', () => {
    const imported = new Set<string>();
    for (const file of [...shipped].filter((f) => f.startsWith('dist/src/') && f.endsWith('.js'))) {
      const code = readFileSync(join(ROOT, file), 'utf8')
        .split('\n')
        .filter((line) => !/^\s*(\*|\/\/|\/\*)/.test(line)); // not doc comments
      for (const [, specifier] of code.join('\n').matchAll(/(?:from|import\()\s*'([^'.][^']*)'/g)) {
        if (!specifier!.startsWith('node:'))
          imported.add(
            specifier!
              .split('/')
              .slice(0, specifier!.startsWith('@') ? 2 : 1)
              .join('/'),
          );
      }
    }
    expect(Object.keys(manifest.dependencies).sort()).toEqual([...imported].sort());
    expect(manifest.dependencies).not.toHaveProperty('yargs');
  });

  it('says where the source, the issues and the licence are, and which Node versions it supports', () => {
    expect(manifest.repository.url).toMatch(/^git\+https:\/\//);
    expect(manifest.homepage).toMatch(/^https:\/\//);
    expect(manifest.bugs.url).toMatch(/^https:\/\//);
    expect(manifest.license).toBe('Apache-2.0');
    expect(readFileSync(join(ROOT, 'LICENSE'), 'utf8')).toContain(
      'Apache License\n                           Version 2.0, January 2004',
    );
    expect(manifest.engines.node).toBe('>=22.12');
  });

  it('CI tests the Node lines engines and the README claim', () => {
    const tested =
      /for version in ([\d. ]+); do/
        .exec(readFileSync(join(ROOT, '.ci', 'run'), 'utf8'))?.[1]
        ?.trim()
        .split(/\s+/) ?? [];
    const [minMajor, minMinor] = manifest.engines.node.replace('>=', '').split('.').map(Number) as [number, number];
    expect(tested.map((v) => Number(v.split('.')[0]))).toEqual([22, 24]);
    for (const version of tested) {
      const [major, minor] = version.split('.').map(Number) as [number, number];
      expect(
        major > minMajor || (major === minMajor && minor >= minMinor),
        `${version} satisfies ${manifest.engines.node}`,
      ).toBe(true);
    }
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    expect(readme).toContain('Node.js 22.12 or later');
    expect(readme).toContain(`then again on ${tested.join(' and ')} (official binaries)`);
  });

  it('carries the notices of what the bundle redistributes', () => {
    const notices = readFileSync(join(ROOT, 'dist', 'THIRD_PARTY_NOTICES'), 'utf8');
    for (const name of ['@aws-sdk/client-marketplace-metering', 'jose', 'yargs', 'yargs-parser', '@smithy/core']) {
      expect(notices).toMatch(new RegExp(`^${name.replace('/', '\\/')}@\\d+\\.\\d+\\.\\d+ \\(`, 'm'));
    }
    expect(notices).toContain('Permission is hereby granted, free of charge'); // MIT text, e.g. jose's
    expect(notices).toContain('TERMS AND CONDITIONS FOR USE, REPRODUCTION, AND DISTRIBUTION');
  });
});

describe('writeThirdPartyNotices', () => {
  const dir = mkdtempSync(join(tmpdir(), 'notices-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'LICENSE'), 'APACHE-2.0 FULL TEXT\n');
  const pkg = (path: string, json: object, files: Record<string, string>) => {
    mkdirSync(join(dir, path), { recursive: true });
    writeFileSync(join(dir, path, 'package.json'), JSON.stringify(json));
    for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, path, name), text);
  };
  pkg(
    'node_modules/used',
    { name: 'used', version: '1.0.0', license: 'MIT' },
    { 'LICENSE.md': 'MIT text of used\n', 'index.js': '' },
  );
  pkg(
    'node_modules/a/node_modules/used',
    { name: 'used', version: '1.0.0', license: 'MIT' },
    { 'LICENSE.md': 'MIT text of used\n' },
  );
  pkg(
    'node_modules/@aws-sdk/bare',
    { name: '@aws-sdk/bare', version: '2.0.0', license: 'Apache-2.0', author: { name: 'AWS' } },
    {},
  );
  pkg('node_modules/shaken', { name: 'shaken', version: '3.0.0', license: 'MIT' }, { LICENSE: 'never shown\n' });
  pkg('node_modules/unlicensed', { name: 'unlicensed', version: '4.0.0', license: 'MIT' }, {});
  const output = (inputs: Record<string, number>) => ({
    outputs: {
      'dist/cli.mjs': {
        inputs: Object.fromEntries(Object.entries(inputs).map(([path, bytesInOutput]) => [path, { bytesInOutput }])),
      },
    },
  });

  it('lists each bundled package once with its own licence files, and the Apache text for those that declare it only', () => {
    const out = join(dir, 'NOTICES');
    const listed = writeThirdPartyNotices(
      output({
        'node_modules/used/index.js': 10,
        'node_modules/a/node_modules/used/x.js': 5,
        'node_modules/@aws-sdk/bare/dist/a.js': 7,
        'node_modules/shaken/x.js': 0,
        'src/own.ts': 100,
      }),
      dir,
      out,
    ) as { name: string }[];
    expect(listed.map((p) => p.name)).toEqual(['@aws-sdk/bare', 'used']);
    const text = readFileSync(out, 'utf8');
    expect(text).toContain('used@1.0.0 (MIT)\n--- LICENSE.md\nMIT text of used');
    expect(text.match(/^used@/gm)).toHaveLength(1);
    expect(text).toContain(
      '@aws-sdk/bare@2.0.0 (Apache-2.0)\nShips no licence file; its package.json declares Apache-2.0 (full text at the end), author AWS.',
    );
    expect(text.trimEnd().endsWith('APACHE-2.0 FULL TEXT')).toBe(true);
    expect(text).not.toContain('shaken');
  });

  it('fails the build for a bundled package whose notice it cannot reproduce', () => {
    expect(() => writeThirdPartyNotices(output({ 'node_modules/unlicensed/i.js': 1 }), dir, join(dir, 'N2'))).toThrow(
      /unlicensed@4\.0\.0 is bundled but ships no licence file/,
    );
  });
});
