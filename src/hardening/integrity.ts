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

/**
 * The library's guards, as options of every entry point that reaches AWS or judges an entitlement, and of
 * `checkProcessIntegrity`.
 */
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

/** Node's flag that logs TLS session keys (NSS key log format) to a file. */
const TLS_KEYLOG_FLAG = '--tls-keylog';

/** Flags that take a module to preload: allowed when the module is in `allowedPreloads`. */
const PRELOAD_FLAGS = new Set(['--require', '-r', '--import']);
/**
 * Flags refused under `codeInjection: 'refuse'` (each one's reason: docs/threat-model.md, "Node's flags and
 * variables", for Node 20, 22 and 24). They load code or configuration that loads code, run something else than the
 * entry script, or blind a check: the permission model can deny the reads of /proc a check needs, and
 * `--stack-trace-limit=0` hides the frame that tells the library where its own files are.
 */
const CODE_FLAGS = new Set([
  ...PRELOAD_FLAGS,
  '--loader',
  '--experimental-loader',
  '--experimental-policy',
  '--policy-integrity',
  '--experimental-network-imports',
  '--experimental-package-map',
  '--entry-url',
  '--openssl-config',
  '--openssl-shared-config',
  '--env-file',
  '--env-file-if-exists',
  '--experimental-config-file',
  '--experimental-default-config-file',
  '--snapshot-blob',
  '--build-snapshot',
  '--build-snapshot-config',
  '--icu-data-dir',
  '--security-revert',
  '--experimental-permission',
  '--stack-trace-limit',
  // Writes the TLS session keys to a file: a relay that passes AWS's genuine handshake through can then read and
  // rewrite every answer, pinned roots or not.
  TLS_KEYLOG_FLAG,
]);
/**
 * A debugger (`--inspect*`, `--debug*`), and the permission model under its Node 24 name and its variants
 * (`--permission-audit`).
 */
const PREFIX_FLAGS = /^--(inspect|debug|permission)/;
/**
 * Variables that make the dynamic loader, OpenSSL or Node load other code or data it executes or parses as code:
 * `NODE_COMPILE_CACHE` (Node 22.1+) runs cached compiled code from its directory in place of our sources,
 * `NODE_PATH` resolves a module missing from node_modules (an optional dependency) from anywhere,
 * `NODE_REPL_EXTERNAL_MODULE` replaces the REPL with a module, `NODE_ICU_DATA` loads a binary data file that ICU
 * parses.
 */
export const CODE_LOADING_VARIABLES = [
  'LD_PRELOAD',
  'LD_AUDIT',
  'LD_LIBRARY_PATH',
  'OPENSSL_CONF',
  'OPENSSL_MODULES',
  'OPENSSL_ENGINES',
  'NODE_COMPILE_CACHE',
  'NODE_PATH',
  'NODE_REPL_EXTERNAL_MODULE',
  'NODE_ICU_DATA',
] as const;

/**
 * What in `NODE_OPTIONS`, `execArgv` or the environments loads or injects code, one line per finding.
 *
 * @example
 * findCodeInjection([{ NODE_OPTIONS: '--import=data:text/javascript,0' }], []) // ['NODE_OPTIONS carries --import=...']
 */
