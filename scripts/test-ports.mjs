#!/usr/bin/env node
/**
 * `npm run test:ports`: the Go and Python ports' own tests (ports/go, ports/python): every conformance vector in
 * test/vectors/ and real registrations against the emulator (dist/cli.cjs), including their ensure-entitled
 * executables. Ends with "N passed, N failed" (every Go test and sub-test, every Python test and sub-test).
 *
 * Checks gofmt, go vet and mypy --strict, then runs the tests. Needs Go with Debian's AWS SDK for Go v2, and a python3
 * with botocore, cryptography and mypy: missing ones are installed in one apt-get step when this runs as root, otherwise
 * named in one line; either way a missing tool fails the run, it never skips. Offline: Go builds in GOPATH mode
 * against /usr/share/gocode (GO111MODULE=off, GOPROXY=off).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const GO_MODULE = 'github.com/marketplace-entitlement/marketplace-entitlement/ports/go';
const GOCODE = '/usr/share/gocode';
const python = process.env.PYTHON ?? '/usr/bin/python3';

/** What each check needs, and the Debian packages that provide it. */
const REQUIREMENTS = [
  { what: 'go', ok: () => run('go', ['version']).status === 0, packages: ['golang-go'] },
  {
    what: 'the AWS SDK for Go v2',
    ok: () => existsSync(join(GOCODE, 'src/github.com/aws/aws-sdk-go-v2/service/marketplacemetering')),
    packages: ['golang-github-aws-aws-sdk-go-v2-dev'],
  },
  {
    what: `${python} with botocore and cryptography`,
    ok: () => run(python, ['-c', 'import botocore, cryptography']).status === 0,
    packages: ['python3', 'python3-botocore', 'python3-cryptography'],
  },
  {
    what: 'mypy (the Python port type-checks under --strict)',
    ok: () => run(python, ['-m', 'mypy', '--version']).status === 0,
    packages: ['mypy'],
  },
];

function run(command, args, options = {}) {
  return spawnSync(command, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, ...options });
}

let passed = 0;
let failed = 0;
const fail = (message) => {
  console.log(`FAILED: ${message}`);
  failed += 1;
};

function ensureTools() {
  let missing = REQUIREMENTS.filter((r) => !r.ok());
  if (missing.length > 0 && process.getuid?.() === 0 && run('apt-get', ['--version']).status === 0) {
    const packages = [...new Set(missing.flatMap((r) => r.packages))];
    console.log(`installing ${packages.join(' ')} (apt-get)`);
    const update = run('apt-get', ['update', '-qq'], { stdio: 'inherit' });
    if (update.status === 0)
      run('apt-get', ['install', '-y', '-qq', ...packages], {
        stdio: 'inherit',
        env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
      });
    missing = REQUIREMENTS.filter((r) => !r.ok());
  }
  for (const r of missing) fail(`${r.what} is missing: apt-get install ${r.packages.join(' ')}`);
  return missing.length === 0;
}

/** The emulator the ports register against is the built CLI. */
function ensureBuild() {
  if (existsSync(join(root, 'dist/cli.cjs'))) return true;
  const build = run('npm', ['run', 'build'], { cwd: root, stdio: 'inherit' });
  if (build.status !== 0) fail('npm run build (the emulator the ports register against)');
  return build.status === 0;
}

/** Adds the counts of `go test -v` (tests and sub-tests) to the totals; a run that failed without a failing test counts once. */
function goPort() {
  const gopath = mkdtempSync(join(tmpdir(), 'me-ports-gopath-'));
  try {
    const linked = join(gopath, 'src', GO_MODULE);
    mkdirSync(dirname(linked), { recursive: true });
    symlinkSync(join(root, 'ports/go'), linked);
    // PWD: the go tool takes the working directory from it, and only the linked path lies inside GOPATH.
    const env = {
      ...process.env,
      GO111MODULE: 'off',
      GOPATH: `${gopath}:${GOCODE}`,
      GOPROXY: 'off',
      GOFLAGS: '',
      PWD: linked,
    };
    const gofmt = run('gofmt', ['-l', '.'], { cwd: linked, env });
    if (gofmt.status !== 0 || gofmt.stdout.trim() !== '') fail(`gofmt: ${gofmt.stdout.trim() || gofmt.stderr.trim()}`);
    else passed += 1;
    const vet = run('go', ['vet', './...'], { cwd: linked, env });
    if (vet.status !== 0) fail(`go vet: ${vet.stderr.trim()}`);
    else passed += 1;
    const test = run('go', ['test', '-count=1', '-v', './...'], { cwd: linked, env });
    const output = `${test.stdout}${test.stderr}`;
    const goPassed = output.match(/^\s*--- PASS:/gm)?.length ?? 0;
    const goFailed = output.match(/^\s*--- FAIL:/gm)?.length ?? 0;
    if (goFailed > 0 || test.status !== 0) {
      console.log(
        output
          .split('\n')
          .filter((line) => !/^\s*(=== RUN|--- PASS)/.test(line))
          .join('\n'),
      );
    }
    console.log(`Go port: ${goPassed} passed, ${goFailed} failed`);
    passed += goPassed;
    failed += goFailed;
    if (test.status !== 0 && goFailed === 0) fail(`go test exited ${test.status}`);
  } finally {
    rmSync(gopath, { recursive: true, force: true });
  }
}

/** Adds the counts of the Python port's runner ("N passed, N failed", sub-tests included). */
function pythonPort() {
  // botocore ships no type stubs; the package's own code and cryptography's are checked.
  const types = run(python, ['-m', 'mypy', '--strict', '--ignore-missing-imports', 'marketplace_entitlement'], {
    cwd: join(root, 'ports/python'),
  });
  if (types.status !== 0) fail(`mypy --strict: ${types.stdout.trim()}`);
  else passed += 1;
  const test = run(python, ['-m', 'tests'], {
    cwd: join(root, 'ports/python'),
    env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' },
  });
  const output = `${test.stdout}${test.stderr}`;
  const summary = output.match(/^(\d+) passed, (\d+) failed$/m);
  if (test.status !== 0) console.log(output);
  if (!summary) {
    fail(`the Python port's tests did not finish (exit ${test.status})`);
    return;
  }
  console.log(`Python port: ${summary[0]}`);
  passed += Number(summary[1]);
  failed += Number(summary[2]);
  if (test.status !== 0 && Number(summary[2]) === 0) fail(`the Python port's tests exited ${test.status}`);
}

if (ensureTools() && ensureBuild()) {
  goPort();
  pythonPort();
}
console.log(`${passed} passed, ${failed} failed`);
process.exitCode = failed === 0 ? 0 : 1;
