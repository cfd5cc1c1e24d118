// THIRD_PARTY_NOTICES for the bundle: the licence and notice files of every npm package whose code esbuild put in
// an output file, read from the packages themselves (never written by hand), so the bundle and the image that
// redistribute them carry their notices. A few AWS SDK packages ship no licence file but declare Apache-2.0: for
// them the declaration, author and repository are listed, and the Apache-2.0 text (the project's own LICENSE) is
// appended once. Any other bundled package without a licence file fails the build.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const LICENCE_FILE = /^(licen[cs]e|copying|notice)([-._].*)?$/i;

/**
 * Writes `outfile` from an esbuild metafile; returns the packages listed, sorted by name.
 *
 * @example
 * writeThirdPartyNotices(result.metafile, root, join(root, 'dist', 'THIRD_PARTY_NOTICES'));
 */
export function writeThirdPartyNotices(metafile, root, outfile) {
  const packages = bundledPackages(metafile, root);
  const rule = '='.repeat(78);
  const sections = packages.map((p) => {
    const body = p.files.length > 0 ? p.files.flatMap((f) => [`--- ${f.name}`, f.text.trimEnd()]) : [p.declaredOnly];
    return [rule, `${p.name}@${p.version} (${p.license})`, ...body].join('\n');
  });
  if (packages.some((p) => p.files.length === 0)) {
    sections.push(
      [
        rule,
        'Apache License 2.0, full text (for the packages above that declare it without shipping it)',
        readFileSync(join(root, 'LICENSE'), 'utf8').trimEnd(),
      ].join('\n'),
    );
  }
  const header =
    'marketplace-entitlement: third-party notices\n\n' +
    'The CLI bundle (dist/cli.cjs, dist/cli.mjs, dist/chunks/) and the container image, which runs it, contain the npm\n' +
    'packages below, each with' +
    ' its licence and notice files as that package ships them.\n';
  writeFileSync(outfile, `${header}\n${sections.join('\n\n')}\n`);
  return packages;
}

/**
 * The npm packages with at least one byte in an output of the esbuild metafile, each once (two copies of one version
 * in nested node_modules are one package), sorted by name and version; `dir` is the first copy's directory relative
 * to `root`. The notices and the SBOM (scripts/sbom.mjs) both list exactly these.
 */
export function bundledPackages(metafile, root) {
  const byId = new Map();
  for (const dir of bundledPackageDirs(metafile)) {
    const p = describePackage(root, dir);
    if (!byId.has(`${p.name}@${p.version}`)) byId.set(`${p.name}@${p.version}`, p);
  }
  // Code-point order, not localeCompare: the same on every machine whatever its locale (a reproducible build).
  const byCodePoint = (a, b) => (a < b ? -1 : a > b ? 1 : 0);
  return [...byId.values()].sort((a, b) => byCodePoint(a.name, b.name) || byCodePoint(a.version, b.version));
}

/** Package directories (relative to the project) with at least one byte in an output, in a stable order. */
function bundledPackageDirs(metafile) {
  const dirs = new Set();
  for (const output of Object.values(metafile.outputs)) {
    for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
      const dir = /^(.*node_modules\/(?:@[^/]+\/)?[^/]+)\//.exec(input)?.[1];
      if (dir && bytesInOutput > 0) dirs.add(dir);
    }
  }
  return [...dirs].sort();
}

function describePackage(root, relativeDir) {
  const dir = join(root, relativeDir);
  const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  const files = readdirSync(dir)
    .filter((name) => LICENCE_FILE.test(name))
    .sort()
    .map((name) => ({ name, text: readFileSync(join(dir, name), 'utf8') }));
  const id = `${manifest.name}@${manifest.version}`;
  if (files.length === 0 && manifest.license !== 'Apache-2.0')
    throw new Error(`${id} is bundled but ships no licence file (${dir}): its notice cannot be reproduced.`);
  const author = typeof manifest.author === 'string' ? manifest.author : manifest.author?.name;
  const repository = typeof manifest.repository === 'string' ? manifest.repository : manifest.repository?.url;
  const declaredOnly = `Ships no licence file; its package.json declares Apache-2.0 (full text at the end)${author ? `, author ${author}` : ''}${repository ? `, source ${repository}` : ''}.`;
  return {
    name: manifest.name,
    version: manifest.version,
    license: manifest.license ?? 'see below',
    dir: relativeDir,
    files,
    declaredOnly,
  };
}
