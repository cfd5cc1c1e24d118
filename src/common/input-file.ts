/**
 * Reading an input file (a key, an entitlement file) with failures that say which input and what to do:
 * every failure is an {@link InputError} (exit 66), `<prefix>_MISSING` when the file does not exist and
 * `<prefix>_UNREADABLE` otherwise (permissions, not a regular file, too large).
 *
 * @example
 * const pem = await readInputFile('/etc/product-key.pem', { code: 'PUBLIC_KEY_FILE', what: 'product public key' });
 */
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { InputError } from './errors.js';

/** Which input a file is, for error codes and messages, and how large it may be. */
export interface InputFileOptions {
  /** Error code prefix, e.g. `ENTITLEMENT_FILE`. */
  code: string;
  /** What the file is, for messages. */
  what: string;
  /** The fix to suggest when the file does not exist. */
  hint?: string;
  /** Larger files are refused unread. Default 1 MiB: inputs here are a few KiB. */
  maxBytes?: number;
}

/** The default size limit of an input: inputs here are a few KiB. */
const DEFAULT_MAX_INPUT_BYTES = 1024 * 1024;

/**
 * Reads a stream (stdin) as UTF-8, at most `maxBytes`: beyond that it stops reading and throws
 * {@link InputError} `${code}_UNREADABLE`, so a huge or endless input costs neither memory nor time.
 *
 * @example
 * const text = await readInputStream(process.stdin, { code: 'INSPECT_INPUT', what: 'standard input' });
 */
export async function readInputStream(
  stream: AsyncIterable<Buffer | string>,
  options: Omit<InputFileOptions, 'hint'>,
): Promise<string> {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_INPUT_BYTES;
  const chunks: Buffer[] = [];
  let length = 0;
  for await (const chunk of stream) {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    length += bytes.length;
    // Leaving the loop early destroys the stream: nothing more is read.
    if (length > maxBytes)
      throw new InputError(
        `${options.code}_UNREADABLE`,
        `The ${options.what} is larger than the ${maxBytes} bytes expected; nothing was decoded.`,
      );
    chunks.push(bytes);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * Reads `path` as UTF-8; throws {@link InputError} `${code}_MISSING` or `${code}_UNREADABLE`. Anyone who can
 * write the directory can plant something else there: a FIFO (opened non-blocking, so it cannot hang the
 * reader), a device such as /dev/zero, a huge file. Only a regular file is read, and never more than `maxBytes`.
 *
 * The reads are synchronous, in one turn of the event loop: inputs are local files of a few KiB (the usage spool,
 * read once at start, at most 32 MiB), so four thread-pool round trips and `node:fs/promises` (which `check`, the
 * exec probe, would load on every run) cost more than the read itself.
 */
export async function readInputFile(path: string, options: InputFileOptions): Promise<string> {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_INPUT_BYTES;
  const unreadable = (why: string, cause?: unknown) =>
    new InputError(`${options.code}_UNREADABLE`, `The ${options.what} ${path} cannot be read (${why}).`, { cause });
  let fd: number | undefined;
  try {
    fd = openSync(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
    const stats = fstatSync(fd);
    if (!stats.isFile()) throw unreadable('not a regular file');
    if (stats.size > maxBytes) throw unreadable(`${stats.size} bytes, larger than the ${maxBytes} expected`);
    // One byte more than the stat said, so a file that grew since (past the limit or not) is caught, and a small
    // file under a large limit costs only its own size.
    const buffer = Buffer.alloc(stats.size + 1);
    let length = 0;
    while (length < buffer.length) {
      const bytesRead = readSync(fd, buffer, length, buffer.length - length, length);
      if (bytesRead === 0) break;
      length += bytesRead;
    }
    if (length > stats.size) throw unreadable('it grew while being read');
    return buffer.toString('utf8', 0, length);
  } catch (err) {
    if (err instanceof InputError) throw err;
    const errno = (err as NodeJS.ErrnoException).code;
    if (errno === 'ENOENT') {
      throw new InputError(
        `${options.code}_MISSING`,
        `The ${options.what} ${path} does not exist.${options.hint ? ` ${options.hint}` : ''}`,
        {
          cause: err,
        },
      );
    }
    throw unreadable(errno ?? (err as Error).message, err);
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
