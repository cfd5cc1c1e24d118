// The production modules as built (`npm run build`, which `npm run bench` runs first): the herd benches drive
// the very code the package ships, not a copy or a bundle of their own.
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** @param {string} module path under dist/, e.g. 'src/aws/retry.js' */
export async function importDist(module) {
  const file = join(root, 'dist', module);
  if (!existsSync(file)) {
    console.error(`${file} does not exist: run \`npm run build\` first (the benches use the built package).`);
    process.exit(2);
  }
  return import(pathToFileURL(file).href);
}
