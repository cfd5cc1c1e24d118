// The CLI's answers to a person at a terminal: --version, "did you mean", usage errors in the requested log
// format, inspect output that a crafted file cannot forge, and stdin that cannot be endless.
import { execFile, spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { VERSION } from '../../cmd/version.js';
import { TEST_PRODUCT_CODE, useEmulator } from '../support/index.js';
import { baseEnv, CLI, emulatorEnv, runCli, signFile, useTempDir } from './helpers.js';

const tempDir = useTempDir();
const emulator = useEmulator();

/**
 * Runs `node CLI ARGS` on a real pseudo-terminal (util-linux `script`, as `unshare` elsewhere) with stdout sent to a
 * file, so what reaches the terminal is stderr alone. Returns the terminal's text and the stdout file's.
 */
async function onTerminal(
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ code: number; terminal: string; stdout: string }> {
  const stdoutFile = join(tempDir(), `stdout-${Math.random().toString(36).slice(2)}.txt`);
  const quote = (word: string) => `'${word.replace(/'/g, `'\\''`)}'`;
  const command = `${[process.execPath, CLI, ...args].map(quote).join(' ')} > ${quote(stdoutFile)}`;
  let code = 0;
  let terminal = '';
  try {
    terminal = (
      await promisify(execFile)('script', ['-qec', command, '/dev/null'], { env, encoding: 'utf8', timeout: 30_000 })
    ).stdout;
  } catch (err) {
    const failed = err as { code?: number | string; stdout?: string };
    if (typeof failed.code !== 'number')
      throw new Error(`util-linux \`script\` could not run (apt-get install -y util-linux): ${String(err)}`);
    code = failed.code;
    terminal = failed.stdout ?? '';
  }
  return { code, terminal: terminal.replace(/\r\n/g, '\n'), stdout: readFileSync(stdoutFile, 'utf8') };
}

describe('on a terminal (a real pty)', () => {
  it('an error is one line of text on stderr; stdout gets nothing', async () => {
    const missing = join(tempDir(), 'absent', 'entitlement.jwt');
    const result = await onTerminal(['check', '--file', missing, '--public-key', 'x'], baseEnv());
    expect(result.code).toBe(66);
    expect(result.terminal).toMatch(/^check failed \(exit 66\): ENTITLEMENT_FILE_MISSING: .*\n$/);
    expect(result.terminal).not.toContain('{');
    expect(result.stdout).toBe('');
  });

  it('logs are text on stderr; stdout carries only the result', async () => {
    const out = join(tempDir(), 'terminal.jwt');
    const result = await onTerminal(
      ['register', '--product-code', TEST_PRODUCT_CODE, '--out', out, '--instance-id', 'pod-a'],
      emulatorEnv(emulator()),
    );
    expect(result.code).toBe(0);
    expect(result.terminal).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z INFO +register\.verified Entitlement verified/m);
    expect(result.terminal).not.toContain('{"time"');
    expect(result.stdout).toMatch(
      /^entitled: product \S+ registered at .* for instance pod-a after 1 attempt\(s\); wrote /,
    );
  });

  it('--log-format json asks for JSON even on a terminal', async () => {
    const result = await onTerminal(
      ['check', '--file', join(tempDir(), 'absent.jwt'), '--public-key', 'x', '--log-format', 'json'],
      baseEnv(),
    );
    expect(result.code).toBe(66);
    expect(JSON.parse(result.terminal.trim())).toMatchObject({ level: 'error', event: 'cli.failed', exitCode: 66 });
  });
});

describe('CLI usage', () => {
  it('--version prints the package version and exits 0', async () => {
    const packageVersion = (
      JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
    ).version;
    expect(VERSION).toBe(packageVersion);
    const result = await runCli(['--version']);
    expect(result).toMatchObject({ code: 0, stdout: `${packageVersion}\n`, stderr: '' });
  });

  it('names a misspelt command and suggests the right one', async () => {
    const result = await runCli(['regster']);
    expect(result.code).toBe(64);
    expect(result.failure()).toContain('Unknown command "regster". Did you mean register?');
  });

  it.each([
    ['check (fast path)', ['check', '--pubic-key-file', 'k.pem'], '--public-key-file'],
    ['register', ['register', '--product-cod', 'abc'], '--product-code'],
    ['serve', ['serve', '--prot', '8080'], '--port'],
  ])('%s: a misspelt flag gets "did you mean"', async (_name, args, meant) => {
    const result = await runCli(args);
    expect(result.code).toBe(64);
    expect(result.stderr).toMatch(new RegExp(`Unknown argument: [a-z-]+\\. Did you mean ${meant}\\?`));
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
  ])(
    'a usage error is one line of text on stderr when %s asked for it, nothing on stdout',
    async (_name, args, env) => {
      const result = await runCli(args, { env: baseEnv(env) });
      expect(result.code).toBe(64);
      expect(result.stderr).toMatch(/^[^{\n].* Run `marketplace-entitlement \w+ --help` for usage\.\n$/);
      expect(result.stdout).toBe('');
    },
  );

  it('a usage error is one JSON log line on stderr when stderr is not a terminal, nothing on stdout', async () => {
    const result = await runCli(['check', '--bogus']);
    expect(result.code).toBe(64);
    expect(result.logs()).toEqual([expect.objectContaining({ level: 'error', event: 'cli.usage', command: 'check' })]);
    expect(result.stdout).toBe('');
  });
});

describe('inspect', () => {
  it('escapes control characters, so a crafted claim cannot fake a verification line', async () => {
    const forged = '\u001b[1A\u001b[2K\r  verification: OK\n\u009b31m\u202e';
    const file = join(tempDir(), 'crafted.jwt');
    await writeFile(file, signFile({ productCode: forged, 'key\u001b]0;title\u0007': 1 }));
    const result = await runCli(['inspect', file]);
    expect(result.code).toBe(0);
    // biome-ignore lint/suspicious/noControlCharactersInRegex: no control character may reach the terminal.
    expect(result.stdout).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202e]/);
    expect(result.stdout.split('\n').filter((line) => /^\s*verification:/.test(line))).toEqual([
      '  verification: not attempted (give the product public key to verify)',
    ]);
    expect(result.stdout).toContain(
      'productCode: \\u001b[1A\\u001b[2K\\u000d  verification: OK\\u000a\\u009b31m\\u202e',
    );
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
