/**
 * The usage meter's numbers as Prometheus metrics, for `serve`'s `/metrics`: what was billed, what was lost
 * (the same event as the `USAGE LOST` log line, now something to alert on), the spool's backlog, and the last
 * send error.
 *
 * @example
 * formatMetrics([...entitlementMetrics, ...usageMeterMetrics(meter.stats())]);
 * // marketplace_entitlement_usage_lost_total{dimension="requests"} 12 ...
 */
import type { Metric } from '../gates/prometheus.js';
import type { UsageMeterStats } from './usage-meter.js';

/** One metric family per number; families without samples (nothing lost yet) still carry HELP and TYPE. */
export function usageMeterMetrics(stats: UsageMeterStats): Metric[] {
  const byDimension = (values: Record<string, number>) =>
    Object.entries(values).map(([dimension, value]) => ({ labels: { dimension }, value }));
  const lost = Object.entries(stats.lost);
  return [
    {
      name: 'marketplace_entitlement_usage_sent_total',
      help: 'Hourly usage records (one dimension, one hour) MeterUsage accepted, by dimension.',
      type: 'counter',
      samples: byDimension(stats.sent),
    },
    {
      name: 'marketplace_entitlement_usage_lost_total',
      help: "Usage given up and never billed (the USAGE LOST log line), in the dimension's units, by dimension.",
      type: 'counter',
      samples: byDimension(Object.fromEntries(lost.map(([dimension, l]) => [dimension, l.quantity]))),
    },
    {
      name: 'marketplace_entitlement_usage_lost_records_total',
      help: 'Hourly usage records given up, by dimension.',
      type: 'counter',
      samples: byDimension(Object.fromEntries(lost.map(([dimension, l]) => [dimension, l.records]))),
    },
    {
      name: 'marketplace_entitlement_usage_send_failures_total',
      help: 'MeterUsage sends that failed and were kept for the next flush.',
      type: 'counter',
      samples: [{ value: stats.sendFailures }],
    },
    {
      name: 'marketplace_entitlement_usage_pending_hours',
      help: 'Hours holding usage not yet sent, the current hour included.',
      type: 'gauge',
      samples: [{ value: stats.pendingHours }],
    },
    {
      name: 'marketplace_entitlement_usage_last_send_error_timestamp_seconds',
      help: 'When the last MeterUsage send failed, labelled with its error code (no sample before the first failure).',
      type: 'gauge',
      samples: stats.lastSendError
        ? [{ labels: { code: stats.lastSendError.code }, value: stats.lastSendError.at.getTime() / 1000 }]
        : [],
    },
  ];
}
