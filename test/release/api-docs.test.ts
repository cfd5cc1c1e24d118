/**
 * Every export of every entry point of the package, and every member of every exported interface (options, results,
 * claims), has a doc comment in the emitted `.d.ts`: what an editor shows on hover; and every entry point has a module
 * doc comment with an example. Read with the TypeScript compiler from the `.d.ts` files package.json's `exports`
 * points at (`types` condition) after `npm run build`.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const manifest = JSON.parse(readFileSync(`${ROOT}package.json`, 'utf8')) as {
  exports: Record<string, string | { types?: string }>;
};
const entries = Object.entries(manifest.exports)
  .filter((e): e is [string, { types: string }] => typeof e[1] === 'object' && typeof e[1].types === 'string')
  .map(([subpath, { types }]) => [subpath, fileURLToPath(new URL(types, `file://${ROOT}`))] as const);

const results = new Map<string, { checked: number; missing: string[] }>();
/** Names of exports and interface members without a doc comment, as `Export` or `Export.member` (once per file). */
function undocumented(file: string): { checked: number; missing: string[] } {
  if (!results.has(file)) results.set(file, findUndocumented(file));
  return results.get(file)!;
}

function findUndocumented(file: string): { checked: number; missing: string[] } {
  const program = ts.createProgram([file], {
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    strict: true,
    skipLibCheck: true,
  });
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

/** The module doc comment: the first JSDoc block of the emitted file, before any export. */
function moduleDoc(file: string): string {
  return /^(?:\/\/\/.*\n|\s)*(\/\*\*[\s\S]*?\*\/)/.exec(readFileSync(file, 'utf8'))?.[1] ?? '';
}

describe('the public API in the emitted .d.ts', () => {
  it('has a typed entry point for the root and for each capability', () => {
    expect(entries.map(([subpath]) => subpath)).toEqual(
      expect.arrayContaining(['.', './emulator', './license', './metering', './metering/datafire']),
    );
  });

  it.each(entries)('%s documents every export and every member of every exported interface', (_subpath, file) => {
    const { checked, missing } = undocumented(file);
    expect(checked).toBeGreaterThan(0);
    expect(missing).toEqual([]);
  });

  it('documents more than 300 names across the entry points', () => {
    expect(entries.reduce((sum, [, file]) => sum + undocumented(file).checked, 0)).toBeGreaterThan(300);
  });

  it.each(entries)('%s re-exports only: no code of its own', (_subpath, file) => {
    const code = readFileSync(file.replace(/\.d\.ts$/, '.js'), 'utf8')
      .replace(/\/\*[\s\S]*?\*\/|^\s*\/\/.*$/gm, '')
      .split(/;\s*/)
      .map((statement) => statement.trim())
      .filter(Boolean);
    expect(code.filter((statement) => !/^export (?:\*|\{[^}]*\}) from '\.{1,2}\/[^']+\.js'$/.test(statement))).toEqual(
      [],
    );
  });

  it.each(entries)('%s opens with a module doc comment that names it and shows it imported', (subpath, file) => {
    const doc = moduleDoc(file);
    const specifier = `marketplace-entitlement${subpath.slice(1)}`;
    expect(doc).toContain('@example');
    expect(doc).toContain(`from '${specifier}'`);
  });
});
