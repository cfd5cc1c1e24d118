/**
 * Dockerfile lint: dockerfile-utils' validator (hadolint is not available offline) plus this project's rules,
 * checked over the real file and over deliberately broken copies so that each rule is shown to fail.
 * The image itself is built and run by `npm run test:container` (scripts/container-smoke.mjs).
 */
import { describe, expect, it } from 'vitest';
import { validate } from 'dockerfile-utils';
import { DockerfileParser, type Instruction } from 'dockerfile-ast';
import { CONTRACT, readText } from './helpers.js';

const DOCKERFILE = readText('Dockerfile');
const OCI_LABELS = ['title', 'description', 'version', 'revision', 'created', 'source', 'licenses'].map(
  (k) => `org.opencontainers.image.${k}`,
);

/** JSON array of an exec-form instruction argument (`["a", "b"]`), or undefined for shell form. */
function execForm(text: string): string[] | undefined {
  const t = text.replace(/\\\r?\n/g, ' ').trim();
  if (!t.startsWith('[')) return undefined;
  try {
    const v = JSON.parse(t);
    return Array.isArray(v) && v.every((x) => typeof x === 'string') ? v : undefined;
  } catch {
    return undefined;
  }
}

const argText = (i: Instruction) =>
  i.getRawArgumentsContent?.() ??
  i
    .getArguments()
    .map((a) => a.getValue())
    .join(' ');

