// writeLine, the one-shot commands' synchronous output (cmd/log.ts), in a real child process writing to a real pipe.
import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CLI, useTempDir } from './helpers.js';

const tempDir = useTempDir();
const LOG_MODULE = pathToFileURL(join(CLI, '..', 'cmd', 'log.js')).href;

describe('writeLine', () => {
  it('after a full non-blocking pipe (EAGAIN) hands a line to the stream, later lines follow it there: whole and in order', async () => {
    // The child builds process.stdout (libuv makes the pipe non-blocking), writes far more than the pipe holds, so the
    // rest is queued on the stream, then keeps its event loop busy while we read: the pipe has room again but the
    // stream has not flushed. A second line written straight to the fd then would land inside the first.
    const big = 3_000_000;
    const child = join(tempDir(), 'write-lines.mjs');
    await writeFile(
      child,
      `import { writeLine } from ${JSON.stringify(LOG_MODULE)};
process.stdout;
writeLine(1, 'A'.repeat(${big}));
const until = Date.now() + 300;
while (Date.now() < until);
writeLine(1, 'SECOND');
`,
    );
    const proc = spawn(process.execPath, [child], { stdio: ['ignore', 'pipe', 'inherit'] });
    proc.stdout.pause();
    // Nothing read for a while (the pipe fills while the child is busy), then everything as it comes.
    await new Promise((resolve) => setTimeout(resolve, 100));
    const chunks: Buffer[] = [];
    proc.stdout.on('data', (chunk: Buffer) => chunks.push(chunk)).resume();
    const exitCode = await new Promise((resolve) => proc.on('close', resolve));
    const out = Buffer.concat(chunks).toString();
    expect(exitCode).toBe(0);
    expect(out.length).toBe(big + 1 + 'SECOND\n'.length);
    expect(out.indexOf('SECOND')).toBe(big + 1);
  });
});
