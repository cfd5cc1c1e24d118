// The CLI's answers to a person at a terminal: --version, "did you mean", usage errors in the requested log
// format, inspect output that a crafted file cannot forge, and stdin that cannot be endless.
import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { VERSION } from '../../cmd/version.js';
import { baseEnv, CLI, runCli, signFile, useTempDir } from './helpers.js';

const tempDir = useTempDir();
const TEXT_LOG_LINE = /^\d{4}-\d\d-\d\dT[\d:.]+Z ERROR cli\.usage /;

describe('CLI usage', () => {
  it('--version prints the package version and exits 0', async () => {
    const packageVersion = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
    expect(VERSION).toBe(packageVersion);
    const result = await runCli(['--version']);
    expect(result).toMatchObject({ code: 0, stdout: `${packageVersion}\n`, stderr: '' });
  });

  it('names a misspelt command and suggests the right one', async () => {
    const result = await runCli(['regster']);
    expect(result.code).toBe(64);
    expect(result.stdout).toContain('Unknown command "regster". Did you mean register?');
  });

  it.each([
    ['check (fast path)', ['check', '--pubic-key-file', 'k.pem'], '--public-key-file'],
    ['register', ['register', '--product-cod', 'abc'], '--product-code'],
    ['serve', ['serve', '--prot', '8080'], '--port'],
  ])('%s: a misspelt flag gets "did you mean"', async (_name, args, meant) => {
    const result = await runCli(args);
    expect(result.code).toBe(64);
    expect(result.stdout).toMatch(new RegExp(`Unknown argument: [a-z-]+\\. Did you mean ${meant}\\?`));
  });

  it('does not suggest a flag for a word that is nothing like one', async () => {
    const result = await runCli(['check', '--zzzzzzzz']);
    expect(result.code).toBe(64);
    expect(result.stdout).not.toContain('Did you mean');
  });

  it.each([
    ['--log-format text', ['check', '--log-format', 'text', '--bogus'], {}],
    ['--log-format=text', ['register', '--log-format=text', '--port', 'x'], {}],
    ['MARKETPLACE_LOG_FORMAT=text', ['serve', '--port', '70000'], { MARKETPLACE_LOG_FORMAT: 'text' }],
  ])('a usage error is logged as text when %s asked for it', async (_name, args, env) => {
    const result = await runCli(args, { env: baseEnv(env) });
    expect(result.code).toBe(64);
    expect(result.stderr).toMatch(TEXT_LOG_LINE);
    expect(() => result.logs()).toThrow(); // not JSON
  });

  it('a usage error is a JSON log line by default', async () => {
    const result = await runCli(['check', '--bogus']);
    expect(result.code).toBe(64);
    expect(result.logs()).toEqual([expect.objectContaining({ level: 'error', event: 'cli.usage', command: 'check' })]);
  });
});

describe('inspect', () => {
  it('escapes control characters, so a crafted claim cannot fake a verification line', async () => {
    const forged = '\u001b[1A\u001b[2K\r  verification: OK\n\u009b31m\u202e';
    const file = join(tempDir(), 'crafted.jwt');
    await writeFile(file, signFile({ productCode: forged, [`key\u001b]0;title\u0007`]: 1 }));
    const result = await runCli(['inspect', file]);
    expect(result.code).toBe(0);
    expect(result.stdout).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202e]/);
    expect(result.stdout.split('\n').filter((line) => /^\s*verification:/.test(line))).toEqual([
      '  verification: not attempted (give the product public key to verify)',
    ]);
    expect(result.stdout).toContain('productCode: \\u001b[1A\\u001b[2K\\u000d  verification: OK\\u000a\\u009b31m\\u202e');
    expect(result.stdout).toContain('key\\u001b]0;title\\u0007: 1');
  });

  it('inspect - stops reading an endless stdin at 1 MiB and exits 66', async () => {
    const zero = openSync('/dev/zero', 'r');
    try {
      const child = spawn(process.execPath, [CLI, 'inspect', '-'], { env: baseEnv(), stdio: [zero, 'pipe', 'pipe'] });
      let stderr = '';
      child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      const code = await new Promise((resolve) => child.on('close', resolve));
      expect(code).toBe(66);
      expect(stderr).toContain('INSPECT_INPUT_UNREADABLE');
      expect(stderr).toContain('The standard input is larger than the 1048576 bytes expected');
    } finally {
      closeSync(zero);
    }
  });
});
