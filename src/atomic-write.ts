/**
 * All-or-nothing file replacement: readers see the old file or the complete new one, never a partial
 * write, and a failure leaves neither a half-written file nor a temp file behind.
 *
 * The temp file is created next to the target (same filesystem, so the rename is atomic) with O_EXCL, so
 * a symlink planted at any name is never followed; the final path is never opened for writing (a rename
 * over a symlink replaces the link itself). Data and then the directory entry are fsynced so the file
 * survives a node crash right after we report success.
 *
 * @example
 * await writeFileAtomic('/var/run/marketplace-entitlement/entitlement.jwt', token + '\n', { mode: 0o644 });
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, rename, rm, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { OutputError } from './errors.js';

export interface AtomicWriteOptions {
  /** Default 0o644 (set explicitly, whatever the umask). */
  mode?: number;
  /** Checked before the rename: an abort leaves nothing behind and rethrows `signal.reason`. */
  signal?: AbortSignal;
}

/** Creates the parent directory of `path` if needed; throws {@link OutputError} `OUTPUT_DIR_UNAVAILABLE`. */
export async function ensureParentDirectory(path: string): Promise<string> {
  const dir = dirname(resolve(path));
  try {
    await mkdir(dir, { recursive: true });
  } catch (err) {
    throw new OutputError(
      'OUTPUT_DIR_UNAVAILABLE',
      `Cannot create the directory ${dir} for ${path} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}). ` +
        'Mount a writable volume there (e.g. an emptyDir) or choose another --out.',
      { cause: err },
    );
  }
  return dir;
}

/** Writes `data` to `path` atomically; throws {@link OutputError} `OUTPUT_WRITE_FAILED` with nothing left behind. */
export async function writeFileAtomic(path: string, data: string | Uint8Array, options: AtomicWriteOptions = {}): Promise<void> {
  const mode = options.mode ?? 0o644;
  const dir = await ensureParentDirectory(path);
  const temp = join(dir, `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  let handle: FileHandle | undefined;
  try {
    handle = await open(temp, 'wx', mode);
    await handle.writeFile(data);
    await handle.chmod(mode);
    await handle.sync();
    await handle.close();
    handle = undefined;
    options.signal?.throwIfAborted();
    await rename(temp, path);
  } catch (err) {
    await handle?.close().catch(() => undefined);
    await rm(temp, { force: true });
    if (options.signal?.aborted) throw options.signal.reason;
    throw new OutputError(
      'OUTPUT_WRITE_FAILED',
      `Cannot write ${path} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); nothing was written. ` +
        'Check that the path is a writable file location on a writable volume.',
      { cause: err },
    );
  }
  await syncDirectory(dir);
}

/** Makes the rename durable. Some filesystems refuse fsync on a directory; the file is complete either way. */
async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r').catch(() => undefined);
  try {
    await handle?.sync();
  } catch {
    // EINVAL/EISDIR on filesystems without directory fsync: nothing more can be done.
  } finally {
    await handle?.close();
  }
}
