/**
 * `serve`: the entitlement sidecar (Kubernetes native sidecar with a startupProbe on /healthz, or an ECS
 * container the others depend on). Exit 0 on SIGTERM.
 *
 * @example
 * marketplace-entitlement serve --port 8080 --product-code abc123 --public-key-file /etc/marketplace/key.pem
 */
import { entitlementOptions, LOG_OPTIONS, REGISTER_OPTIONS } from '../options.js';
import type { CommandSpec } from '../spec.js';

export const serveCommand: CommandSpec = {
  name: 'serve',
  describe: 'Register (unless a valid file for this instance exists), then serve /healthz, /entitlement and /metrics',
  options: {
    ...REGISTER_OPTIONS,
    port: { type: 'number', default: 8080, describe: 'Port to listen on (0 picks a free one)' },
    host: { type: 'string', default: '127.0.0.1', describe: 'Address to bind; 0.0.0.0 only if probes come from outside the pod' },
    ...LOG_OPTIONS,
  },
  examples: [
    ['$0 serve --port 8080 --product-code abc123 --public-key-file /etc/marketplace/product-key.pem', 'Native sidecar: startupProbe httpGet :8080/healthz'],
    ['curl -s 127.0.0.1:8080/metrics', 'Prometheus metrics'],
  ],
  async run(args, ctx) {
    const { serveEntitlement } = await import('../../src/serve.js');
    const service = await serveEntitlement({
      ...(await entitlementOptions(args, ctx)),
      port: args.port as number,
      host: args.host as string,
      onListening: (url) => ctx.logger.info?.(`Listening on ${url} (503 until entitled)`, { event: 'serve.listening', url }),
    });
    const { claims, reused } = service.outcome;
    ctx.print(
      `serving on ${service.url}: entitled, product ${claims.productCode} registered at ${claims.registeredAt.toISOString()}` +
        `${reused ? ' (existing file reused, no new registration)' : ''}`,
    );
    await new Promise((resolve) => ctx.signal.addEventListener('abort', resolve, { once: true }));
    await service.close();
    ctx.logger.info?.('Stopped', { event: 'serve.stopped' });
  },
};
