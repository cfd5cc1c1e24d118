/**
 * Contract-pricing test helpers: `acquireLicense` options aimed at an emulator, and the licences tests start with.
 *
 * @example
 * const lease = await acquireLicense(licenseOptions(emulator(), { entitlements: [USERS] }));
 */
import type { EmulatedLicenseInput, MeteringEmulator } from '../../src/emulator/index.js';
import type { AcquireLicenseOptions } from '../../src/license/index.js';
import { emulatorCallOptions } from './emulator.js';

export const TEST_SKU = 'sku-test-0123456789';

/** One counted entitlement a container checks out. */
export const USERS = Object.freeze({ name: 'Users', unit: 'Count', value: '1' });

/** A contract with `maxCount` floating Users and the `Premium` tier. */
export function contract(maxCount = 1, extra: Partial<EmulatedLicenseInput> = {}): EmulatedLicenseInput {
  return {
    productSku: TEST_SKU,
    entitlements: [
      { name: 'Users', unit: 'Count', maxCount },
      { name: 'Premium', unit: 'None' },
    ],
    ...extra,
  };
}

/** `acquireLicense` options for `emulator`: explicit Region, dummy credentials, fast retries, silent. `overrides` win. */
export function licenseOptions(
  emulator: MeteringEmulator,
  overrides: Partial<AcquireLicenseOptions> = {},
): AcquireLicenseOptions {
  return {
    productSku: TEST_SKU,
    entitlements: [{ ...USERS }],
    ...emulatorCallOptions(emulator),
    ...overrides,
  };
}
