#!/usr/bin/env node
// The container image's SBOM (CycloneDX JSON), written in the Dockerfile's rootfs stage, on the target platform:
// dist/sbom.cdx.json (the bundled npm packages) plus the Node.js binary (version and SHA-256) and the Debian package
// of each shared library copied into the image (name, version, architecture, from dpkg's own database), whose
// copyright files it copies beside the licences. A library no Debian package owns fails the build: the SBOM would
// otherwise leave out something the image ships.
//
//   node scripts/image-sbom.mjs --npm-sbom dist/sbom.cdx.json --node /usr/local/bin/node --rootfs /rootfs \
//        --licenses /opt/marketplace-entitlement/licenses [--version V] [--revision COMMIT] LIBRARY...
//
// writes ROOTFS/LICENSES/sbom.cdx.json and ROOTFS/LICENSES/debian/PACKAGE.copyright.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const sha256 = (file) => createHash('sha256').update(readFileSync(file)).digest('hex');

/** The Debian package that owns `library`: dpkg records the path as the package shipped it (/lib or /usr/lib). */
function owningPackage(library) {
  const real = realpathSync(library);
  const candidates = new Set([library, real].flatMap((p) => [p, p.startsWith('/usr/') ? p.slice(4) : `/usr${p}`]));
  for (const path of candidates) {
    try {
      const line = execFileSync('dpkg-query', ['--search', path], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
      }).split('\n')[0];
      const name = /^([^:\s,]+)(?::[a-z0-9]+)?: /.exec(line)?.[1];
      if (name) return name;
    } catch {
      // not this spelling of the path
    }
  }
  throw new Error(
    `${library} (${real}) is copied into the image but no Debian package owns it: the image SBOM cannot account for it.`,
  );
}

function debianPackage(name) {
  const [version, architecture] = execFileSync(
    'dpkg-query',
    ['--show', '--showformat', '${Version}\t${Architecture}', `${name}:*`],
    { encoding: 'utf8' },
  )
    .split('\n')[0]
    .split('\t');
  return { name, version, architecture };
}

function distro() {
  const osRelease = readFileSync('/etc/os-release', 'utf8');
  const field = (k) => new RegExp(`^${k}="?([^"\\n]*)"?$`, 'm').exec(osRelease)?.[1];
  return `${field('ID')}-${field('VERSION_ID')}`;
}

function main() {
  const { values, positionals: libraries } = parseArgs({
    options: {
      'npm-sbom': { type: 'string' },
      node: { type: 'string' },
      rootfs: { type: 'string' },
      licenses: { type: 'string' },
      version: { type: 'string' },
      revision: { type: 'string' },
    },
    allowPositionals: true,
  });
  for (const option of ['npm-sbom', 'node', 'rootfs', 'licenses']) {
    if (!values[option]) throw new Error(`--${option} is required (usage in the header of scripts/image-sbom.mjs)`);
  }
  if (libraries.length === 0) throw new Error('no shared libraries given: pass those ldd lists for the node binary');
  const npm = JSON.parse(readFileSync(values['npm-sbom'], 'utf8'));
  const licenceDir = join(values.rootfs, values.licenses);
  mkdirSync(join(licenceDir, 'debian'), { recursive: true });

  const nodeVersion = execFileSync(values.node, ['--version'], { encoding: 'utf8' }).trim().replace(/^v/, '');
  const node = {
    type: 'application',
    'bom-ref': `pkg:generic/node@${nodeVersion}`,
    name: 'node',
    version: nodeVersion,
    description: 'Node.js runtime, /opt/marketplace-entitlement/node',
    licenses: [{ expression: 'MIT' }],
    hashes: [{ alg: 'SHA-256', content: sha256(values.node) }],
    purl: `pkg:generic/node@${nodeVersion}`,
    externalReferences: [{ type: 'website', url: 'https://nodejs.org/' }],
  };

  const osName = distro();
  const owners = new Map();
  for (const library of [...new Set(libraries)].sort()) {
    const name = owningPackage(library);
    owners.set(name, [...(owners.get(name) ?? []), library]);
  }
  const debs = [...owners.keys()].sort().map((name) => {
    const deb = debianPackage(name);
    const copyright = `/usr/share/doc/${name}/copyright`;
    if (!existsSync(copyright))
      throw new Error(`${copyright} is missing: the image would ship ${name} without its copyright notice.`);
    copyFileSync(copyright, join(licenceDir, 'debian', `${name}.copyright`));
    const purl = `pkg:deb/debian/${name}@${encodeURIComponent(deb.version)}?arch=${deb.architecture}&distro=${osName}`;
    return {
      type: 'library',
      'bom-ref': purl,
      name,
      version: deb.version,
      licenses: [{ license: { name: `Debian copyright file: ${values.licenses}/debian/${name}.copyright` } }],
      purl,
      properties: owners.get(name).map((file) => ({ name: 'marketplace-entitlement:file', value: file })),
    };
  });

  const bundle = npm.metadata.component;
  // The image's version and commit as its labels give them (org.opencontainers.image.version and .revision).
  const imageVersion = values.version || bundle.version;
  const image = {
    type: 'container',
    'bom-ref': `marketplace-entitlement-image@${imageVersion}`,
    name: bundle.name,
    version: imageVersion,
    licenses: bundle.licenses,
    properties: values.revision ? [{ name: 'org.opencontainers.image.revision', value: values.revision }] : undefined,
  };
  const bom = {
    ...npm,
    metadata: {
      ...npm.metadata,
      component: image,
      properties: [{ name: 'marketplace-entitlement:architecture', value: process.arch }],
    },
    components: [bundle, node, ...npm.components, ...debs],
    dependencies: [
      { ref: image['bom-ref'], dependsOn: [bundle['bom-ref'], node['bom-ref']] },
      { ref: node['bom-ref'], dependsOn: debs.map((d) => d['bom-ref']) },
      ...npm.dependencies,
      ...debs.map((d) => ({ ref: d['bom-ref'] })),
    ],
  };
  writeFileSync(join(licenceDir, 'sbom.cdx.json'), `${JSON.stringify(bom, null, 2)}\n`);
  console.log(
    `image SBOM: node ${nodeVersion}, ${debs.map((d) => `${d.name} ${d.version}`).join(', ')}, ${npm.components.length} npm packages`,
  );
}

try {
  main();
} catch (err) {
  console.error(`image-sbom: ${err.message}`);
  process.exitCode = 1;
}
