#!/usr/bin/env node
// Bundles the CLI for `bin` and the image, in two parts (docs/benchmarks.md has the measurements behind this):
//
//   dist/cli.cjs       the entry (cmd/entry.ts): `check`, the exec probe, runs entirely from this one small CommonJS
//                      file; anything else is handed to dist/cli.mjs. CommonJS because starting the ES module
//                      loader is a measurable share of a bare Node start, paid on every probe.
//   dist/cli.mjs       the whole CLI (cmd/main.ts) as ES modules, split by esbuild at every `import()`: `--help`
//   dist/chunks/*.mjs  parses yargs and the command table, `register` adds the AWS SDK, and the SDK's own lazily
//                      loaded parts (SSO, STS...) stay unread unless a credential source needs them.
//
// The image copies exactly these files (Dockerfile); dist/bundle-meta.json records which sources went into which
// file, for the test that guards what `check` and `--help` load (test/cli/startup-paths.test.ts).
import { chmod, rm, writeFile } from 'node:fs/promises';
import { createRequire, isBuiltin } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { writeNpmSbom } from './sbom.mjs';
import { bundledPackages, writeThirdPartyNotices } from './third-party-notices.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');

/**
 * An ES `import` of a Node built-in cannot be deferred, so esbuild hoists every one to the top of the module that
 * imports it and a command would load node:http, node:zlib, node:child_process... that only `serve`, `run` and the
 * SDK use. Serving each built-in as a tiny CommonJS module (`require()` through the banner's createRequire) lets
 * esbuild initialise it lazily, with the first module that needs it. Not the built-ins Node's own start-up has
 * already loaded (the same on Node 20, 22 and 24; and `module`, which the banner imports anyway): deferring those
 * saves nothing, and each stand-in costs an ES module of its own plus a copy of every export at every import site
 * (docs/benchmarks.md). dist/cli.cjs needs none of this: its require() calls stay where the code
 * calls them.
 */
const BOOTSTRAP_BUILTINS = new Set([
  'events',
  'buffer',
  'path',
  'querystring',
  'async_hooks',
  'timers',
  'util',
  'fs',
  'url',
  'module',
]);
const lazyBuiltins = {
  name: 'lazy-node-builtins',
  setup(build) {
    build.onResolve({ filter: /^[a-z_:/]+$/ }, (args) => {
      if (!isBuiltin(args.path)) return undefined;
      if (BOOTSTRAP_BUILTINS.has(args.path.replace(/^node:/, ''))) return { path: args.path, external: true };
      // An import() is already deferred, and of a CommonJS stand-in it would yield only `default`: keep it real.
      if (args.kind === 'dynamic-import') return { path: args.path, external: true };
      // The stand-in's own require() is the real one: external, resolved by Node at run time.
      return args.namespace === 'node-builtin'
        ? { path: args.path, external: true }
        : { path: args.path, namespace: 'node-builtin' };
    });
    build.onLoad({ filter: /.*/, namespace: 'node-builtin' }, (args) => ({
      contents: `module.exports = require(${JSON.stringify(args.path)});`,
      loader: 'js',
    }));
  },
};

/**
 * One string-width for the whole help screen, loaded only for text that needs it. cliui and wrap-ansi ask for 7.x,
 * which runs every character of the help text through Intl.Segmenter and an emoji regular expression; yargs' own
 * 8.x returns the length of printable ASCII at once and measures anything else by the same rules, but builds its
 * Intl.Segmenter and Unicode-property regular expressions when loaded, which alone cost about a tenth of a bare
 * Node start. So every `string-width` import gets this stand-in: printable ASCII (all of our help text) is its
 * length, as 8.x itself answers; anything else goes to 8.x, loaded on first use. Measured in docs/benchmarks.md.
 */
const yargsStringWidth = createRequire(import.meta.resolve('yargs')).resolve('string-width');
const lazyStringWidth = {
  name: 'lazy-string-width',
  setup(build) {
    build.onResolve({ filter: /^string-width$/ }, (args) =>
      args.namespace === 'lazy-string-width'
        ? { path: yargsStringWidth }
        : { path: 'string-width', namespace: 'lazy-string-width' },
    );
    build.onLoad({ filter: /.*/, namespace: 'lazy-string-width' }, () => ({
      resolveDir: root,
      loader: 'js',
      contents: `let full;
export default function stringWidth(text, options) {
  if (typeof text === 'string' && /^[\\x20-\\x7e]*$/.test(text)) return text.length;
  full ??= require('string-width').default;
  return full(text, options);
}`,
    }));
  },
};

/**
 * yargs checks two internal invariants with node:assert, which loads node:assert and its error formatting (about
 * a tenth of a bare Node start) before any help is shown. The stand-in compares first and hands a failure to the
 * real node:assert, loaded only then, so a broken invariant throws exactly the same AssertionError.
 */
