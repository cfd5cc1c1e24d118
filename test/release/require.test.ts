/**
 * `require('marketplace-entitlement')` from CommonJS: the package is ESM, and Node loads ESM through require()
 * without a flag since 20.19 and 22.12 (require(esm)), so CommonJS code needs no `await import()`. Run on the Node
 * this suite runs on (CI: this machine's Node, 22 and 24), through the package's own name and `exports`.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import * as library from '../../src/index.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

describe('require() of the package', () => {
  it(`gives every export of the ESM entry, with no warning, on this Node (${process.version})`, async () => {
    const script = "const m = require('marketplace-entitlement'); console.log(JSON.stringify(Object.keys(m).filter((k) => k !== '__esModule' && k !== 'module.exports').sort()))";
    const { stdout, stderr } = await promisify(execFile)(process.execPath, ['-e', script], { cwd: ROOT, encoding: 'utf8', timeout: 30_000 });
    expect(stderr).toBe('');
    expect(JSON.parse(stdout)).toEqual(Object.keys(library).sort());
  });
});
