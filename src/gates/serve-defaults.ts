/**
 * Where the `serve` sidecar listens when not told, apart from serve.ts (which loads node:http and the whole
 * entitlement path) so the CLI's option table can show these defaults without loading it.
 *
 * @example
 * const url = await listen(server, options.port ?? DEFAULT_SERVE_PORT, options.host ?? DEFAULT_SERVE_HOST);
 */

/** The port `serve` listens on when none is given (0 picks a free one). */
export const DEFAULT_SERVE_PORT = 8080;

/**
 * The address `serve` binds when none is given: the pod's own containers only (probes through the pod IP need
 * 0.0.0.0).
 */
export const DEFAULT_SERVE_HOST = '127.0.0.1';