const assertOnFailure = {
  name: 'assert-on-failure',
  setup(build) {
    build.onResolve({ filter: /^assert$/ }, (args) =>
      /[\\/]node_modules[\\/]yargs[\\/]/.test(args.importer)
        ? { path: 'assert', namespace: 'assert-on-failure' }
        : undefined,
    );
    build.onLoad({ filter: /.*/, namespace: 'assert-on-failure' }, () => ({
      loader: 'js',
      // Object.is: node:assert's own comparison (0 and -0 differ, NaN equals NaN).
      contents: `export function strictEqual(actual, expected, message) {
  if (!Object.is(actual, expected)) require('node:assert').strictEqual(actual, expected, message);
}
export function notStrictEqual(actual, expected, message) {
  if (Object.is(actual, expected)) require('node:assert').notStrictEqual(actual, expected, message);
}`,
    }));
  },
};

/** cmd/entry.ts hands every command but `check` to cmd/main.ts: in the bundle, that is dist/cli.mjs, loaded at run time. */
const wholeCliOutside = {
  name: 'whole-cli-outside',
  setup(build) {
    build.onResolve({ filter: /^\.\/main\.js$/ }, (args) =>
      args.importer === join(root, 'cmd', 'entry.ts') ? { path: './cli.mjs', external: true } : undefined,
    );
  },
};

const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  // The AWS SDK's ES module builds tree-shake: 20% fewer bytes for every start to parse than its CJS builds.
  mainFields: ['module', 'main'],
  minify: true,
  // Error classes name themselves from new.target.name; logs and `err.name` checks need the real names.
  keepNames: true,
  legalComments: 'none',
  metafile: true,
  logLevel: 'warning',
};

await rm(join(dist, 'chunks'), { recursive: true, force: true });
const [entry, whole] = await Promise.all([
  build({
    ...common,
    entryPoints: [join(root, 'cmd', 'entry.ts')],
    outfile: join(dist, 'cli.cjs'),
    format: 'cjs',
    // Built-ins stay plain require() calls, made where each module is first initialised; the stand-ins the ES build
    // needs would wrap each in a copy of all its exports, a cost paid on every probe.
    plugins: [wholeCliOutside],
    // CommonJS has no import.meta: a module of the check path that needs its own location must use __filename.
    logOverride: { 'empty-import-meta': 'error' },
    banner: { js: '#!/usr/bin/env node' },
  }),
  build({
    ...common,
    entryPoints: { cli: join(root, 'cmd', 'main.ts') },
    outdir: dist,
    outExtension: { '.js': '.mjs' },
    chunkNames: 'chunks/[name]-[hash]',
    format: 'esm',
    splitting: true,
    plugins: [lazyStringWidth, assertOnFailure, lazyBuiltins],
    banner: {
      // Bundled CommonJS dependencies (the AWS SDK) call require(); ESM has none, so make one.
      js: "#!/usr/bin/env node\nimport { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);",
    },
  }),
]);
await chmod(join(dist, 'cli.cjs'), 0o755);
await chmod(join(dist, 'cli.mjs'), 0o755);
const outputs = { ...entry.metafile.outputs, ...whole.metafile.outputs };
await writeFile(
  join(dist, 'bundle-meta.json'),
  `${JSON.stringify(
    {
      outputs: Object.fromEntries(
        Object.entries(outputs).map(([file, output]) => [
          file,
          {
            bytes: output.bytes,
            inputs: Object.keys(output.inputs),
            // Inputs tree-shaken to nothing: no package is listed in the notices or the SBOM for these alone.
            emptyInputs: Object.entries(output.inputs)
              .filter(([, input]) => input.bytesInOutput === 0)
              .map(([input]) => input),
          },
        ]),
      ),
    },
    null,
    1,
  )}\n`,
);
// legalComments is 'none': the bundled packages' notices go, whole, to a file shipped beside the bundle; the SBOM
// lists the same packages.
const notices = writeThirdPartyNotices({ outputs }, root, join(dist, 'THIRD_PARTY_NOTICES'));
writeNpmSbom(bundledPackages({ outputs }, root), root, join(dist, 'sbom.cdx.json'));
const kib = (files) => (files.reduce((sum, [, output]) => sum + output.bytes, 0) / 1024).toFixed(0);
const chunks = Object.entries(whole.metafile.outputs).filter(([file]) => file.includes('/chunks/'));
console.log(
  `bundled dist/cli.cjs (${kib(Object.entries(entry.metafile.outputs))} KiB), dist/cli.mjs and ${chunks.length} chunks (${kib(Object.entries(whole.metafile.outputs))} KiB); notices of ${notices.length} packages in dist/THIRD_PARTY_NOTICES, their SBOM in dist/sbom.cdx.json`,
);
