/**
 * Reading an input file (a key, an entitlement file) with failures that say which input and what to do:
 * every failure is an {@link InputError} (exit 66), `<prefix>_MISSING` when the file does not exist and
 * `<prefix>_UNREADABLE` otherwise (permissions, a directory, too large).
 *
 * @example
 * const pem = await readInputFile('/etc/product-key.pem', { code: 'PUBLIC_KEY_FILE', what: 'product public key' });
 */
import { readFile } from 'node:fs/promises';
import { InputError } from './errors.js';

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

/** Reads `path` as UTF-8; throws {@link InputError} `${code}_MISSING` or `${code}_UNREADABLE`. */
export async function readInputFile(path: string, options: InputFileOptions): Promise<string> {
  const maxBytes = options.maxBytes ?? 1024 * 1024;
  let data: Buffer;
  try {
    data = await readFile(path);
  } catch (err) {
    const errno = (err as NodeJS.ErrnoException).code;
    if (errno === 'ENOENT') {
      throw new InputError(`${options.code}_MISSING`, `The ${options.what} ${path} does not exist.${options.hint ? ` ${options.hint}` : ''}`, {
        cause: err,
      });
    }
    throw new InputError(`${options.code}_UNREADABLE`, `The ${options.what} ${path} cannot be read (${errno ?? (err as Error).message}).`, {
      cause: err,
    });
  }
  if (data.length > maxBytes) {
    throw new InputError(`${options.code}_UNREADABLE`, `The ${options.what} ${path} is ${data.length} bytes, more than the ${maxBytes} expected.`);
  }
  return data.toString('utf8');
}
