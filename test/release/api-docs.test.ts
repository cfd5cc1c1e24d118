/**
 * Every export of the package, and every member of every exported interface (options, results, claims), has a doc
 * comment in the emitted `.d.ts`: what an editor shows on hover. Read with the TypeScript compiler from
 * dist/src/index.d.ts (`npm run build`), the file `types` points at.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const manifest = JSON.parse(readFileSync(`${ROOT}package.json`, 'utf8')) as { types: string };
const entry = fileURLToPath(new URL(manifest.types, `file://${ROOT}`));

/** Names of exports and interface members without a doc comment, as `Export` or `Export.member`. */
function undocumented(file: string): { checked: number; missing: string[] } {
  const program = ts.createProgram([file], { module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, strict: true, skipLibCheck: true });
  const checker = program.getTypeChecker();
  const hover = (symbol: ts.Symbol) => ts.displayPartsToString(symbol.getDocumentationComment(checker)).trim();
  const missing: string[] = [];
  let checked = 0;
  for (const exported of checker.getExportsOfModule(checker.getSymbolAtLocation(program.getSourceFile(file)!)!)) {
    const symbol = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
    checked++;
    if (!hover(symbol)) missing.push(exported.name);
    if (symbol.flags & ts.SymbolFlags.Interface) {
      for (const member of checker.getPropertiesOfType(checker.getDeclaredTypeOfSymbol(symbol))) {
        checked++;
        if (!hover(member)) missing.push(`${exported.name}.${member.name}`);
      }
    }
  }
  return { checked, missing };
}

/**
 * Known gap, to be closed: the contract and custom-metering API merged from issue 12 (License Manager lease, its
 * emulator) arrived without these doc comments. The list must match exactly: documenting one means deleting it
 * here, and anything else undocumented fails.
 */
const KNOWN_UNDOCUMENTED = [
  'ServeEntitlementOptions.pricing',
  'MeteringEmulatorOptions.licenseManager',
  'CHECKOUT_TYPES',
  'AcquireLicenseOptions',
  'Lease',
  'Lease.productSku',
  'Lease.licenseArn',
  'Lease.entitlementsAllowed',
  'Lease.checkoutType',
  'Lease.consumptionToken',
  'Lease.region',
  'Lease.status',
  'Lease.off',
  'LeaseStatus.entitled',
  'LeaseStatus.productSku',
  'LeaseStatus.licenseArn',
  'LeaseStatus.checkoutType',
  'LeaseStatus.validityEnd',
  'LeaseStatus.licenseVersion',
  'LeaseStatus.entitlementsAllowed',
  'RequestedEntitlement.name',
  'AllowedEntitlement.name',
  'AllowedEntitlement.unit',
  'AllowedEntitlement.value',
  'CheckoutTypeName',
  'LicenseManagerCallOptions',
  'LicenseManagerOperation',
  'LicenseManagerEmulator',
  'LicenseManagerEmulator.licenses',
  'LicenseManagerEmulator.scenario',
  'LicenseManagerEmulator.reset',
  'EmulatedLicense',
  'EmulatedLicense.licenseArn',
  'EmulatedLicense.productSku',
  'EmulatedLicense.productName',
  'EmulatedLicense.keyFingerprint',
  'EmulatedLicense.entitlements',
  'EmulatedLicense.validityStart',
  'EmulatedLicense.validityEnd',
  'EmulatedLicense.status',
  'EmulatedLicense.version',
  'EmulatedLicenseInput.productSku',
  'EmulatedLicenseInput.entitlements',
  'EmulatedLicenseInput.licenseArn',
  'EmulatedLicenseInput.keyFingerprint',
  'EmulatedLicenseInput.productName',
  'EmulatedEntitlement',
  'EmulatedEntitlement.name',
  'EmulatedEntitlement.unlimited',
  'MeteringEntitlementOptions',
  'MeteringEntitlementOptions.productCode',
  'MeteringEntitlement.productCode',
  'MeteringEntitlement.dimension',
  'MeteringEntitlement.attempts',
  'MeteringEntitlement.region',
];

describe('the public API in the emitted .d.ts', () => {
  it('documents every export and every member of every exported interface', () => {
    const { checked, missing } = undocumented(entry);
    expect(checked).toBeGreaterThan(300);
    expect(missing).toEqual(KNOWN_UNDOCUMENTED);
  });
});
