/**
 * The shipped CLI bundle, copied alone into a directory (no node_modules beside it or above it), as the image
 * holds it. The one place that knows what "the bundle" is: the entry dist/cli.cjs, the whole CLI dist/cli.mjs it
 * loads for everything but `check`, and their chunks in dist/chunks/ (scripts/bundle.mjs).
 *
 * @example
 * const entry = await copyBundle(mkdtempSync(join(tmpdir(), 'bundle-')));
 * spawn(process.execPath, [entry, 'register', ...], { cwd: dirname(entry) });
 */
import { existsSync } from 'node:fs';
import { cp, readdir } from 'node:fs/promises';
import { dirname, join, parse } from 'node:path';
import { fileURLToPath } from 'node:url';

const DIST = fileURLToPath(new URL('../../dist', import.meta.url));
const ENTRY = 'cli.cjs';

/** Copies the bundle into `dir` and returns the path of its entry; throws when the build is missing or `dir` could resolve packages. */
export async function copyBundle(dir: string): Promise<string> {
  if (!existsSync(join(DIST, ENTRY)))
    throw new Error(`${join(DIST, ENTRY)} is missing: run \`npm run build\` first (npm test does).`);
  for (let at = dir; at !== parse(at).root; at = dirname(at)) {
    if (existsSync(join(at, 'node_modules')))
      throw new Error(`${join(at, 'node_modules')} exists: the copied bundle could load packages from it.`);
  }
  const entries = await readdir(DIST, { withFileTypes: true });
  const parts = entries.filter(
    (e) => (e.isFile() && /^cli\.(cjs|mjs)$/.test(e.name)) || (e.isDirectory() && e.name === 'chunks'),
  );
  for (const part of parts) await cp(join(DIST, part.name), join(dir, part.name), { recursive: true });
  return join(dir, ENTRY);
}
