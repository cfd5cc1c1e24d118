/**
 * The emulator's contract licences from text: `SKU:NAME:UNIT:MAX` items (`emulator --license`) and a JSON file
 * (`emulator --license-file`). Checked so that a typo is an error naming the item, or the licence and entitlement
 * in the file, rather than a licence that never matches a checkout.
 *
 * @example
 * const licenses = [
 *   ...parseLicenseItems(['sku-1:Users:Count:5']),
 *   ...parseLicenseFile(readFileSync('licenses.json', 'utf8'), 'licenses.json')
 * ];
 * await startMeteringEmulator({ licenses });
 */
import { ConfigurationError } from '../common/errors.js';
import type { EmulatedEntitlement, EmulatedLicenseInput } from './license-manager.js';

/** The optional string fields of a licence in the file (the rest of {@link EmulatedLicenseInput}). */
const LICENSE_STRING_FIELDS = [
  'keyFingerprint',
  'validityEnd',
  'status',
  'licenseArn',
  'productName',
] as const satisfies readonly (keyof EmulatedLicenseInput)[];

const LICENSE_FIELDS: readonly string[] = [
  'productSku',
  'entitlements',
  ...LICENSE_STRING_FIELDS,
] satisfies readonly (keyof EmulatedLicenseInput)[];
const ENTITLEMENT_FIELDS: readonly string[] = [
  'name',
  'unit',
  'maxCount',
  'unlimited',
] satisfies readonly (keyof EmulatedEntitlement)[];

const FILE_EXAMPLE = '[{"productSku": "sku-1", "entitlements": [{"name": "Users", "unit": "Count", "maxCount": 5}]}]';

const invalid = (message: string) => new ConfigurationError('INVALID_LICENSE', message);

/**
 * `SKU:NAME:UNIT:MAX` items as licences, MAX a whole number or `unlimited`: one licence per SKU, its entitlements
 * in the order given. Throws {@link ConfigurationError} `INVALID_LICENSE` quoting the item.
 *
 * @example parseLicenseItems(['sku-1:Users:Count:1', 'sku-1:Premium:None:unlimited']) // one licence, two entitlements
 */
export function parseLicenseItems(items: readonly string[]): EmulatedLicenseInput[] {
  const bySku = new Map<string, EmulatedLicenseInput>();
  for (const item of items) {
    const [sku, name, unit, max, ...rest] = item.split(':');
    if (!sku || !name || !unit || !max || rest.length > 0) {
      throw invalid(
        `${JSON.stringify(item)} is not SKU:NAME:UNIT:MAX, e.g. sku-1:Users:Count:5 or sku-1:Premium:None:unlimited.`,
      );
    }
    const license = bySku.get(sku) ?? { productSku: sku, entitlements: [] };
    bySku.set(sku, license);
    license.entitlements.push({ name, unit, ...entitlementMaximum(max, JSON.stringify(item)) });
  }
  return [...bySku.values()];
}

/**
 * The licences in `text` (JSON): an array of `{"productSku", "entitlements": [{"name", "unit", "maxCount" |
 * "unlimited"}], "keyFingerprint"?, "validityEnd"?, "status"?, "licenseArn"?, "productName"?}`. `source` (the
 * file's name) starts every error message, which names the licence and entitlement by index. Throws
 * {@link ConfigurationError} `INVALID_LICENSE`.
 */
export function parseLicenseFile(text: string, source: string): EmulatedLicenseInput[] {
  const bad = (why: string) => invalid(`${source}: ${why}`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw bad(`not JSON (${(err as Error).message}); expected an array like ${FILE_EXAMPLE}.`);
  }
  if (!Array.isArray(parsed)) throw bad(`expected an array like ${FILE_EXAMPLE}.`);
  return parsed.map((entry: unknown, i): EmulatedLicenseInput => {
    const where = `licence ${i}`;
    if (!isObject(entry) || typeof entry.productSku !== 'string' || entry.productSku === '') {
      throw bad(`${where} needs a "productSku" string (the SKU a checkout names).`);
    }
    if (!Array.isArray(entry.entitlements) || entry.entitlements.length === 0) {
      throw bad(
        `${where} needs a non-empty "entitlements" array, e.g. [{"name": "Users", "unit": "Count", "maxCount": 5}].`,
      );
    }
    const unknown = Object.keys(entry).find((key) => !LICENSE_FIELDS.includes(key));
    if (unknown !== undefined)
      throw bad(`${where}: "${unknown}" is not one of ${LICENSE_FIELDS.join(', ')}; fix or remove it.`);
    const strings: Partial<Record<(typeof LICENSE_STRING_FIELDS)[number], string>> = {};
    for (const field of LICENSE_STRING_FIELDS) {
      const value = entry[field];
      if (value === undefined) continue;
      if (typeof value !== 'string') throw bad(`${where}: "${field}" must be a string.`);
      strings[field] = value;
    }
    if (strings.validityEnd !== undefined && Number.isNaN(Date.parse(strings.validityEnd))) {
      throw bad(
        `${where}: "validityEnd" ${JSON.stringify(strings.validityEnd)} ` +
          'is not an ISO 8601 time, e.g. 2030-01-01T00:00:00Z.',
      );
    }
    const entitlements = entry.entitlements.map((e: unknown, j): EmulatedEntitlement => {
      if (!isObject(e) || typeof e.name !== 'string' || typeof e.unit !== 'string')
        throw bad(`${where} entitlement ${j} needs "name" and "unit" strings.`);
      const unknownField = Object.keys(e).find((key) => !ENTITLEMENT_FIELDS.includes(key));
      if (unknownField !== undefined)
        throw bad(
          `${where} entitlement ${j}: "${unknownField}" is not one ` +
            `of ${ENTITLEMENT_FIELDS.join(', ')}; fix or remove it.`,
        );
      return {
        name: e.name,
        unit: e.unit,
        ...entitlementMaximum(
          e.unlimited === true ? 'unlimited' : e.maxCount,
          `${source}: ${where} entitlement ${j} "maxCount"`,
        ),
      };
    });
    return { productSku: entry.productSku, entitlements, ...strings };
  });
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** `unlimited`, or a whole number of units (0 or more). */
function entitlementMaximum(max: unknown, where: string): Pick<EmulatedEntitlement, 'maxCount' | 'unlimited'> {
  if (max === 'unlimited') return { unlimited: true };
  const count = typeof max === 'number' || typeof max === 'string' ? Number(max) : Number.NaN;
  if (!Number.isInteger(count) || count < 0) {
    throw invalid(
      `${where}: the maximum ${JSON.stringify(max) ?? String(max)} is not ` +
        'a whole number or "unlimited"; give the units available, e.g. 5.',
    );
  }
  return { maxCount: count };
}
