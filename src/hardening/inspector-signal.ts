/**
 * No inspector on a signal: Node opens its inspector (127.0.0.1:9229) when a process receives SIGUSR1, and anyone who
 * can signal the process (a sidecar sharing the pod's process namespace, `kubectl exec`) can then rewrite its state
 * with one typed expression. A hardened library process and the CLI's long-running commands (`serve`, `run`) install
 * the listener below. Kept apart from the other guards so the CLI's small entry bundle can load it alone.
 *
 * @example guardInspectorSignal(); // first thing, before any await
 */

let inspectorSignalGuarded = false;

/**
 * Makes `SIGUSR1` open no inspector in this process, for the rest of its life: Node's default action for it is to
 * start the inspector on 127.0.0.1:9229, from which one typed expression rewrites any state; a JavaScript listener
 * replaces that action (Node 20, 22 and 24 alike: test/trust/signal.test.ts). Each signal becomes a process
 * warning instead. The listener is never removed. Idempotent.
 *
 * Limit: a signal that arrives before this runs (while Node starts and loads modules) still opens the inspector;
 * `node --disable-sigusr1` (in Node 22.23.5 and 24.21.0, not in 20.20.2) closes that window, as the image's ENTRYPOINT
 * does.
 *
 * @example guardInspectorSignal(); // first thing in a hardened process
 */
export function guardInspectorSignal(): void {
  if (inspectorSignalGuarded) return;
  inspectorSignalGuarded = true;
  process.on('SIGUSR1', warnInspectorSignalIgnored);
}

function warnInspectorSignalIgnored(): void {
  process.emitWarning('Ignored SIGUSR1: this hardened process does not open an inspector on a signal.', {
    code: 'MARKETPLACE_SIGUSR1_IGNORED',
  });
}
