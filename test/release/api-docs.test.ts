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

describe('the public API in the emitted .d.ts', () => {
  it('documents every export and every member of every exported interface', () => {
    const { checked, missing } = undocumented(entry);
    expect(checked).toBeGreaterThan(300);
    expect(missing).toEqual([]);
  });
});
