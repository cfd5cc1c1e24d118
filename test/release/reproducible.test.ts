/**
 * Reproducible build: two builds of the same sources, in two directories of different names and depths, under
 * different time zones and locales, give a byte-identical dist/ (every file, its bytes and its mode). Each build runs
 * `npm run build` on a copy of the checkout (tracked files and untracked ones git does not ignore, as a clone with
 * local changes has) with node_modules hard-linked in, and the same SOURCE_DATE_EPOCH, as a release build sets it.
 */
import { execFile, execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
// Inside the project: the hard links need the same file system as node_modules.
const WORK = join(ROOT, '.tmp', 'reproducible');
mkdirSync(WORK, { recursive: true });
const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function checkoutCopy(prefix: string): string {
  const dir = mkdtempSync(join(WORK, prefix));
  dirs.push(dir);
  const files = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], {
    cwd: ROOT,
    encoding: 'utf8',
  })
    .split('\0')
    .filter(Boolean);
  for (const file of files)
    cpSync(join(ROOT, file), join(dir, file), {
      recursive: true,
      preserveTimestamps: false,
      errorOnExist: false,
      force: true,
    });
  execFileSync('cp', ['-al', join(ROOT, 'node_modules'), join(dir, 'node_modules')]);
  return dir;
}

/** Every file under dist/ with its mode and bytes (hex digest would hide nothing a byte compare shows). */
function snapshot(dir: string): Map<string, { mode: string; bytes: Buffer }> {
  const dist = join(dir, 'dist');
  const out = new Map<string, { mode: string; bytes: Buffer }>();
  for (const entry of readdirSync(dist, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    out.set(relative(dist, path), { mode: (statSync(path).mode & 0o777).toString(8), bytes: readFileSync(path) });
  }
  return out;
}

const SOURCE_DATE_EPOCH = '1767225600'; // 2026-01-01T00:00:00Z

describe('the build', () => {
  it('gives a byte-identical dist/ from the same sources in two directories', async () => {
    const a = checkoutCopy('a-');
    const b = checkoutCopy('build-b-in-a-longer-directory-name-');
    const build = (cwd: string, env: Record<string, string>) =>
      promisify(execFile)('npm', ['run', 'build', '--silent'], {
        cwd,
        env: { ...process.env, SOURCE_DATE_EPOCH, ...env },
        maxBuffer: 16 * 1024 * 1024,
      });
    await Promise.all([
      build(a, { TZ: 'UTC', LANG: 'C.UTF-8' }),
      build(b, { TZ: 'Pacific/Chatham', LANG: 'tr_TR.UTF-8', LC_ALL: 'tr_TR.UTF-8' }),
    ]);
    const first = snapshot(a);
    const second = snapshot(b);
    expect(first.size).toBeGreaterThan(100);
    expect([...second.keys()].sort()).toEqual([...first.keys()].sort());
    const differing = [...first]
      .filter(([file, { mode, bytes }]) => second.get(file)!.mode !== mode || !second.get(file)!.bytes.equals(bytes))
      .map(([file]) => file);
    expect(differing).toEqual([]);
    // No build-machine path leaks into what ships.
    for (const [file, { bytes }] of first) expect(bytes.includes(a), file).toBe(false);
    const sbom = JSON.parse(first.get('sbom.cdx.json')!.bytes.toString('utf8')) as { metadata: { timestamp: string } };
    expect(sbom.metadata.timestamp).toBe('2026-01-01T00:00:00Z');
  }, 240_000);
});
