/**
 * Every TypeScript/JavaScript block in README.md and docs/ compiles as its own module (`--strict`, `nodenext`,
 * importing the built package by its name), and every runnable block runs to a clean exit within a time limit,
 * with AWS settings that point at a local emulator (so no block can reach AWS). The fence's info string marks
 * the others (CONTRIBUTING.md):
 *
 * - ```` ```ts no-run ```` : compiled, not run (needs AWS, a real key file, or serves forever);
 * - ```` ```ts fragment ```` : neither (a piece of a larger program, or code for another package).
 */
import { execFile } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { transformSync } from 'esbuild';
import { afterAll, describe, expect, it } from 'vitest';
import { startMeteringEmulator } from '../../src/emulator/index.js';
import { DUMMY_CREDENTIALS, TEST_REGION } from '../support/index.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
// Inside the project, so that `import ... from 'marketplace-entitlement'` resolves to the build by self-reference.
const WORK = join(ROOT, '.tmp', 'doc-blocks');
const RUN_TIMEOUT_MS = 30_000;
const LANGUAGES: Record<string, 'ts' | 'js'> = { ts: 'ts', typescript: 'ts', js: 'js', javascript: 'js', mjs: 'js' };
const MARKERS = new Set(['no-run', 'fragment']);

interface Block {
  id: string;
  where: string;
  language: 'ts' | 'js';
  code: string;
  runnable: boolean;
}

function docBlocks(): { blocks: Block[]; badMarkers: string[] } {
  const files = [
    'README.md',
    ...readdirSync(join(ROOT, 'docs'), { recursive: true, encoding: 'utf8' })
      .filter((f) => f.endsWith('.md'))
      .map((f) => join('docs', f)),
  ];
  const blocks: Block[] = [];
  const badMarkers: string[] = [];
  for (const file of files) {
    const text = readFileSync(join(ROOT, file), 'utf8');
    for (const match of text.matchAll(/^```(\w+)([^\n]*)\n([\s\S]*?)^```$/gm)) {
      const language = LANGUAGES[match[1]!];
      if (!language) continue;
      const line = text.slice(0, match.index).split('\n').length;
      const where = `${file}:${line}`;
      const markers = match[2]!.trim().split(/\s+/).filter(Boolean);
      badMarkers.push(...markers.filter((m) => !MARKERS.has(m)).map((m) => `${where}: unknown marker "${m}"`));
      if (markers.includes('fragment')) continue;
      const id = `${file.replace(/[^A-Za-z0-9]+/g, '_')}_L${line}`;
      blocks.push({ id, where, language, code: match[3]!, runnable: !markers.includes('no-run') });
    }
  }
  return { blocks, badMarkers };
}

const { blocks, badMarkers } = docBlocks();
rmSync(WORK, { recursive: true, force: true });
mkdirSync(WORK, { recursive: true });
afterAll(() => rmSync(WORK, { recursive: true, force: true }));
const sourceOf = (block: Block) => join(WORK, `${block.id}.${block.language === 'ts' ? 'mts' : 'mjs'}`);
// `export {}` makes each block a module (top-level await, its own scope).
for (const block of blocks) writeFileSync(sourceOf(block), `${block.code}\nexport {};\n`);

describe('code blocks in README.md and docs/', () => {
  it('finds blocks, and only known markers', () => {
    expect(badMarkers).toEqual([]);
    expect(blocks.length).toBeGreaterThan(5);
    expect(blocks.some((b) => b.runnable)).toBe(true);
  });

  // With the lockfile's TypeScript and with the current major (devDependency `typescript-7`).
  it.each(['typescript', 'typescript-7'])(
    'every block that is not a fragment type-checks (strict, nodenext) with %s',
    async (compiler) => {
      writeFileSync(
        join(WORK, 'tsconfig.json'),
        JSON.stringify({
          compilerOptions: {
            strict: true,
            module: 'nodenext',
            moduleResolution: 'nodenext',
            target: 'es2022',
            lib: ['es2023'],
            types: ['node'],
            allowJs: true,
            checkJs: true,
            noEmit: true,
            skipLibCheck: true,
          },
          include: ['*.mts', '*.mjs'],
        }),
      );
      const tsc = join(ROOT, 'node_modules', compiler, 'bin', 'tsc');
      const result = await promisify(execFile)(process.execPath, [tsc, '-p', join(WORK, 'tsconfig.json')], {
        cwd: ROOT,
      }).then(
        () => '',
        (err: { stdout: string }) => err.stdout,
      );
      // Errors named by the doc file and line of their block.
      const named = result.replace(
        /(?:\.tmp\/doc-blocks\/)?(\w+)_L(\d+)\.m[tj]s\((\d+),\d+\)/g,
        (_all, id: string, line: string, at: string) => {
          const block = blocks.find((b) => b.id === `${id}_L${line}`);
          return block ? `${relative(ROOT, block.where.split(':')[0]!)} line ${Number(line) + Number(at)}` : _all;
        },
      );
      expect(named).toBe('');
    },
    120_000,
  );

  const runnable = blocks.filter((b) => b.runnable);
  it.each(runnable.map((b) => [b.where, b] as const))(
    '%s runs to a clean exit against the emulator',
    async (_where, block) => {
      const emulator = await startMeteringEmulator();
      try {
        const program = join(WORK, `${block.id}.run.mjs`);
        writeFileSync(
          program,
          transformSync(readFileSync(sourceOf(block), 'utf8'), {
            loader: block.language,
            format: 'esm',
            target: 'node20',
          }).code,
        );
        const env: NodeJS.ProcessEnv = {
          PATH: process.env.PATH,
          AWS_EC2_METADATA_DISABLED: 'true',
          AWS_REGION: TEST_REGION,
          AWS_ACCESS_KEY_ID: DUMMY_CREDENTIALS.accessKeyId,
          AWS_SECRET_ACCESS_KEY: DUMMY_CREDENTIALS.secretAccessKey,
          AWS_ENDPOINT_URL: emulator.url,
        };
        // Rejects on a non-zero exit or when the time limit kills it (a server left open, a promise never settled).
        const run = promisify(execFile)(process.execPath, [program], {
          cwd: ROOT,
          env,
          timeout: RUN_TIMEOUT_MS,
          killSignal: 'SIGKILL',
        });
        const { stderr } = await run;
        expect(stderr).not.toMatch(/^\w*(Error|Exception)\b|Unhandled/m); // warnings (the SDK's Node notice, retries) are fine
      } finally {
        await emulator.close();
      }
    },
  );
});