/** Every rule this project holds its Dockerfile to; returns the broken ones (empty = compliant). */
function dockerfileViolations(text: string): string[] {
  const v: string[] = [];
  for (const d of validate(text))
    if (d.severity === 1 || d.severity === 2) v.push(`dockerfile-utils: line ${d.range.start.line + 1}: ${d.message}`);

  const df = DockerfileParser.parse(text);
  const froms = df.getFROMs();
  if (froms.length < 2) v.push('multi-stage: expected a build stage and a runtime stage');
  const stages = new Set<string>();
  for (const from of froms) {
    const image = from.getImage() ?? '';
    if (image !== 'scratch' && !stages.has(image)) {
      const tag = from.getImageTag();
      if (!from.getImageDigest() && !(tag && /^\d+\.\d+\.\d+(-[a-z0-9.-]+)?$/.test(tag))) {
        v.push(`FROM ${image}: base image not pinned to an exact version tag (x.y.z[-variant]) or digest`);
      }
      if (!image.includes('/') || !/^[a-z0-9.-]+\.[a-z]+(:\d+)?\//.test(image))
        v.push(`FROM ${image}: name the registry explicitly (docker.io/library/...)`);
    }
    const stage = from.getBuildStage();
    if (stage) stages.add(stage);
  }

  const instructions = df.getInstructions();
  const lastFrom = froms[froms.length - 1];
  const finalStage = instructions.filter((i) => lastFrom && i.getRange().start.line > lastFrom.getRange().start.line);
  const final = (keyword: string) => finalStage.filter((i) => i.getKeyword() === keyword);

  const user = final('USER').pop();
  if (!user) v.push('final stage: no USER (the image would run as root)');
  else if (!/^[1-9]\d*(:\d+)?$/.test(argText(user).trim()))
    v.push(`final stage: USER ${argText(user)} is not a non-root numeric uid[:gid]`);

  const entrypoint = final('ENTRYPOINT').pop();
  const ep = entrypoint && execForm(argText(entrypoint));
  if (!ep) v.push('final stage: ENTRYPOINT missing or not in exec form (JSON array)');
  else if (JSON.stringify(ep) !== JSON.stringify(CONTRACT.cli))
    v.push(`final stage: ENTRYPOINT ${JSON.stringify(ep)} is not the CLI ${JSON.stringify(CONTRACT.cli)}`);

  const cmd = final('CMD').pop();
  if (!cmd || JSON.stringify(execForm(argText(cmd))) !== '["register"]')
    v.push('final stage: CMD must be ["register"] (exec form)');

  const healthcheck = final('HEALTHCHECK').pop();
  const hcCmd =
    healthcheck &&
    /^(?:--\S+\s+)*CMD\s+(.*)$/s.exec(
      argText(healthcheck)
        .replace(/\\\r?\n/g, ' ')
        .trim(),
    )?.[1];
  const hc = hcCmd === undefined ? undefined : execForm(hcCmd);
  if (!hc) v.push('final stage: HEALTHCHECK missing or not `CMD [exec form]`');
  else if (JSON.stringify(hc) !== JSON.stringify([...CONTRACT.cli, 'check']))
    v.push(`final stage: HEALTHCHECK runs ${JSON.stringify(hc)}, not check`);

  for (const i of finalStage) {
    const k = i.getKeyword();
    if (k === 'RUN' || k === 'ADD') v.push(`final stage: ${k} (the runtime stage only copies node and the bundle)`);
    if (k === 'COPY' && !/--from=/.test(i.getTextContent()))
      v.push(`final stage: COPY from the build context: ${i.getTextContent()}`);
    if (/\bnpm\b|node_modules/.test(i.getTextContent()))
      v.push(`final stage: mentions npm/node_modules: ${i.getTextContent()}`);
  }

  const labels = final('LABEL')
    .map((l) => l.getTextContent())
    .join('\n');
  for (const label of OCI_LABELS) if (!labels.includes(`${label}=`)) v.push(`final stage: missing label ${label}`);

  const env = final('ENV')
    .map((e) => e.getTextContent())
    .join('\n');
  for (const arg of ['PRODUCT_CODE', 'PUBLIC_KEY_FILE']) {
    if (!final('ARG').some((a) => argText(a).startsWith(arg))) v.push(`final stage: build arg ${arg} not declared`);
    if (!env.includes(`\${${arg}`)) v.push(`final stage: build arg ${arg} does not reach the environment`);
  }
  if (!final('VOLUME').some((i) => argText(i).includes(CONTRACT.outDir)))
    v.push(`final stage: no VOLUME at ${CONTRACT.outDir} (read-only rootfs)`);

  if (!instructions.some((i) => i.getKeyword() === 'RUN' && /\bnpm ci\b/.test(i.getTextContent())))
    v.push('build stage: dependencies must be installed with `npm ci` (lockfile)');
  return v;
}

describe('Dockerfile', () => {
  it('passes dockerfile-utils and every project rule', () => {
    expect(dockerfileViolations(DOCKERFILE)).toEqual([]);
  });

  it('builds the bundle with `npm run build` and copies only the bundle (cli.cjs, cli.mjs, chunks) and the node binary into the image', () => {
    expect(DOCKERFILE).toMatch(/RUN npm run build/);
    expect(DOCKERFILE).toMatch(
      /install -m 0444 dist\/cli\.cjs dist\/cli\.mjs \/rootfs\/opt\/marketplace-entitlement\/;/,
    );
    expect(DOCKERFILE).toMatch(
      /install -m 0444 -D -t \/rootfs\/opt\/marketplace-entitlement\/chunks dist\/chunks\/\*\.mjs;/,
    );
    expect(DOCKERFILE).toMatch(/install -m 0755 \/usr\/local\/bin\/node \/rootfs\/opt\/marketplace-entitlement\/node/);
  });

  it("ships the project licence and the bundle's third-party notices in the image", () => {
    expect(DOCKERFILE).toMatch(/install -D -m 0444 LICENSE \/rootfs\/opt\/marketplace-entitlement\/licenses\/LICENSE/);
    expect(DOCKERFILE).toMatch(
      /install -D -m 0444 dist\/THIRD_PARTY_NOTICES \/rootfs\/opt\/marketplace-entitlement\/licenses\/THIRD_PARTY_NOTICES/,
    );
  });

  it('uses one Node.js LTS base for every stage that is not scratch', () => {
    const bases = DockerfileParser.parse(DOCKERFILE)
      .getFROMs()
      .map((f) => f.getImage())
      .filter((i) => i && /node:/.test(i));
    expect(new Set(bases).size).toBe(1);
    const major = Number(/node:(\d+)\./.exec(bases[0]!)?.[1]);
    expect(major % 2, 'an even (LTS) Node.js major').toBe(0);
    expect(major, 'Node 20 is end-of-life and the AWS SDK needs >= 22').toBeGreaterThanOrEqual(22);
  });

  const broken: [string, (t: string) => string, RegExp][] = [
    ['USER root', (t) => t.replace(/^USER .*$/m, 'USER root'), /USER root/],
    ['no USER', (t) => t.replace(/^USER .*$/m, ''), /no USER/],
    [
      'shell-form ENTRYPOINT',
      (t) =>
        t.replace(
          /^ENTRYPOINT .*$/m,
          'ENTRYPOINT /opt/marketplace-entitlement/node /opt/marketplace-entitlement/cli.cjs',
        ),
      /ENTRYPOINT/,
    ],
    [
      'unpinned base (major tag)',
      (t) => t.replace(/node:24\.\d+\.\d+-bookworm-slim/g, 'node:24-bookworm-slim'),
      /not pinned/,
    ],
    ['unpinned base (latest)', (t) => t.replace(/node:24\.\d+\.\d+-bookworm-slim/g, 'node:latest'), /not pinned/],
    ['no HEALTHCHECK', (t) => t.replace(/^HEALTHCHECK[\s\S]*?check"\]\n/m, ''), /HEALTHCHECK missing/],
    // The runtime stage is scratch: a shell-form command would need /bin/sh, which is not there.
    [
      'shell-form HEALTHCHECK',
      (t) => t.replace(/CMD \["(\S+)", "(\S+)", "(\S+)", "check"\]/, 'CMD $1 $2 $3 check'),
      /HEALTHCHECK missing or not `CMD \[exec form\]`/,
    ],
    [
      'missing OCI label',
      (t) => t.replace(/^\s+org\.opencontainers\.image\.licenses=.*\n/m, ''),
      /missing label org\.opencontainers\.image\.licenses/,
    ],
    ['npm in the final stage', (t) => `${t}RUN npm --version\n`, /npm/],
    ['sources in the final stage', (t) => `${t}COPY . /app\n`, /COPY from the build context/],
    ['CMD not register', (t) => t.replace(/^CMD \["register"\]$/m, 'CMD ["serve"]'), /CMD must be/],
    [
      'ENTRYPOINT without --disable-sigusr1',
      (t) => t.replace(/^(ENTRYPOINT .*)"--disable-sigusr1", /m, '$1'),
      /ENTRYPOINT .* is not the CLI/,
    ],
    [
      'HEALTHCHECK without --disable-sigusr1',
      (t) => t.replace(/(CMD \[\S+) "--disable-sigusr1",( \S+ "check"\])/, '$1$2'),
      /HEALTHCHECK runs/,
    ],
    ['misspelled instruction', (t) => t.replace(/^WORKDIR /m, 'WORKDIRR '), /dockerfile-utils/],
  ];
  it.each(broken)('a broken copy fails the rules: %s', (_name, mutate, reason) => {
    const text = mutate(DOCKERFILE);
    expect(text, 'the mutation changed nothing').not.toBe(DOCKERFILE);
    expect(dockerfileViolations(text).join('\n')).toMatch(reason);
  });
});

describe('.dockerignore', () => {
  const patterns = readText('.dockerignore')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  const toRegex = (p: string) =>
    new RegExp(
      `^${p
        .replace(/^\//, '')
        .replace(/[.+^${}()|[\]\\]/g, '\\$&')
        .replace(/\*\*\//g, '(.*/)?')
        .replace(/\*\*/g, '.*')
        .replace(/\*/g, '[^/]*')
        .replace(/\?/g, '[^/]')}(/.*)?$`,
    );
  /** Docker's rule: the last matching pattern wins; `!` re-includes. */
  const excluded = (file: string) => {
    let out = false;
    for (const p of patterns) {
      const negate = p.startsWith('!');
      if (toRegex(negate ? p.slice(1) : p).test(file)) out = !negate;
    }
    return out;
  };

  it.each([
    'node_modules/x/index.js',
    '.git/HEAD',
    'dist/cli.cjs',
    '.env',
    '.aws/credentials',
    'keys/seller-private.pem',
    'tls/server.key',
    'test/deploy/k8s.test.ts',
    'k8s/base/deployment.yaml',
  ])('keeps %s out of the build context', (file) => expect(excluded(file)).toBe(true));

  it.each([
    'package.json',
    'package-lock.json',
    'tsconfig.json',
    'src/index.ts',
    'cmd/cli.ts',
    'scripts/bundle.mjs',
    'keys/marketplace-public-key.pem',
  ])('sends %s (the build or a baked public key needs it)', (file) => expect(excluded(file)).toBe(false));
});
