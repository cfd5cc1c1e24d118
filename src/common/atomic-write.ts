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
import { lstat, mkdir, open, readdir, rename, rm, stat, writeFile, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { OutputError } from './errors.js';

export interface AtomicWriteOptions {
  /** Default 0o644 (set explicitly, whatever the umask). */
  mode?: number;
  /** Checked before the rename: an abort leaves nothing behind and rethrows `signal.reason`. */
  signal?: AbortSignal;
}

/** Creates the parent directory of `path` if needed; throws {@link OutputError} `OUTPUT_DIR_UNAVAILABLE`. */
async function ensureParentDirectory(path: string): Promise<string> {
  const dir = dirname(resolve(path));
  try {
    await makeDirectory(dir);
  } catch (err) {
    throw new OutputError(
      'OUTPUT_DIR_UNAVAILABLE',
      `Cannot create the directory ${dir} for ${path} ` +
        `(${(err as NodeJS.ErrnoException).code ?? (err as Error).message}). Mount a writable volume there (e.g. an ` +
        'emptyDir) or choose another --out.',
      { cause: err },
    );
  }
  return dir;
}

/**
 * `mkdir -p`, one level at a time. Node's `mkdir({ recursive: true })` spins forever where mkdir answers ENOENT under
 * an existing parent (e.g. below /proc); here that ENOENT is final.
 */
async function makeDirectory(dir: string): Promise<void> {
  try {
    await mkdir(dir);
    return;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') {
      if ((await stat(dir)).isDirectory()) return;
      throw err;
    }
    if (code !== 'ENOENT' || dirname(dir) === dir) throw err;
  }
  await makeDirectory(dirname(dir));
  await mkdir(dir).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'EEXIST') throw err; // created meanwhile by another writer: fine
  });
}

/** A temp file this old was abandoned by a killed writer (a write takes milliseconds). */
const STALE_TEMP_MS = 60_000;

/**
 * Checks, before any work whose result must be written, that `path` can be written: its directory exists
 * (created if needed) and takes a small file, and `path` is absent or a regular file (a planted symlink or a
 * directory is refused, never replaced). Removes temp files that killed writers left behind.
 * Throws {@link OutputError} `OUTPUT_DIR_UNAVAILABLE`, `OUTPUT_NOT_REGULAR_FILE` or `OUTPUT_NOT_WRITABLE`.
 *
 * @example
 * await prepareOutputPath('/var/run/marketplace-entitlement/entitlement.jwt'); // before calling AWS
 */
export async function prepareOutputPath(path: string): Promise<void> {
  const dir = await ensureParentDirectory(path);
  await refuseNonRegularFile(path);
  await removeStaleTempFiles(dir, basename(path));
  const probe = tempPathFor(dir, path);
  try {
    // As large as an entitlement file, so a full filesystem is found now, not after AWS has been called.
    await writeFile(probe, Buffer.alloc(4096), { flag: 'wx', mode: 0o600 });
  } catch (err) {
    throw new OutputError(
      'OUTPUT_NOT_WRITABLE',
      `Cannot write in ${dir} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); nothing was ` +
        'written. Mount a writable volume there (e.g. an emptyDir) or choose another --out.',
      { cause: err },
    );
  } finally {
    await rm(probe, { force: true });
  }
}

async function refuseNonRegularFile(path: string): Promise<void> {
  const stats = await lstat(path).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined;
    throw new OutputError('OUTPUT_NOT_WRITABLE', `Cannot inspect ${path} (${err.code ?? err.message}).`, {
      cause: err,
    });
  });
  if (stats && !stats.isFile()) {
    const kind = stats.isSymbolicLink()
      ? 'a symbolic link'
      : stats.isDirectory()
        ? 'a directory'
        : 'not a regular file';
    throw new OutputError(
      'OUTPUT_NOT_REGULAR_FILE',
      `${path} is ${kind}; refusing to replace it. Remove it, or choose another --out.`,
    );
  }
}

async function removeStaleTempFiles(dir: string, name: string): Promise<void> {
  const prefix = `.${name}.`;
  const entries = await readdir(dir).catch(() => [] as string[]);
  for (const entry of entries) {
    if (!entry.startsWith(prefix) || !entry.endsWith('.tmp')) continue;
    const temp = join(dir, entry);
    const stats = await lstat(temp).catch(() => undefined);
    if (stats?.isFile() && Date.now() - stats.mtimeMs > STALE_TEMP_MS) await rm(temp, { force: true });
  }
}

function tempPathFor(dir: string, path: string): string {
  return join(dir, `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
}

/** Writes `data` to `path` atomically; throws {@link OutputError} `OUTPUT_WRITE_FAILED` with nothing left behind. */
export async function writeFileAtomic(
  path: string,
  data: string | Uint8Array,
  options: AtomicWriteOptions = {},
): Promise<void> {
  const mode = options.mode ?? 0o644;
  const dir = await ensureParentDirectory(path);
  const temp = tempPathFor(dir, path);
  let handle: FileHandle | undefined;
  try {
    handle = await open(temp, 'wx', mode);
    await handle.writeFile(data);
    await handle.chmod(mode);
    await handle.sync();
    await handle.close();
    handle = undefined;
    options.signal?.throwIfAborted();
    await refuseNonRegularFile(path); // planted since prepareOutputPath? still never replaced
    await rename(temp, path);
  } catch (err) {
    await handle?.close().catch(() => undefined);
    await rm(temp, { force: true });
    if (options.signal?.aborted) throw options.signal.reason;
    if (err instanceof OutputError) throw err;
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
