// Mistakes an operator makes on the command line, through the built CLI: each must exit with the right code and
// a message that names what was wrong and what to do (never exit 70, which says "a bug").
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { commands } from '../../cmd/commands.js';
import { envNames } from '../../cmd/args.js';
import { TEST_PRODUCT_CODE, useEmulator } from '../support/index.js';
import { baseEnv, emulatorEnv, runCli, useTempDir } from './helpers.js';

const emulator = useEmulator();
const tempDir = useTempDir();

describe('operator mistakes', () => {
  it('refuses an option given twice on the node:util fast path too (check), as the docs promise', async () => {
    const result = await runCli([
      'check',
      '--file',
      join(tempDir(), 'a.jwt'),
      '--file',
      join(tempDir(), 'b.jwt'),
      '--public-key',
      'x',
    ]);
    expect(result.code).toBe(64);
    expect(result.stderr).toContain('--file was given more than once');
  });

  it.each([
    ['serve', ['serve', '--product-code', 'p', '--public-key', 'x', '--port', '99999']],
    ['emulator', ['emulator', '--port', '1.5']],
  ])('%s: a port out of range is a usage error naming --port, not an internal error', async (_name, args) => {
    const result = await runCli(args);
    expect(result.code).toBe(64);
    expect(result.failure()).toMatch(/--port "(99999|1\.5)" is not valid: expected a whole number from 0 to 65535/);
  });

  it('inspect with no file names what is missing, not how many positionals yargs counted', async () => {
    const result = await runCli(['inspect']);
    expect(result.code).toBe(64);
    expect(result.stderr).toContain(
      'Missing <file>: the entitlement file or token file, or - for stdin (`marketplace-entitlement inspect <file>`)',
    );
    expect(result.stderr).not.toContain('non-option arguments');
    expect(result.stdout).toBe('');
  });

  it('--deadline 0 is a usage error naming --deadline, not a library option name', async () => {
    const result = await runCli(
      ['register', '--product-code', TEST_PRODUCT_CODE, '--out', join(tempDir(), 'd', 'e.jwt'), '--deadline', '0'],
      {
        env: emulatorEnv(emulator()),
      },
    );
    expect(result.code).toBe(64);
    expect(result.failure()).toContain('--deadline "0" is not valid: expected more than 0');
    expect(emulator().calls).toHaveLength(0);
  });

  it('a duration past what a Node timer keeps (596h) is a usage error naming the flag or variable; 596h is accepted', async () => {
    const env = emulatorEnv(emulator());
    const register = (deadline: string, extraEnv: NodeJS.ProcessEnv = {}) =>
      runCli(
        [
          'register',
          '--product-code',
          TEST_PRODUCT_CODE,
          '--out',
          join(tempDir(), 'd', 'e.jwt'),
          ...(deadline ? ['--deadline', deadline] : []),
        ],
        {
          env: { ...env, ...extraEnv },
        },
      );
    const tooLong = await register('597h');
    expect(tooLong.code).toBe(64);
    expect(tooLong.failure()).toContain('--deadline "597h" is not valid: expected at most 596h');
    const fromEnv = await register('', { MARKETPLACE_DEADLINE: '600h' });
    expect(fromEnv.code).toBe(64);
    expect(fromEnv.failure()).toContain('MARKETPLACE_DEADLINE');
    expect(emulator().calls).toHaveLength(0);
    const longest = await register('596h');
    expect(longest.code).toBe(0);
  });

  it('run: a command without -- is told to put it after --; no command at all is a usage error', async () => {
    const env = emulatorEnv(emulator());
    const out = join(tempDir(), 'r', 'e.jwt');
    const withoutDash = await runCli(['run', '--product-code', TEST_PRODUCT_CODE, '--out', out, 'echo', 'hi'], { env });
    expect(withoutDash.code).toBe(64);
    expect(withoutDash.stderr).toContain('run [options] -- echo hi');
    const nothing = await runCli(['run', '--product-code', TEST_PRODUCT_CODE, '--out', out], { env });
    expect(nothing.code).toBe(64);
    expect(nothing.failure()).toContain('give the command after --');
  });

  it('PEM text given without = gets the fix, and no key material is echoed', async () => {
    const pem = emulator().publicKeyPem;
    const result = await runCli(['check', '--public-key', pem]);
    expect(result.code).toBe(64);
    expect(result.failure()).toContain('--public-key="$KEY"');
    const body = pem.split('\n')[1]!;
    expect(result.stdout + result.stderr).not.toContain(body);
  });

  it('usage messages from yargs end as a sentence before the help pointer', async () => {
    const result = await runCli(['inspect'], { env: baseEnv({ MARKETPLACE_LOG_FORMAT: 'text' }) });
    expect(result.code).toBe(64);
    expect(result.stderr).toMatch(/\. Run `marketplace-entitlement inspect --help` for usage\.\n$/);
  });

  it('a misspelt MARKETPLACE_ variable is named next to the missing option it was meant for', async () => {
    const result = await runCli(['register', '--public-key', 'x'], {
      env: baseEnv({ MARKETPLACE_PRODUCTCODE: TEST_PRODUCT_CODE }),
    });
    expect(result.code).toBe(64);
    expect(result.stderr).toContain('MARKETPLACE_PRODUCTCODE is set: did you mean MARKETPLACE_PRODUCT_CODE?');
  });
});

describe('docs/cli.md', () => {
  it('documents every command and every option row as --help has it (flag, environment name, default)', async () => {
    const doc = await readFile(new URL('../../docs/cli.md', import.meta.url), 'utf8');
    for (const spec of commands) {
      expect(doc, spec.name).toContain(`### \`${spec.usage ?? spec.name}\``);
      expect(doc, spec.name).toMatch(new RegExp(`^\\| \`${spec.name}( |\`)`, 'm'));
      const section = doc.slice(doc.indexOf(`### \`${spec.usage ?? spec.name}\``)).split('\n### ')[0]!;
      for (const [name, option] of Object.entries(spec.options)) {
        const flag = `\`--${name}\`${option.required === true ? ' (required)' : ''}`;
        const fallback = option.default === undefined ? '' : `\`${String(option.default)}\``;
        expect(section, `${spec.name} --${name}`).toContain(
          `| ${flag} | \`${envNames(name, option).join('` or `')}\` | ${fallback} |`,
        );
      }
    }
  });
});
