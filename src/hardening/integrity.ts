/**
 * Guards against a manifest that runs other code inside the checking process: Node flags or loader variables
 * that load code before ours (`NODE_OPTIONS=--import=data:...` can replace `crypto.verify`), and volumes mounted
 * over the code that checks. A sealed CLI always applies both; the library applies them when asked
 * (`codeInjection: 'refuse'`, `mountedCode: 'refuse'`).
 *
 * Limit: code that was already injected runs before any check and could hide its traces; the guards stop the
 * manifest edits, not an attacker who writes code aimed at this library (docs/threat-model.md).
 *
 * @example
 * refuseCodeInjection(process.env, process.execArgv); // throws CODE_INJECTION under NODE_OPTIONS=--import=...
 */
import { readFileSync, realpathSync } from 'node:fs';
import { ConfigurationError } from '../common/errors.js';
import { mountsOverCode, readMountInfo } from '../platform/mountinfo.js';

/** `refuse`: a finding is a ConfigurationError (exit 78); `allow`: not checked. */
export type GuardMode = 'refuse' | 'allow';

/** The library's guards, as options of every entry point that reaches AWS or judges an entitlement, and of `checkProcessIntegrity`. */
export interface ProcessGuardOptions {
  /**
   * The hardened profile, in one switch: `codeInjection` and `mountedCode` `'refuse'`, `tlsRoots` `'aws'` (where
   * the call reaches AWS), and a `SIGUSR1` listener so that no signal opens Node's inspector in this process. A
   * weaker value beside it (`codeInjection: 'allow'`, `tlsRoots: 'system'`, a `client` of your own, which keeps its
   * own TLS trust) is a ConfigurationError `INVALID_OPTION` naming the conflict. `allowedPreloads` still applies.
   * Default `false`.
   */
  hardened?: boolean;
  /** Refuse Node flags and loader variables that load or inject code, or open a debugger. Default `allow`. */
  codeInjection?: GuardMode;
  /** With `codeInjection: 'refuse'`: module specifiers `--require`/`--import` may still preload (an APM agent). */
  allowedPreloads?: readonly string[];
  /** Refuse mounts over the Node binary, this library's files or the app's entry script directory. Default `allow`. */
  mountedCode?: GuardMode;
  /** Default `process.env`. */
  env?: NodeJS.ProcessEnv;
}

/** Flags that take a module to preload: allowed when the module is in `allowedPreloads`. */
const PRELOAD_FLAGS = new Set(['--require', '-r', '--import']);
/** Flags that load code, configuration that loads code, or a debugger (`--inspect*`, `--debug*` by prefix). */
const CODE_FLAGS = new Set([
  ...PRELOAD_FLAGS,
  '--loader',
  '--experimental-loader',
  '--experimental-policy',
  '--policy-integrity',
  '--openssl-config',
  '--openssl-shared-config',
  '--env-file',
  '--env-file-if-exists',
  '--experimental-config-file',
  '--experimental-default-config-file',
  '--snapshot-blob',
  '--build-snapshot',
]);
const DEBUGGER_FLAG = /^--(inspect|debug)/;
/** Variables that make the dynamic loader or OpenSSL load other code. */
export const CODE_LOADING_VARIABLES = ['LD_PRELOAD', 'LD_AUDIT', 'LD_LIBRARY_PATH', 'OPENSSL_CONF', 'OPENSSL_MODULES', 'OPENSSL_ENGINES'] as const;

/**
 * What in `NODE_OPTIONS`, `execArgv` or the environments loads or injects code, one line per finding.
 *
 * @example findCodeInjection([{ NODE_OPTIONS: '--import=data:text/javascript,0' }], []) // ['NODE_OPTIONS carries --import=...']
 */
