/**
 * No import cycles in src/ and cmd/: a cycle means a type or helper lives in the wrong file, and it makes the order in which
 * modules initialise depend on which one is imported first. Every relative import of every .ts file counts: static
 * `import` and `export ... from`, `import type` (a type in the wrong file is where a cycle starts), and `import()`.
 * The imports are read with the TypeScript compiler's pre-processor, which skips comments and strings.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** The files each .ts file under `dir` imports by a relative path, keyed and valued by path relative to `root`. */
function importGraph(root: string, dir: string): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  const files = readdirSync(join(root, dir), { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.ts') && !file.endsWith('.d.ts'))
    .map((file) => join(root, dir, file));
  for (const file of files) {
    const { importedFiles } = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
    const targets = importedFiles
      .map(({ fileName }) => fileName)
      .filter((specifier) => specifier.startsWith('.'))
      .map((specifier) => {
        // NodeNext: sources import their siblings by the emitted name (./x.js for ./x.ts).
        const target = resolve(dirname(file), specifier.replace(/\.js$/, '.ts'));
        if (!existsSync(target))
          throw new Error(`${relative(root, file)} imports ${specifier}, which resolves to no file`);
        return relative(root, target);
      });
    graph.set(relative(root, file), [...new Set(targets)].sort());
  }
  return graph;
}

/**
 * Every cycle, one per strongly connected component (Tarjan), as the file paths around it from the component's first
 * file in sorted order back to that file: `a.ts -> b.ts -> a.ts`.
 */
function importCycles(graph: Map<string, string[]>): string[] {
  const index = new Map<string, number>();
  const lowLink = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const components: string[][] = [];
  const visit = (file: string) => {
    index.set(file, index.size);
    lowLink.set(file, index.get(file)!);
    stack.push(file);
    onStack.add(file);
    for (const target of graph.get(file) ?? []) {
      if (!index.has(target)) {
        visit(target);
        lowLink.set(file, Math.min(lowLink.get(file)!, lowLink.get(target)!));
      } else if (onStack.has(target)) {
        lowLink.set(file, Math.min(lowLink.get(file)!, index.get(target)!));
      }
    }
    if (lowLink.get(file) === index.get(file)) {
      const component: string[] = [];
      let member: string;
      do {
        member = stack.pop()!;
        onStack.delete(member);
        component.push(member);
      } while (member !== file);
      if (component.length > 1 || graph.get(file)?.includes(file)) components.push(component);
    }
  };
  for (const file of [...graph.keys()].sort()) if (!index.has(file)) visit(file);
  return components.map((component) => cycleThrough(graph, new Set(component))).sort();
}

/** A shortest way round a component: from its first file (sorted) through its members back to that file. */
function cycleThrough(graph: Map<string, string[]>, members: Set<string>): string {
  const start = [...members].sort()[0]!;
  const cameFrom = new Map<string, string>();
  const queue = [start];
  while (queue.length > 0) {
    const file = queue.shift()!;
    for (const target of graph.get(file) ?? []) {
      if (!members.has(target)) continue;
      if (target === start) {
        const path = [start];
        for (let at = file; at !== start; at = cameFrom.get(at)!) path.splice(1, 0, at);
        return [...path, start].join(' -> ');
      }
      if (!cameFrom.has(target)) {
        cameFrom.set(target, file);
        queue.push(target);
      }
    }
  }
  throw new Error(`no cycle through ${start}`);
}

describe('import cycles', () => {
  it('src/ and cmd/ have none, and the library never imports the CLI', () => {
    const library = importGraph(ROOT, 'src');
    const cli = importGraph(ROOT, 'cmd');
    expect(library.size).toBeGreaterThan(50);
    expect(cli.size).toBeGreaterThan(20);
    expect(importCycles(new Map([...library, ...cli]))).toEqual([]);
    const libraryImportsOfCli = [...library].flatMap(([file, targets]) =>
      targets.filter((t) => t.startsWith('cmd/')).map((t) => `${file} -> ${t}`),
    );
    expect(libraryImportsOfCli).toEqual([]);
  });

  it('the walk finds a cycle through `import type`, `export ... from` and `import()`, not through comments or strings', () => {
    const root = mkdtempSync(join(tmpdir(), 'import-cycles-'));
    try {
      const write = (file: string, text: string) => writeFileSync(join(root, file), text);
      write('a.ts', "import type { B } from './b.js';\nexport type A = B;\n");
      write('b.ts', "export { c } from './c.js';\nexport type B = string;\n");
      write('c.ts', "export const c = () => import('./a.js');\n");
      write('d.ts', "// import './e.js'\nexport const d = \"import('./e.js')\";\n");
      write('e.ts', "import { d } from './d.js';\nexport const e = d;\n");
      write('f.ts', "import './f.js';\n");
      expect(importCycles(importGraph(root, '.'))).toEqual(['a.ts -> b.ts -> c.ts -> a.ts', 'f.ts -> f.ts']);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
