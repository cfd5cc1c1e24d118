#!/usr/bin/env node
// Bundles the CLI into one executable ESM file, dist/cli.mjs, the file `bin` and the image use.
// One file means one read and one parse at start-up instead of hundreds of module resolutions. Modules
// reached only through import() stay unevaluated until a command needs them (esbuild wraps them in lazy
// initialisers), so `check` and `--help` never run the AWS SDK's code.
import { chmod } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outfile = join(root, 'dist', 'cli.mjs');

const result = await build({
  entryPoints: [join(root, 'cmd', 'main.ts')],
  outfile,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  // The AWS SDK's ES module builds tree-shake: 20% fewer bytes for every start to parse than its CJS builds.
  mainFields: ['module', 'main'],
  minify: true,
  // Error classes name themselves from new.target.name; logs and `err.name` checks need the real names.
  keepNames: true,
  legalComments: 'none',
  metafile: true,
  logLevel: 'warning',
  banner: {
    // Bundled CommonJS dependencies (the AWS SDK) call require(); ESM has none, so make one.
    js: "#!/usr/bin/env node\nimport { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);",
  },
});
await chmod(outfile, 0o755);
const bytes = Object.values(result.metafile.outputs).reduce((sum, output) => sum + output.bytes, 0);
console.log(`bundled ${outfile} (${(bytes / 1024).toFixed(0)} KiB)`);
