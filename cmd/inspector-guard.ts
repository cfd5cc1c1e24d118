/**
 * The CLI's commands that run for the life of a pod (the `serve` sidecar, the `run --` wrapper): they install the
 * SIGUSR1 guard (src/hardening/inspector-signal.ts) before anything asynchronous, sealed or not, so a signal from a
 * sidecar that shares the pod's process namespace opens no inspector in them. One-shot commands exit within seconds.
 *
 * @example if (LONG_RUNNING_COMMANDS.has(argv[0] ?? '')) guardInspectorSignal();
 */
export { guardInspectorSignal } from '../src/hardening/inspector-signal.js';

/** The commands that install the SIGUSR1 guard at start. */
export const LONG_RUNNING_COMMANDS: ReadonlySet<string> = new Set(['serve', 'run']);
