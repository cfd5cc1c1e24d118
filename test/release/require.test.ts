/**
 * `require('marketplace-entitlement')` and `require('marketplace-entitlement/<capability>')` from CommonJS: the package
 * is ESM, and Node loads ESM through require() without a flag since 20.19 and 22.12 (require(esm)), so CommonJS code
 * needs no `await import()`. Run on the Node this suite runs on (CI: this machine's Node, 22 and 24), through the
 * package's own name and `exports`, for every entry point `exports` lists.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const manifest = JSON.parse(readFileSync(`${ROOT}package.json`, 'utf8')) as {
  exports: Record<string, string | { import: string }>;
};
const entries = Object.entries(manifest.exports).filter(
  (e): e is [string, { import: string }] => typeof e[1] === 'object',
);

describe('require() of the package', () => {
  it.each(entries)(
    `%s gives every export of its ESM entry, with no warning, on this Node (${process.version})`,
    async (subpath, target) => {
      const specifier = `marketplace-entitlement${subpath.slice(1)}`;
      const script = `const m = require(${JSON.stringify(specifier)}); console.log(JSON.stringify(Object.keys(m).filter((k) => k !== '__esModule' && k !== 'module.exports').sort()))`;
      const { stdout, stderr } = await promisify(execFile)(process.execPath, ['-e', script], {
        cwd: ROOT,
        encoding: 'utf8',
        timeout: 30_000,
      });
      expect(stderr).toBe('');
      const library = (await import(new URL(target.import, `file://${ROOT}`).href)) as Record<string, unknown>;
      expect(Object.keys(library).length).toBeGreaterThan(0);
      expect(JSON.parse(stdout)).toEqual(Object.keys(library).sort());
    },
  );
});