export function findCodeInjection(
  environments: readonly NodeJS.ProcessEnv[],
  execArgv: readonly string[],
  allowedPreloads: readonly string[] = [],
): string[] {
  const findings: string[] = [];
  const nodeOptions = [...new Set(environments.map((e) => e.NODE_OPTIONS).filter((value): value is string => !!value))];
  for (const [where, args] of [
    ...nodeOptions.map((text) => ['NODE_OPTIONS', nodeOptionTokens(text)] as const),
    ['the node command line', execArgv] as const,
  ]) {
    for (let i = 0; i < args.length; i += 1) {
      const arg = args[i]!;
      // Node reads `_` in option names as `-`.
      const name = arg.split('=')[0]!.replace(/_/g, '-');
      if (!CODE_FLAGS.has(name) && !PREFIX_FLAGS.test(name)) continue;
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
 * Where `--tls-keylog` is given, in `NODE_OPTIONS` of `env` or in `execArgv`: the session keys of every TLS
 * connection of this process go to that file, so whoever reads it can decrypt and rewrite AWS's answers over a
 * genuine, pinned handshake. Our AWS clients refuse it whenever they pin their roots.
 *
 * @example
 * findTlsKeyLog({ NODE_OPTIONS: '--tls-keylog=/shared/keys' }, [])
 * // ['NODE_OPTIONS carries --tls-keylog=/shared/keys']
 */
export function findTlsKeyLog(env: NodeJS.ProcessEnv, execArgv: readonly string[]): string[] {
  const sources = [
    ...(env.NODE_OPTIONS ? [['NODE_OPTIONS', nodeOptionTokens(env.NODE_OPTIONS)] as const] : []),
    ['the node command line', execArgv] as const,
  ];
  return sources.flatMap(([where, args]) =>
    args
      .filter((arg) => arg.split('=')[0]!.replace(/_/g, '-') === TLS_KEYLOG_FLAG)
      .map((arg) => `${where} carries ${arg}`),
  );
}

/**
 * Throws ConfigurationError `CODE_INJECTION` when {@link findCodeInjection} finds anything in `env`, in the
 * environment this process started with (`/proc/self/environ`: deleting a variable later hides nothing) or in
 * `execArgv`.
 */
export function refuseCodeInjection(
  env: NodeJS.ProcessEnv,
  execArgv: readonly string[],
  allowedPreloads: readonly string[] = [],
  context = '',
): void {
  // What is visible first, so a flag that blinds the /proc read below is named, not only the failed read.
  const visible = findCodeInjection([env], execArgv, allowedPreloads);
  const findings =
    visible.length > 0 ? visible : findCodeInjection([env, startEnvironment(context)], execArgv, allowedPreloads);
  if (findings.length > 0) {
    throw new ConfigurationError(
      'CODE_INJECTION',
      `${context}Refusing to run with code loaded from outside: ${findings.join('; ')}. Remove it from the ` +
        "container's environment and command.",
    );
  }
}

/**
 * Throws ConfigurationError `IMAGE_TAMPERED` when `files` or `trees` are on, or contain, a mount other than the
 * root filesystem. On Linux, a /proc/self/mountinfo that cannot be read is refused too (a check that sees nothing
 * must not pass); elsewhere (no mountinfo: macOS, Windows) there is nothing to check.
 */
export function refuseMountedCode(paths: { files: readonly string[]; trees: readonly string[] }, context = ''): void {
  if (process.platform !== 'linux') return;
  let mounts: ReturnType<typeof readMountInfo>;
  try {
    mounts = readMountInfo();
  } catch {
    mounts = undefined; // unreadable (EACCES, ERR_ACCESS_DENIED): refused below, like a missing one
  }
  if (!mounts) {
    throw new ConfigurationError(
      'IMAGE_TAMPERED',
      `${context}Refusing to run: /proc/self/mountinfo cannot be read, so a volume mounted over the code cannot be ` +
        'ruled out. Remove whatever denies it (a --permission flag, a seccomp profile) or mount /proc.',
    );
  }
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
      `${context}Refusing to run code that a volume was mounted over: ${findings.join('; ')}. Remove the volume; the ` +
        'code must come from the image.',
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

/**
 * The environment this process was started with, from /proc/self/environ. On Linux a read that fails (a permission
 * model, seccomp, /proc not mounted) is refused rather than read as "nothing": a check that sees nothing must not pass.
 * Elsewhere (macOS, Windows: no /proc) it is empty, and only `process.env` and `execArgv` are checked.
 */
function startEnvironment(context: string): NodeJS.ProcessEnv {
  if (process.platform !== 'linux') return {};
  let text: string;
  try {
    text = readFileSync('/proc/self/environ', 'latin1');
  } catch (err) {
    throw new ConfigurationError(
      'CODE_INJECTION',
      `${context}Refusing to run: /proc/self/environ cannot be read ` +
        `(${(err as NodeJS.ErrnoException).code ?? (err as Error).message}), so variables removed after start cannot ` +
        'be checked. Remove whatever denies it (a --permission flag, a seccomp profile) or mount /proc.',
    );
  }
  const env: NodeJS.ProcessEnv = {};
  for (const entry of text.split('\0')) {
    const at = entry.indexOf('=');
    if (at > 0) env[entry.slice(0, at)] = entry.slice(at + 1);
  }
  return env;
}
