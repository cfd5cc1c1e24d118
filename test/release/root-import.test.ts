/**
 * What `import 'marketplace-entitlement'` loads: the hourly-pricing API a seller's app imports at boot, and nothing it
 * does not need there. Listed, not timed (the time is bench/import.bench.mjs's): a fresh node imports the package by
 * name, a module loader hook records every module file the import loads (ES modules and the CommonJS ones they
 * import), and the test asserts on the list. The emulators (and with them jose), License Manager and its SDK client,
 * the DataFire client and the entitlement file's writer each have their own entry point or load on the path that
 * needs them. `marketplace-entitlement/gates` is listed too: an app that only asks the in-process gate or formats
 * metrics loads no AWS SDK client; `serveEntitlement` and `runEntitled` load what registers, meters or checks out a
 * licence when they start.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

// The hook runs on the loader's own thread and hands each URL it loads to this thread through a port.
const HOOKS = `
let port;
export function initialize(data) { port = data.port; }
export async function load(url, context, nextLoad) { port.postMessage(url); return nextLoad(url, context); }
`;
const LIST_LOADED = `
import { register, createRequire } from 'node:module';
import { MessageChannel } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
const loaded = new Set();
const { port1, port2 } = new MessageChannel();
port1.on('message', (url) => { if (url.startsWith('file:')) loaded.add(fileURLToPath(url)); });
port1.unref();
register('data:text/javascript,' + encodeURIComponent(${JSON.stringify(HOOKS)}), { data: { port: port2 }, transferList: [port2] });
await import(process.argv[1]);
// Messages posted before import() settled are delivered before this turn ends.
await new Promise((resolve) => setImmediate(resolve));
for (const file of Object.keys(createRequire(import.meta.url).cache)) loaded.add(file);
console.log(JSON.stringify([...loaded].sort()));
`;

async function filesLoadedBy(specifier: string): Promise<string[]> {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--input-type=module', '-e', LIST_LOADED, specifier],
    { cwd: ROOT, encoding: 'utf8', timeout: 60_000 },
  );
  return (JSON.parse(stdout) as string[]).map((file) => file.replace(ROOT, ''));
}

describe("import 'marketplace-entitlement'", () => {
  it('loads RegisterUsage, its verification and the Metering SDK client', async () => {
    const loaded = await filesLoadedBy('marketplace-entitlement');
    // What the root is for: the listing sees our ES modules and the SDK's CommonJS ones alike.
    expect(loaded).toContain('dist/src/index.js');
    expect(loaded).toContain('dist/src/registration/register.js');
    expect(loaded).toContain('dist/src/registration/verify.js');
    expect(loaded.some((f) => f.startsWith('node_modules/@aws-sdk/client-marketplace-metering/'))).toBe(true);
  }, 60_000);

  it('loads neither emulator, nor jose, License Manager, the DataFire client, the gates or the entitlement file writer', async () => {
    const loaded = await filesLoadedBy('marketplace-entitlement');
    const unneeded = loaded.filter(
      (f) =>
        f.startsWith('dist/src/emulator/') ||
        f.startsWith('node_modules/jose/') ||
        f.startsWith('dist/src/license/') ||
        f.startsWith('node_modules/@aws-sdk/client-license-manager/') ||
        f === 'dist/src/metering/datafire-client.js' ||
        f.startsWith('dist/src/gates/') ||
        f === 'dist/src/entitlement-file/prepare-entitlement-file.js' ||
        f === 'dist/src/common/atomic-write.js',
    );
    expect(unneeded).toEqual([]);
  }, 60_000);

  it('is what the listing would catch: the emulator entry point does load jose and License Manager', async () => {
    const loaded = await filesLoadedBy('marketplace-entitlement/emulator');
    expect(loaded.some((f) => f.startsWith('node_modules/jose/'))).toBe(true);
    expect(loaded).toContain('dist/src/emulator/license-manager.js');
  }, 60_000);
});

describe("import 'marketplace-entitlement/gates'", () => {
  it('loads the in-process gate but no AWS SDK client, emulator or jose: serve and run load them when they start', async () => {
    const loaded = await filesLoadedBy('marketplace-entitlement/gates');
    expect(loaded).toContain('dist/src/gates/gate.js');
    expect(loaded).toContain('dist/src/entitlement-file/entitlement-file.js');
    const unneeded = loaded.filter(
      (f) =>
        f.startsWith('node_modules/@aws-sdk/client-marketplace-metering/') ||
        f.startsWith('node_modules/@aws-sdk/client-license-manager/') ||
        f === 'dist/src/registration/register.js' ||
        f.startsWith('dist/src/license/') ||
        f.startsWith('dist/src/emulator/') ||
        f.startsWith('node_modules/jose/'),
    );
    expect(unneeded).toEqual([]);
  }, 60_000);
});
