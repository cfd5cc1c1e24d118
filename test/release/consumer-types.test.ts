/**
 * The emitted .d.ts as a consumer's compiler sees them: a project that imports the package by name, with
 * `skipLibCheck: false` and no `types` setting (TypeScript 7 then loads no @types package by itself), type-checked
 * with the TypeScript of the lockfile and with the current major (devDependency `typescript-7`). What a consumer
 * needs: @types/node installed; the package's index.d.ts references it.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
// Inside the repository, so `marketplace-entitlement` resolves to the build by its own name and `exports`.
const WORK = join(ROOT, '.tmp', 'consumer-types');
afterAll(() => rmSync(WORK, { recursive: true, force: true }));

const CONSUMER = `
import { readFileSync } from 'node:fs';
import { createEntitlementGate, ensureEntitled, type EnsureEntitledOptions, type LoggerLike } from 'marketplace-entitlement';
const logger: LoggerLike = console;
const options: EnsureEntitledOptions = { productCode: 'abc123', publicKey: readFileSync('key.pem', 'utf8'), logger };
export const run = () => ensureEntitled(options);
export const gate = () => createEntitlementGate({ publicKey: options.publicKey });
`;

describe.each([
  ['the lockfile TypeScript', 'typescript'],
  ['the current major, TypeScript 7', 'typescript-7'],
])('a consumer compiled with %s', (_label, compiler) => {
  it('type-checks the emitted .d.ts (skipLibCheck off, no "types" setting)', async () => {
    const dir = join(WORK, compiler);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'app.mts'), CONSUMER);
    writeFileSync(
      join(dir, 'tsconfig.json'),
      JSON.stringify({ compilerOptions: { strict: true, module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', noEmit: true, skipLibCheck: false }, include: ['app.mts'] }),
    );
    const tsc = join(ROOT, 'node_modules', compiler, 'bin', 'tsc');
    const { stdout: version } = await promisify(execFile)(process.execPath, [tsc, '--version'], { cwd: ROOT });
    expect(version).toMatch(compiler === 'typescript-7' ? /^Version 7\./ : /^Version 5\./);
    const errors = await promisify(execFile)(process.execPath, [tsc, '-p', join(dir, 'tsconfig.json')], { cwd: ROOT }).then(
      () => '',
      (err: { stdout: string }) => err.stdout,
    );
    expect(errors).toBe('');
  }, 120_000);
});