export function findCodeInjection(environments: readonly NodeJS.ProcessEnv[], execArgv: readonly string[], allowedPreloads: readonly string[] = []): string[] {
  const findings: string[] = [];
  const nodeOptions = [...new Set(environments.map((e) => e.NODE_OPTIONS).filter((value): value is string => !!value))];
  for (const [where, args] of [...nodeOptions.map((text) => ['NODE_OPTIONS', nodeOptionTokens(text)] as const), ['the node command line', execArgv] as const]) {
    for (let i = 0; i < args.length; i += 1) {
      const arg = args[i]!;
      // Node reads `_` in option names as `-`.
      const name = arg.split('=')[0]!.replace(/_/g, '-');
      if (!CODE_FLAGS.has(name) && !DEBUGGER_FLAG.test(name)) continue;
      const value = arg.includes('=') ? arg.slice(arg.indexOf('=') + 1) : args[i + 1];
      if (PRELOAD_FLAGS.has(name) && value !== undefined && allowedPreloads.includes(value)) {
        if (!arg.includes('=')) i += 1;
        continue;
      }
      findings.push(`${where} carries ${arg.length > 60 ? `${arg.slice(0, 60)}...` : arg}`);
    }
  }
  for (const name of CODE_LOADING_VARIABLES) {
    if (environments.some((e) => e[name])) findings.push(`${name} is set`);
  }
  return [...new Set(findings)];
}

/**
 * Throws ConfigurationError `CODE_INJECTION` when {@link findCodeInjection} finds anything in `env`, in the
 * environment this process started with (`/proc/self/environ`: deleting a variable later hides nothing) or in
 * `execArgv`.
 */
export function refuseCodeInjection(env: NodeJS.ProcessEnv, execArgv: readonly string[], allowedPreloads: readonly string[] = [], context = ''): void {
  const findings = findCodeInjection([env, startEnvironment()], execArgv, allowedPreloads);
  if (findings.length > 0) {
    throw new ConfigurationError(
      'CODE_INJECTION',
      `${context}Refusing to run with code loaded from outside: ${findings.join('; ')}. Remove it from the container's environment and command.`,
    );
  }
}

/**
 * Throws ConfigurationError `IMAGE_TAMPERED` when `files` or `trees` are on, or contain, a mount other than the
 * root filesystem. No mountinfo (not Linux): nothing to check.
 */
export function refuseMountedCode(paths: { files: readonly string[]; trees: readonly string[] }, context = ''): void {
  const mounts = readMountInfo();
  if (!mounts) return;
  const real = (path: string) => {
    try {
      return realpathSync(path);
    } catch {
      return path;
    }
  };
  const findings = mountsOverCode({ files: paths.files.map(real), trees: paths.trees.map(real) }, mounts);
  if (findings.length > 0) {
    throw new ConfigurationError(
      'IMAGE_TAMPERED',
      `${context}Refusing to run code that a volume was mounted over: ${findings.join('; ')}. Remove the volume; the code must come from the image.`,
    );
  }
}

/**
 * NODE_OPTIONS split exactly as Node splits it (node_options.cc, ParseNodeOptionsEnvVar): on spaces outside quotes,
 * every `"` dropped wherever it stands, a backslash inside quotes taking the next character. Anything looser lets
 * `--im"po"rt=...`, which Node reads as `--import=...`, pass as an unknown flag.
 */
function nodeOptionTokens(text: string): string[] {
  const tokens: string[] = [];
  let inQuotes = false;
  let startNew = true;
  for (let i = 0; i < text.length; i++) {
    let c = text[i]!;
    if (c === '\\' && inQuotes && i + 1 < text.length) c = text[++i]!;
    else if (c === ' ' && !inQuotes) {
      startNew = true;
      continue;
    } else if (c === '"') {
      inQuotes = !inQuotes;
      continue;
    }
    if (startNew) tokens.push(c);
    else tokens[tokens.length - 1] += c;
    startNew = false;
  }
  return tokens;
}

/** The environment this process was started with (Linux); empty where /proc is not there. */
function startEnvironment(): NodeJS.ProcessEnv {
  let text: string;
  try {
    text = readFileSync('/proc/self/environ', 'latin1');
  } catch {
    return {};
  }
  const env: NodeJS.ProcessEnv = {};
  for (const entry of text.split('\0')) {
    const at = entry.indexOf('=');
    if (at > 0) env[entry.slice(0, at)] = entry.slice(at + 1);
  }
  return env;
}
