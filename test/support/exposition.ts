/**
 * A strict reader of the Prometheus text exposition format 0.0.4, standing in for `promtool check metrics`
 * (not installable here): every line must be a HELP, a TYPE or a sample of the grammar; HELP and TYPE come once
 * per family, before its samples; a family's samples are contiguous and never repeat a series; escapes are only
 * the ones the format defines. Plus promtool's lint rules: HELP on every family, counters named `_total`, gauges
 * not. Throws naming the line; returns the samples.
 *
 * @example
 * const samples = parseExposition(await (await fetch(`${url}/metrics`)).text());
 * sampleValue(samples, 'marketplace_entitlement_valid'); // 1
 */
const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*';
const LABEL_NAME = '[a-zA-Z_][a-zA-Z0-9_]*';
const LABEL_VALUE = '"(?:[^"\\\\\\n]|\\\\[\\\\"n])*"';
const VALUE = '(?:[+-]?(?:\\d+(?:\\.\\d*)?|\\.\\d+)(?:[eE][+-]?\\d+)?|NaN|[+-]Inf)';
const HELP_LINE = new RegExp(`^# HELP (${NAME}) ((?:[^\\\\\\n]|\\\\[\\\\n])*)$`);
const TYPE_LINE = new RegExp(`^# TYPE (${NAME}) (counter|gauge|histogram|summary|untyped)$`);
const SAMPLE_LINE = new RegExp(
  `^(${NAME})(?:\\{((?:${LABEL_NAME}=${LABEL_VALUE},)*(?:${LABEL_NAME}=${LABEL_VALUE})?)\\})? (${VALUE})(?: -?\\d+)?$`,
);
const LABEL_PAIR = new RegExp(`(${LABEL_NAME})=(${LABEL_VALUE})`, 'g');

export interface ExpositionSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export function parseExposition(text: string): ExpositionSample[] {
  if (!text.endsWith('\n')) throw new Error('the exposition must end with a newline');
  const families = new Map<string, { help?: string; type?: string; sampled: boolean; closed: boolean }>();
  const series = new Set<string>();
  const samples: ExpositionSample[] = [];
  let current: string | undefined;
  const family = (name: string) =>
    families.get(name) ?? families.set(name, { sampled: false, closed: false }).get(name)!;
  const enter = (name: string, n: number) => {
    if (current !== undefined && current !== name) family(current).closed = true;
    if (family(name).closed) throw new Error(`line ${n}: family ${name} is not contiguous`);
    current = name;
  };
  text
    .slice(0, -1)
    .split('\n')
    .forEach((line, i) => {
      const n = i + 1;
      const help = HELP_LINE.exec(line);
      const type = help ? null : TYPE_LINE.exec(line);
      const sample = help || type ? null : SAMPLE_LINE.exec(line);
      const match = help ?? type ?? sample;
      if (help && match) {
        enter(match[1]!, n);
        if (family(match[1]!).help !== undefined || family(match[1]!).sampled)
          throw new Error(`line ${n}: HELP for ${match[1]} repeated or after its samples`);
        family(match[1]!).help = match[2]!;
      } else if (type && match) {
        enter(match[1]!, n);
        if (family(match[1]!).type !== undefined || family(match[1]!).sampled)
          throw new Error(`line ${n}: TYPE for ${match[1]} repeated or after its samples`);
        family(match[1]!).type = match[2]!;
      } else if (sample && match) {
        const name = match[1]!;
        enter(name, n);
        family(name).sampled = true;
        const labels: Record<string, string> = {};
        for (const [, key, quoted] of (match[2] ?? '').matchAll(LABEL_PAIR)) {
          if (key!.startsWith('__')) throw new Error(`line ${n}: label ${key} is reserved`);
          if (key! in labels) throw new Error(`line ${n}: label ${key} repeated`);
          labels[key!] = quoted!.slice(1, -1).replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
        }
        const id = `${name}${JSON.stringify(Object.entries(labels).sort())}`;
        if (series.has(id)) throw new Error(`line ${n}: series ${id} repeated`);
        series.add(id);
        samples.push({ name, labels, value: Number(match[3]!.replace('Inf', 'Infinity')) });
      } else {
        throw new Error(`line ${n} is not valid exposition text: ${JSON.stringify(line)}`);
      }
    });
  for (const [name, f] of families) {
    if (f.help === undefined || f.type === undefined)
      throw new Error(`family ${name} has no ${f.help === undefined ? 'HELP' : 'TYPE'}`);
    if (f.type === 'counter' && !name.endsWith('_total')) throw new Error(`counter ${name} should end in _total`);
    if (f.type !== 'counter' && name.endsWith('_total'))
      throw new Error(`non-counter ${name} should not end in _total`);
  }
  return samples;
}

/** The value of the one sample of `name` whose labels include `labels`; undefined when there is none. */
export function sampleValue(
  samples: ExpositionSample[],
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  return samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
}
