/**
 * Starting an HTTP server with a typed error: a busy port or a bad host is a configuration problem the
 * operator fixes with --port/--host, not a crash with a stack trace. Shared by the `serve` sidecar and the emulator.
 *
 * @example
 * const url = await listen(server, 0, '127.0.0.1'); // "http://127.0.0.1:40123"
 */
import type { AddressInfo, Server } from 'node:net';
import { ConfigurationError } from './errors.js';

/**
 * Listens on `host:port` and resolves with the server's URL (`scheme` says which: an HTTP or an HTTPS server);
 * throws {@link ConfigurationError} `LISTEN_FAILED`.
 */
export function listen(server: Server, port: number, host: string, scheme: 'http' | 'https' = 'http'): Promise<string> {
  return new Promise((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        new ConfigurationError(
          'LISTEN_FAILED',
          `Cannot listen on ${host}:${port} (${err.code ?? err.message}); choose another --port or --host.`,
          { cause: err },
        ),
      ),
    );
    server.listen(port, host, () => {
      const address = server.address() as AddressInfo;
      resolve(`${scheme}://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`);
    });
  });
}
