// The software bill of materials, CycloneDX JSON, of what we ship:
//
//   dist/sbom.cdx.json   the npm packages esbuild put into the CLI bundle: exactly those of dist/THIRD_PARTY_NOTICES
//                        (one list, bundledPackages() of scripts/third-party-notices.mjs, from the bundle's metafile),
//                        each with its version, declared licence, package URL and the lockfile's SHA-512.
//   the image's SBOM     the above plus the Node.js binary and the Debian packages whose libraries the image copies
//                        (scripts/image-sbom.mjs, run in the Dockerfile).
//
// Reproducible: no serial number (a random one would differ between two builds of one commit) and a timestamp only
// from SOURCE_DATE_EPOCH or the commit time of HEAD, never the clock; components in code-point order.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const CYCLONEDX_SPEC_VERSION = '1.6';

/**
 * The package URL of an npm package (a scope's `@` is percent-encoded, as the purl spec asks).
 *
 * @example
 * npmPurl('@aws-sdk/client-sts', '3.1.0'); // 'pkg:npm/%40aws-sdk/client-sts@3.1.0'
 */
export function npmPurl(name, version) {
  return `pkg:npm/${name.replace(/^@/, '%40')}@${version}`;
}

/**
 * The build's time for the SBOM: SOURCE_DATE_EPOCH (seconds) when set, else the commit time of HEAD when `root` is a
 * git checkout, else undefined (the SBOM then has no timestamp). Never the clock, so two builds of one commit agree.
 */
export function buildTimestamp(root, env = process.env) {
  const epoch = env.SOURCE_DATE_EPOCH;
  if (epoch !== undefined && epoch !== '') {
    if (!/^\d{1,12}$/.test(epoch)) {
      throw new Error(
        `SOURCE_DATE_EPOCH must be whole seconds since 1970-01-01 UTC, e.g. $(git log -1 --format=%ct); got ${JSON.stringify(epoch)}.`,
      );
    }
    return isoSeconds(Number(epoch));
  }
  let commitTime = '';
  try {
    commitTime = execFileSync('git', ['log', '-1', '--format=%ct'], {
      cwd: root,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
  } catch {
    return undefined; // not a checkout (a Docker build context, an unpacked tarball): no timestamp rather than a wrong one
  }
  return /^\d+$/.test(commitTime) ? isoSeconds(Number(commitTime)) : undefined;
}

const isoSeconds = (seconds) => new Date(seconds * 1000).toISOString().replace(/\.000Z$/, 'Z');

/** `name@version` for a license expression field; package.json's `license` is an SPDX expression by npm's rules. */
const licenses = (expression) => (expression && expression !== 'see below' ? [{ expression }] : undefined);

/** SHA-512 of an npm lockfile `integrity` (base64 SRI) as CycloneDX wants it: hex. */
function lockHashes(integrity) {
  const sha512 = /(?:^|\s)sha512-([A-Za-z0-9+/=]+)/.exec(integrity ?? '')?.[1];
  return sha512 ? [{ alg: 'SHA-512', content: Buffer.from(sha512, 'base64').toString('hex') }] : undefined;
}

/**
 * The CycloneDX document of the npm package's bundle: `project` is our package.json, `packages` what
 * bundledPackages() returns, `lock` package-lock.json (for each package's SHA-512), `timestamp` from buildTimestamp().
 */
export function npmPackageSbom({ project, packages, lock, timestamp }) {
  const root = {
    type: 'application',
    'bom-ref': npmPurl(project.name, project.version),
    name: project.name,
    version: project.version,
    description: project.description,
    licenses: licenses(project.license),
    purl: npmPurl(project.name, project.version),
  };
  const components = packages.map((p) => {
    const [group, name] = p.name.startsWith('@') ? p.name.split('/') : [undefined, p.name];
    const locked = lock.packages?.[p.dir];
    return {
      type: 'library',
      'bom-ref': npmPurl(p.name, p.version),
      group,
      name,
      version: p.version,
      licenses: licenses(p.license),
      hashes: locked?.version === p.version ? lockHashes(locked.integrity) : undefined,
      purl: npmPurl(p.name, p.version),
    };
  });
  return {
    bomFormat: 'CycloneDX',
    specVersion: CYCLONEDX_SPEC_VERSION,
    version: 1,
    metadata: {
      timestamp,
      lifecycles: [{ phase: 'build' }],
      tools: {
        components: [{ type: 'application', name: `${project.name} scripts/sbom.mjs`, version: project.version }],
      },
      component: root,
    },
    components,
    dependencies: [
      { ref: root['bom-ref'], dependsOn: components.map((c) => c['bom-ref']) },
      ...components.map((c) => ({ ref: c['bom-ref'] })),
    ],
  };
}

/**
 * Writes dist/sbom.cdx.json for the bundled packages (bundledPackages() of the bundle's metafile); returns the document.
 *
 * @example
 * writeNpmSbom(bundledPackages(metafile, root), root, join(root, 'dist', 'sbom.cdx.json'));
 */
export function writeNpmSbom(packages, root, outfile, env = process.env) {
  const project = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8'));
  const bom = npmPackageSbom({ project, packages, lock, timestamp: buildTimestamp(root, env) });
  writeFileSync(outfile, `${JSON.stringify(bom, null, 2)}\n`);
  return bom;
}
