/**
 * The emitted .d.ts as a consumer's compiler sees them: a project that imports the package by name, with
 * `skipLibCheck: false` and no `types` setting (TypeScript 7 then loads no @types package by itself), type-checked
 * with the TypeScript of the lockfile and with the current major (devDependency `typescript-7`). What a consumer
 * needs: @types/node installed; the package's index.d.ts references it.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
// Inside the repository, so `marketplace-entitlement` resolves to the build by its own name and `exports`.
const WORK = join(ROOT, '.tmp', 'consumer-types');
afterAll(() => rmSync(WORK, { recursive: true, force: true }));

// One name from every entry point: each subpath resolves to its own typed .d.ts.
const CONSUMER = `
import { readFileSync } from 'node:fs';
import { ensureEntitled, type EnsureEntitledOptions, type LoggerLike } from 'marketplace-entitlement';
import { DEFAULT_RETRY_POLICY, type TlsRoots } from 'marketplace-entitlement/aws';
import { startMeteringEmulator } from 'marketplace-entitlement/emulator';
import { verifyEntitlementFile } from 'marketplace-entitlement/entitlement-file';
import { NotEntitledError } from 'marketplace-entitlement/errors';
import { createEntitlementGate } from 'marketplace-entitlement/gates';
import { findCodeInjection } from 'marketplace-entitlement/hardening';
import { acquireLicense, type Lease } from 'marketplace-entitlement/license';
import { createUsageMeter } from 'marketplace-entitlement/metering';
import { create } from 'marketplace-entitlement/metering/datafire';
import { resolveRegion } from 'marketplace-entitlement/platform';
const logger: LoggerLike = console;
const tlsRoots: TlsRoots = 'aws';
const options: EnsureEntitledOptions = { productCode: 'abc123', publicKey: readFileSync('key.pem', 'utf8'), logger, tlsRoots, retry: DEFAULT_RETRY_POLICY };
export const run = () => ensureEntitled(options);
export const gate = () => createEntitlementGate({ publicKey: options.publicKey });
export const file = () => verifyEntitlementFile('/e.jwt', { publicKey: options.publicKey });
export const lease = (): Promise<Lease> => acquireLicense({ productSku: 'sku', entitlements: [{ name: 'Users', unit: 'Count', value: '1' }] });
export const meter = () => createUsageMeter({ productCode: 'abc123', dimensions: ['requests'] });
export const datafire = () => create({ region: 'us-east-1' });
export const emulator = () => startMeteringEmulator();
export const others = [NotEntitledError, findCodeInjection, resolveRegion];
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
      JSON.stringify({
        compilerOptions: {
          strict: true,
          module: 'nodenext',
          moduleResolution: 'nodenext',
          target: 'es2022',
          noEmit: true,
          skipLibCheck: false,
        },
        include: ['app.mts'],
      }),
    );
    const tsc = join(ROOT, 'node_modules', compiler, 'bin', 'tsc');
    const { stdout: version } = await promisify(execFile)(process.execPath, [tsc, '--version'], { cwd: ROOT });
    expect(version).toMatch(compiler === 'typescript-7' ? /^Version 7\./ : /^Version 5\./);
    const errors = await promisify(execFile)(process.execPath, [tsc, '-p', join(dir, 'tsconfig.json')], {
      cwd: ROOT,
    }).then(
      () => '',
      (err: { stdout: string }) => err.stdout,
    );
    expect(errors).toBe('');
  }, 120_000);
});

// TypeScript 5's older resolution (`node10`, which TypeScript 7 removed) reads no `exports`: package.json's
// `typesVersions` maps each subpath to the same .d.ts for it.
describe('a consumer on moduleResolution node10 (TypeScript 5)', () => {
  it('finds the types of every subpath through typesVersions', async () => {
    const dir = join(WORK, 'node10');
    // node10 knows no self-reference: the package is found in node_modules, as a consumer's install has it.
    mkdirSync(join(dir, 'node_modules'), { recursive: true });
    rmSync(join(dir, 'node_modules', 'marketplace-entitlement'), { force: true });
    symlinkSync(ROOT, join(dir, 'node_modules', 'marketplace-entitlement'), 'dir');
    writeFileSync(
      join(dir, 'app.ts'),
      `import type { EnsureEntitledOptions } from 'marketplace-entitlement';
import type { Lease } from 'marketplace-entitlement/license';
import type { MeteringMarketplaceClient } from 'marketplace-entitlement/metering/datafire';
import type { MeteringEmulator } from 'marketplace-entitlement/emulator';
export type Used = [EnsureEntitledOptions, Lease, MeteringMarketplaceClient, MeteringEmulator];
`,
    );
    writeFileSync(
      join(dir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          strict: true,
          module: 'commonjs',
          moduleResolution: 'node10',
          target: 'es2022',
          noEmit: true,
          skipLibCheck: false,
          types: ['node'],
        },
        include: ['app.ts'],
      }),
    );
    const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    const errors = await promisify(execFile)(process.execPath, [tsc, '-p', join(dir, 'tsconfig.json')], {
      cwd: ROOT,
    }).then(
      () => '',
      (err: { stdout: string }) => err.stdout,
    );
    expect(errors).toBe('');
  }, 120_000);
});
