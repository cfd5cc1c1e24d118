/**
 * `serve`: the entitlement sidecar (Kubernetes native sidecar with a startupProbe on /healthz, or an ECS
 * container the others depend on). With `--meter-dimensions` it also runs the hourly usage meter behind
 * `POST /usage` for apps in other languages. `--pricing custom` checks entitlement with a MeterUsage dry run
 * instead of RegisterUsage; `--pricing contract` holds a License Manager lease, reflected by `/healthz` and
 * `/metrics`. Exit 0 on SIGTERM, after the meter has sent what it holds and the licence is checked in.
 *
 * @example
 * marketplace-entitlement serve --port 8080 --product-code abc123 --public-key-file /etc/marketplace/key.pem \
 *   --meter-dimensions requests
 */
import { DEFAULT_SERVE_HOST, DEFAULT_SERVE_PORT } from '../../src/gates/serve-defaults.js';
import { pricingOptions, REGISTER_OPTIONS } from '../aws-options.js';
import { listOption, LOG_OPTIONS } from '../options.js';
import { defineCommand } from '../spec.js';
import { UsageError } from '../usage-error.js';

const DEFAULT_SPOOL_DIR = '/var/lib/marketplace-entitlement/usage';

export const serveCommand = defineCommand({
  name: 'serve',
  describe:
    'Obtain entitlement for --pricing (hourly: register from this process and write the file; custom: MeterUsage dry ' +
    'run; contract: hold a License Manager checkout), then serve /healthz, /entitlement, /metrics and, with ' +
    '--meter-dimensions, POST /usage',
  options: {
    ...REGISTER_OPTIONS,
    port: { type: 'port', default: DEFAULT_SERVE_PORT, describe: 'Port to listen on (0 picks a free one)' },
    host: {
      type: 'string',
      default: DEFAULT_SERVE_HOST,
      describe: 'Address to bind; 0.0.0.0 only if probes come from outside the pod',
    },
    'spool-dir': {
      type: 'string',
      default: DEFAULT_SPOOL_DIR,
      describe:
        'Where usage not yet sent is kept (with --meter-dimensions): ' +
        'mount an emptyDir or a volume here so a restart loses nothing',
    },
    ...LOG_OPTIONS,
  },
  runsUntilStopped: true,
  examples: [
    [
      '$0 serve --port 8080 --product-code abc123 --public-key-file /etc/marketplace/product-key.pem',
      'Native sidecar: startupProbe httpGet :8080/healthz',
    ],
    ['curl -s 127.0.0.1:8080/metrics', 'Prometheus metrics'],
    [
      '$0 serve --product-code abc123 --public-key-file ' +
        '/etc/marketplace/product-key.pem --meter-dimensions requests,gb_stored',
      'Also meter usage',
    ],
    [
      '$0 serve --pricing custom --product-code abc123 --meter-dimensions requests',
      'Custom metering: a MeterUsage dry run is the check',
    ],
    [
      '$0 serve --pricing contract --product-sku 1a2b3c4d-sku --entitlement Users:Count:1',
      'Contract: hold a License Manager checkout, check it in on SIGTERM',
    ],
    [
      `curl -s -X POST 127.0.0.1:8080/usage -d '{"dimension":"requests","quantity":1}'`,
      'Record usage from any language in the pod',
    ],
  ],
  async run(args, ctx) {
    const [{ serveEntitlement }, { createUsageMeter }] = await Promise.all([
      import('../../src/gates/serve.js'),
      import('../../src/metering/usage-meter.js'),
    ]);
    const dimensions = listOption('meter-dimensions', args['meter-dimensions']);
    const metered = dimensions && { dimensions, productCode: args['product-code'] ?? meteredWithoutProductCode() };
    const options = await pricingOptions(args, ctx);
    const service = await serveEntitlement({
      ...options,
      port: args.port,
      host: args.host,
      onListening: (url) =>
        ctx.logger.info?.(`Listening on ${url} (503 until entitled)`, { event: 'serve.listening', url }),
      ...(metered && {
        // Not given ctx.signal: on SIGTERM the meter must still send. A refused DryRun fails the start (exit 78).
        usageMeter: () =>
          createUsageMeter({
            ...metered,
            spoolDir: args['spool-dir'],
            region: options.region,
            endpoint: options.endpoint,
            tlsRoots: options.tlsRoots,
            instanceId: args['instance-id'],
            deadlineMs: options.deadlineMs,
            logger: ctx.logger,
            env: ctx.env,
          }),
      }),
    });
    const what = service.outcome
      ? `product ${service.outcome.claims.productCode} registered ` +
        `at ${service.outcome.claims.registeredAt.toISOString()}`
      : `${options.pricing} pricing, ${service.held!.summary}`;
    ctx.print(
      `serving on ${service.url}: ` +
        `entitled, ${what}${metered ? `; POST /usage meters ${metered.dimensions.join(', ')}` : ''}`,
    );
    service.held?.onLost((status) =>
      ctx.logger.error?.(`Entitlement lost: /healthz now answers 503 (${status.reason})`, {
        event: 'serve.entitlement_lost',
        code: status.code,
      }),
    );
    await new Promise((resolve) => ctx.signal.addEventListener('abort', resolve, { once: true }));
    // The hour in progress goes out now: a SIGTERM usually means the pod or task is going away, and its
    // emptyDir with it. Usage recorded after a restart within this hour counts for the next hour instead.
    const report = await service.usageMeter?.close({ includeCurrentHour: true });
    await service.close();
    ctx.logger.info?.('Stopped', {
      event: 'serve.stopped',
      ...(report && {
        usageSent: report.sent.length,
        usageFailed: report.failed.length,
        usageLost: report.lost.length,
      }),
    });
  },
});

function meteredWithoutProductCode(): never {
  throw new UsageError(
    '--meter-dimensions needs --product-code (MARKETPLACE_PRODUCT_CODE): usage is metered for a product code.',
  );
}
