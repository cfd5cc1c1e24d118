#!/usr/bin/env node
// Bundles the CLI into one executable ESM file, dist/cli.mjs, the file `bin` and the image use.
// One file means one read and one parse at start-up instead of hundreds of module resolutions. Modules
// reached only through import() stay unevaluated until a command needs them (esbuild wraps them in lazy
// initialisers), so `check` and `--help` never run the AWS SDK's code.
import { chmod } from 'node:fs/promises';
import { isBuiltin } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outfile = join(root, 'dist', 'cli.mjs');

/**
 * An ES `import` of a Node built-in cannot be deferred, so esbuild hoists every one to the top of the bundle and
 * `check` would load node:http, node:https, node:zlib, node:child_process... that only `serve`, `run` and the SDK
 * use (about 20 ms on Node 24). Serving each built-in as a tiny CommonJS module (`require()` through the banner's
 * createRequire) lets esbuild initialise it lazily, with the first module that needs it.
 */
const lazyBuiltins = {
  name: 'lazy-node-builtins',
  setup(build) {
    build.onResolve({ filter: /^[a-z_:/]+$/ }, (args) => {
      if (!isBuiltin(args.path)) return undefined;
      // The stand-in's own require() is the real one: external, resolved by Node at run time.
      return args.namespace === 'node-builtin' ? { path: args.path, external: true } : { path: args.path, namespace: 'node-builtin' };
    });
    build.onLoad({ filter: /.*/, namespace: 'node-builtin' }, (args) => ({
      contents: `module.exports = require(${JSON.stringify(args.path)});`,
      loader: 'js',
    }));
  },
};

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
  plugins: [lazyBuiltins],
  logLevel: 'warning',
  banner: {
    // Bundled CommonJS dependencies (the AWS SDK) call require(); ESM has none, so make one.
    js: "#!/usr/bin/env node\nimport { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);",
  },
});
await chmod(outfile, 0o755);
const bytes = Object.values(result.metafile.outputs).reduce((sum, output) => sum + output.bytes, 0);
console.log(`bundled ${outfile} (${(bytes / 1024).toFixed(0)} KiB)`);
