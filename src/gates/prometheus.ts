/**
 * Prometheus text exposition format (version 0.0.4): just enough to publish a few gauges and counters
 * without a dependency.
 *
 * @example
 * formatMetrics([{ name: 'up', help: 'Is it up', type: 'gauge', samples: [{ value: 1 }] }]);
 * // "# HELP up Is it up\n# TYPE up gauge\nup 1\n"
 */
export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** One metric family for {@link formatMetrics}. */
export interface Metric {
  /** Metric name, e.g. `marketplace_entitlement_valid` (counters end in `_total`). */
  name: string;
  /** The HELP text. */
  help: string;
  /** The TYPE. */
  type: 'gauge' | 'counter';
  /** One line per label set. */
  samples: { labels?: Record<string, string>; value: number }[];
}

/** The metrics as Prometheus text exposition (0.0.4), HELP text and label values escaped. */
export function formatMetrics(metrics: Metric[]): string {
  const lines: string[] = [];
  for (const metric of metrics) {
    lines.push(
      `# HELP ${metric.name} ${metric.help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}`,
      `# TYPE ${metric.name} ${metric.type}`,
    );
    for (const sample of metric.samples)
      lines.push(`${metric.name}${labelText(sample.labels)} ${formatValue(sample.value)}`);
  }
  return `${lines.join('\n')}\n`;
}

function labelText(labels: Record<string, string> | undefined): string {
  const entries = Object.entries(labels ?? {});
  if (entries.length === 0) return '';
  const escapeLabel = (v: string) => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
  return `{${entries.map(([key, value]) => `${key}="${escapeLabel(value)}"`).join(',')}}`;
}

function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (!Number.isFinite(value)) return value > 0 ? '+Inf' : '-Inf';
  return String(value);
}
