// The `emulator` command's License Manager flags, through the built CLI: the emulator runs as a child process and
// the library checks licences out of it through the official @aws-sdk/client-license-manager.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { NotEntitledError } from '../../src/errors.js';
import { acquireLicense, type RequestedEntitlement } from '../../src/license/index.js';
import { DUMMY_CREDENTIALS, FAST_RETRY, rejectionOf, TEST_REGION } from '../support/index.js';
import { runCli, startEmulator, useTempDir } from './helpers.js';

const tempDir = useTempDir();
const checkout = (
  url: string,
  productSku: string,
  entitlements: RequestedEntitlement[] = [{ name: 'Users', unit: 'Count', value: '1' }],
) =>
  acquireLicense({
    productSku,
    entitlements,
    endpoint: url,
    region: TEST_REGION,
    credentials: DUMMY_CREDENTIALS,
    retry: FAST_RETRY,
    deadlineMs: 10_000,
    logger: {},
  });

describe('emulator licence flags', () => {
  it('--license SKU:NAME:UNIT:MAX makes one licence per SKU; its floating pool is accounted', async () => {
    const emulator = await startEmulator([
      '--license',
      'sku-a:Users:Count:1,sku-a:Premium:None:unlimited',
      '--license',
      'sku-b:Seats:Count:3',
    ]);
    try {
      const lease = await checkout(emulator.url, 'sku-a', [
        { name: 'Users', unit: 'Count', value: '1' },
        { name: 'Premium', unit: 'None' },
      ]);
      expect(lease.entitlementsAllowed.map((e) => e.name)).toEqual(['Users', 'Premium']);
      await rejectionOf(checkout(emulator.url, 'sku-a'), NotEntitledError);
      await lease.close();
      await (await checkout(emulator.url, 'sku-a')).close();
      await (await checkout(emulator.url, 'sku-b', [{ name: 'Seats', unit: 'Count', value: '3' }])).close();
    } finally {
      emulator.cli.child.kill('SIGTERM');
      await emulator.cli.done;
    }
  });

  it('--license-file reads licences from JSON', async () => {
    const file = join(tempDir(), 'licenses.json');
    await writeFile(
      file,
      JSON.stringify([{ productSku: 'sku-json', entitlements: [{ name: 'Users', unit: 'Count', maxCount: 2 }] }]),
    );
    const emulator = await startEmulator(['--license-file', file]);
    try {
      await (await checkout(emulator.url, 'sku-json', [{ name: 'Users', unit: 'Count', value: '2' }])).close();
      await rejectionOf(
        checkout(emulator.url, 'sku-json', [{ name: 'Users', unit: 'Count', value: '3' }]),
        NotEntitledError,
      );
    } finally {
      emulator.cli.child.kill('SIGTERM');
      await emulator.cli.done;
    }
  });

  it.each([
    [['--license', 'sku:Users:Count'], 'is not SKU:NAME:UNIT:MAX'],
    [['--license', 'sku:Users:Count:many'], 'not a whole number'],
    [['--license-file', 'LICENSE_FILE_PLACEHOLDER'], 'needs a "productSku"'],
  ])('refuses %j with a usage error (exit 64)', async (args, message) => {
    const file = join(tempDir(), 'bad-licenses.json');
    await writeFile(file, JSON.stringify([{ entitlements: [] }]));
    const result = await runCli([
      'emulator',
      '--port',
      '0',
      ...args.map((a) => (a === 'LICENSE_FILE_PLACEHOLDER' ? file : a)),
    ]);
    expect(result.code).toBe(64);
    expect(result.failure()).toContain(message);
  });
});
