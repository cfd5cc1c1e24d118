/**
 * The library's process guards (`codeInjection`, `mountedCode` options): they also protect the library's own files,
 * found from this module's location in ESM (dist/src) and in the CommonJS `check` bundle alike.
 *
 * @example
 * checkProcessIntegrity({ codeInjection: 'refuse', allowedPreloads: ['dd-trace/init'], mountedCode: 'refuse' });
 */
import { basename, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigurationError } from '../common/errors.js';
import { refuseCodeInjection, refuseMountedCode, type ProcessGuardOptions } from './integrity.js';

/**
 * The library's guards (`codeInjection`, `mountedCode`), checked before any network call or verification.
 * Mounted code means: the Node binary, this library's own directory, or the directory tree of the app's entry
 * script (`process.argv[1]`) on a mount other than the root filesystem, or a mount inside that tree.
 *
 * @example
 * checkProcessIntegrity({ mountedCode: 'refuse' }); // throws IMAGE_TAMPERED under a ConfigMap mounted at /app
 */
export function checkProcessIntegrity(options: ProcessGuardOptions): void {
  for (const [name, mode] of [['codeInjection', options.codeInjection], ['mountedCode', options.mountedCode]] as const) {
    if (mode !== undefined && mode !== 'refuse' && mode !== 'allow') {
      throw new ConfigurationError('INVALID_OPTION', `${name} must be 'refuse' or 'allow', got ${JSON.stringify(mode)}.`);
    }
  }
  if (options.codeInjection === 'refuse') refuseCodeInjection(options.env ?? process.env, process.execArgv, options.allowedPreloads);
  if (options.mountedCode === 'refuse') {
    const entry = process.argv[1];
    refuseMountedCode({ files: [process.execPath], trees: [libraryDirectory(), ...(entry ? [dirname(entry)] : [])] });
  }
}


/** The library's own code: dist/src in the package (this module sits in its hardening/ folder), else the bundle's directory. */
function libraryDirectory(): string {
  const here = dirname(thisModuleFile());
  return basename(here) === 'hardening' ? dirname(here) : here;
}

/**
 * This module's file, from the V8 stack of this very call: `import.meta.url` exists only in ESM and `__filename`
 * only in CommonJS, and this module is bundled as both.
 */
function thisModuleFile(): string {
  const frame = new Error().stack?.split('\n')[1] ?? '';
  const location = /\(?((?:file:\/\/)?\/[^():]+):\d+:\d+\)?\s*$/.exec(frame)?.[1];
  if (location === undefined) throw new ConfigurationError('INVALID_OPTION', 'mountedCode: cannot tell where this library is installed.');
  return location.startsWith('file:') ? fileURLToPath(location) : location;
}
