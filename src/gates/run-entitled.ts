/**
 * The entrypoint wrapper (`marketplace-entitlement run -- COMMAND`): makes sure the pod is entitled (hourly: a
 * RegisterUsage call from this process at every start, never a file that was already there), then runs COMMAND with the
 * entitlement file's path in `MARKETPLACE_ENTITLEMENT_FILE` and the terminal's stdin/stdout/stderr, forwards the
 * signals a container runtime sends, and resolves with COMMAND's exit code (128 + signal number when it died of a
 * signal). Other pricing models (src/pricing/pricing.ts): `custom` checks with a MeterUsage dry run first; `contract`
 * holds the licence while COMMAND runs (its ARN in MARKETPLACE_LICENSE_ARN), stops COMMAND with SIGTERM if it is lost
 * (then rejecting with NotEntitledError, exit 77, whatever COMMAND's own code), and checks it in when COMMAND exits.
 * When registration fails COMMAND never starts.
 *
 * Caveat (AWS): a buyer can override a wrapper in ENTRYPOINT/CMD; a library call inside the application
 * (`ensureEntitled`, `createEntitlementGate`) cannot be bypassed that way.
 *
 * @example
 * process.exitCode = await runEntitled(['node', 'server.js'], {
 *   productCode,
 *   publicKey,
 *   entitlementFile: '/tmp/e.jwt'
 * });
 */
import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import { ConfigurationError, NotEntitledError } from '../common/errors.js';
import { resolveLogger } from '../common/logger.js';
import { holdEntitlement, type PricingOptions } from '../pricing/pricing.js';
import { applyHardenedProfile } from '../hardening/process-guards.js';

/** What a container runtime or an operator may send; all reach the wrapped program. */
export const FORWARDED_SIGNALS = ['SIGTERM', 'SIGINT', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2'] as const;

/** The pricing model's options (hourly by default: `entitlementFile` and the key), plus: */
export type RunEntitledOptions = PricingOptions & {
  /** Called after registration, before COMMAND starts (e.g. to stop handling signals elsewhere). */
  beforeStart?: () => void;
};

/**
 * Registers from this process and writes the entitlement file, then runs `command` with the file's path in
 * `MARKETPLACE_ENTITLEMENT_FILE`, forwarding signals; resolves with its exit code (128+signal when killed).
 *
 * @example
 * process.exitCode = await runEntitled(['node', 'server.js'], {
 *   productCode,
 *   publicKey,
 *   entitlementFile: '/tmp/e.jwt'
 * });
 */
export async function runEntitled(command: string[], given: RunEntitledOptions): Promise<number> {
  // Before the first await: the SIGUSR1 guard must be in place while AWS is called and COMMAND runs.
  const options = applyHardenedProfile(given, 'runEntitled', { reachesAws: true });
  const [program, ...args] = command;
  if (!program)
    throw new ConfigurationError(
      'MISSING_COMMAND',
      'Nothing to run: give the command after --, e.g. `run -- node server.js`.',
    );
  const held = await holdEntitlement(options);
  options.beforeStart?.();
  const env = { ...(options.env ?? process.env), ...held.env };
  const child = spawn(program, args, { stdio: 'inherit', env });
  const forward = (signal: NodeJS.Signals) => child.kill(signal);
  for (const signal of FORWARDED_SIGNALS) process.on(signal, forward);
  // Fail closed: a contract that ends mid-run stops COMMAND as a container runtime would, and the exit says why.
  let lost: string | undefined;
  held.onLost((status) => {
    lost = `${status.code}: ${status.reason}`;
    resolveLogger(options.logger).error?.(`Entitlement lost (${status.reason}); stopping ${program} with SIGTERM`, {
      event: 'run.entitlement_lost',
      code: status.code,
    });
    child.kill('SIGTERM');
  });
  try {
    return await new Promise<number>((resolveCode, reject) => {
      child.once('error', (err: NodeJS.ErrnoException) =>
        reject(
          new ConfigurationError(
            'COMMAND_NOT_STARTED',
            `Cannot start ${JSON.stringify(program)} (${err.code ?? err.message}): ` +
              'check the command and that it is executable in the image.',
            { cause: err },
          ),
        ),
      );
      child.once('exit', (code, signal) => {
        if (lost !== undefined)
          reject(
            new NotEntitledError(
              `The entitlement was lost while ${program} ran (${lost}); it was stopped with SIGTERM.`,
            ),
          );
        else resolveCode(code ?? 128 + (signal ? constants.signals[signal] : 0));
      });
    });
  } finally {
    for (const signal of FORWARDED_SIGNALS) process.off(signal, forward);
    await held.close(); // a floating licence goes back to the pool when COMMAND ends
  }
}
