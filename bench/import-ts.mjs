// Imports a TypeScript module from src/ as it is now, without needing the whole tree to compile:
// esbuild bundles the entry (and what it imports from src/) into a temporary ESM file, which is
// imported and then removed. Node 20 cannot strip types by itself.
import { build } from 'esbuild';
import { mkdirSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** @param {string} entry path relative to the repository root, e.g. 'src/aws/retry.ts' */
export async function importTs(entry) {
  const outDir = join(root, '.tmp', 'bench');
  mkdirSync(outDir, { recursive: true });
  const outfile = join(outDir, `${entry.replace(/[^a-zA-Z0-9]+/g, '-')}-${process.pid}-${Date.now()}.mjs`);
  await build({
    entryPoints: [join(root, entry)],
    outfile,
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    // Dependencies (the AWS SDK, jose) load from node_modules as usual.
    packages: 'external',
    logLevel: 'error',
  });
  try {
    return await import(pathToFileURL(outfile).href);
  } finally {
    rmSync(outfile, { force: true });
  }
}
