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
import { guardInspectorSignal } from './inspector-signal.js';
import { refuseCodeInjection, refuseMountedCode, type ProcessGuardOptions } from './integrity.js';

/**
 * The library's guards (`codeInjection`, `mountedCode`, or `hardened: true` for both and the SIGUSR1 guard), checked
 * before any network call or verification.
 * Mounted code means: the Node binary, this library's own directory, or the directory tree of the app's entry
 * script (`process.argv[1]`) on a mount other than the root filesystem, or a mount inside that tree.
 *
 * @example
 * checkProcessIntegrity({ mountedCode: 'refuse' }); // throws IMAGE_TAMPERED under a ConfigMap mounted at /app
 */
export function checkProcessIntegrity(given: ProcessGuardOptions): void {
  const options = applyHardenedProfile(given, 'checkProcessIntegrity', { reachesAws: false });
  for (const [name, mode] of [
    ['codeInjection', options.codeInjection],
    ['mountedCode', options.mountedCode],
  ] as const) {
    if (mode !== undefined && mode !== 'refuse' && mode !== 'allow') {
      throw new ConfigurationError(
        'INVALID_OPTION',
        `${name} must be 'refuse' or 'allow', got ${JSON.stringify(mode)}.`,
      );
    }
  }
  if (options.codeInjection === 'refuse')
    refuseCodeInjection(options.env ?? process.env, process.execArgv, options.allowedPreloads);
  if (options.mountedCode === 'refuse') {
    const entry = process.argv[1];
    refuseMountedCode({ files: [process.execPath], trees: [libraryDirectory(), ...(entry ? [dirname(entry)] : [])] });
  }
}

/** What {@link applyHardenedProfile} looks at: the guards, and where the call reaches AWS its trust and client. */
interface HardenableOptions extends Omit<ProcessGuardOptions, 'env'> {
  tlsRoots?: unknown;
  client?: unknown;
  reuseExistingFile?: boolean;
}

/**
 * `options` with the hardened profile applied when `hardened: true` (see {@link ProcessGuardOptions.hardened}):
 * the guards set to `'refuse'`, `tlsRoots` to `'aws'` where `reachesAws`, and the SIGUSR1 guard installed, now
 * (call it before the entry point's first await). A weaker explicit value beside it is `INVALID_OPTION`.
 *
 * @example
 * const effective = applyHardenedProfile(options, 'ensureEntitled', { reachesAws: true });
 */
export function applyHardenedProfile<T extends HardenableOptions>(
  options: T,
  entryPoint: string,
  { reachesAws }: { reachesAws: boolean },
): T {
  const { hardened } = options;
  if (hardened !== undefined && typeof hardened !== 'boolean') {
    throw new ConfigurationError(
      'INVALID_OPTION',
      `${entryPoint}: hardened must be true or false, got ${JSON.stringify(hardened)}.`,
    );
  }
  if (!hardened) return options;
  const conflicts = [
    ...(['codeInjection', 'mountedCode'] as const)
      .filter((name) => options[name] !== undefined && options[name] !== 'refuse')
      .map((name) => `${name}: ${JSON.stringify(options[name])}`),
    ...(reachesAws && options.tlsRoots !== undefined && options.tlsRoots !== 'aws'
      ? [`tlsRoots: ${options.tlsRoots === 'system' ? "'system'" : 'a PEM bundle'}`]
      : []),
    ...(reachesAws && options.client !== undefined
      ? ['client (a client you built keeps its own TLS trust, so tlsRoots cannot apply)']
      : []),
    ...(options.reuseExistingFile === true
      ? ['reuseExistingFile: true (a kept file was not written by this process)']
      : []),
  ];
  if (conflicts.length > 0) {
    throw new ConfigurationError(
      'INVALID_OPTION',
      `${entryPoint}: hardened: true conflicts with ${conflicts.join(', ')}. ` +
        `Remove ${conflicts.length === 1 ? 'it' : 'them'}, or hardened.`,
    );
  }
  guardInspectorSignal();
  return { ...options, codeInjection: 'refuse', mountedCode: 'refuse', ...(reachesAws && { tlsRoots: 'aws' }) };
}

/**
 * The library's own code: dist/src in the package (this module sits in its hardening/ folder), else the bundle's
 * directory.
 */
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
  if (location === undefined)
    throw new ConfigurationError('INVALID_OPTION', 'mountedCode: cannot tell where this library is installed.');
  return location.startsWith('file:') ? fileURLToPath(location) : location;
}
