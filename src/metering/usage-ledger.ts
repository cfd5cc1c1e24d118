/**
 * The usage meter's book: per hour and dimension, the usage recorded so far (split by tag set), and where
 * that hour stands. Plain JSON, so the spool file is this object verbatim.
 *
 * An hour's dimension is `open` while usage accumulates, `frozen` from the first attempt to send it (its
 * quantity and timestamp are then fixed, so every retry, even after a restart, is the identical request
 * AWS de-duplicates), and `done` once sent or given up. Usage recorded for a dimension whose current hour
 * is frozen or done (after a `flush({ includeCurrentHour: true })`) goes to the next hour: AWS takes one
 * record per dimension and hour, and moving it an hour later neither loses it nor bills it twice.
 *
 * @example
 * const ledger = UsageLedger.empty('abc123', 'pod-uid');
 * ledger.add(hourStart(Date.now()), 'requests', 5, undefined);
 */
import { ValidationError } from '../common/errors.js';
import { MAX_ALLOCATIONS, MAX_USAGE_QUANTITY } from './limits.js';
import { tagSetKey, type TagInput } from './validation.js';

export const HOUR_MS = 3_600_000;

/** The start (epoch ms) of the hour `ms` falls in. */
export function hourStart(ms: number): number {
  return Math.floor(ms / HOUR_MS) * HOUR_MS;
}

export interface TagBucket {
  tags?: TagInput[];
  quantity: number;
}

export interface DimensionUsage {
  state: 'open' | 'frozen' | 'done';
  /** ISO 8601; set when frozen. */
  timestamp?: string;
  /** By tag-set key ('' for untagged usage). */
  buckets: Record<string, TagBucket>;
}

export interface HourUsage {
  /** ISO 8601 start of the hour. */
  hour: string;
  /** The instance that metered this hour: part of the ClientToken. */
  instanceId: string;
  dimensions: Record<string, DimensionUsage>;
}

export interface LedgerData {
  version: 1;
  productCode: string;
  instanceId: string;
  hours: HourUsage[];
}

/** One hour's usage of one dimension, ready to send. */
export interface DueUsage {
  hour: number;
  instanceId: string;
  dimension: string;
  usage: DimensionUsage;
}

export class UsageLedger {
  private constructor(readonly data: LedgerData) {}

  static empty(productCode: string, instanceId: string): UsageLedger {
    return new UsageLedger({ version: 1, productCode, instanceId, hours: [] });
  }

  /** Adopts spool contents; undefined when they are not a ledger this version wrote. */
  static fromJSON(value: unknown): UsageLedger | undefined {
    const data = value as Partial<LedgerData> | null;
    const valid =
      data !== null &&
      typeof data === 'object' &&
      data.version === 1 &&
      typeof data.productCode === 'string' &&
      typeof data.instanceId === 'string' &&
      Array.isArray(data.hours) &&
      data.hours.every(
        (h) =>
          typeof h?.hour === 'string' &&
          !Number.isNaN(Date.parse(h.hour)) &&
          typeof h.dimensions === 'object' &&
          h.dimensions !== null,
      );
    return valid ? new UsageLedger(data as LedgerData) : undefined;
  }

  toJSON(): LedgerData {
    return this.data;
  }

  /** Makes sure `hour` has an entry (quantity 0) for each dimension, so idle hours are reported as 0. */
  open(hour: number, instanceId: string, dimensions: readonly string[]): void {
    const entry = this.hourEntry(hour, instanceId);
    for (const dimension of dimensions) entry.dimensions[dimension] ??= { state: 'open', buckets: {} };
  }

  /** Adds usage to `hour`, or to the first later hour still open for the dimension; returns the hour used. */
  add(hour: number, instanceId: string, dimension: string, quantity: number, tags: TagInput[] | undefined): number {
    let target = hour;
    while ((this.find(target)?.dimensions[dimension]?.state ?? 'open') !== 'open') target += HOUR_MS;
    const dimensions = this.hourEntry(target, instanceId).dimensions;
    dimensions[dimension] ??= { state: 'open', buckets: {} };
    const usage = dimensions[dimension];
    if (totalOf(usage) + quantity > MAX_USAGE_QUANTITY) {
      throw new ValidationError(
        'quantity',
        `would bring ${dimension}'s usage this hour above ${MAX_USAGE_QUANTITY} (MeterUsage's limit)`,
        quantity,
      );
    }
    const key = tagSetKey(tags);
    const bucket = usage.buckets[key];
    if (bucket) bucket.quantity += quantity;
    // Zero bills nothing: it must not take one of the hour's allocation slots that real usage needs.
    else if (quantity === 0) return target;
    else if (Object.keys(usage.buckets).length >= MAX_ALLOCATIONS) {
      throw new ValidationError(
        'tags',
        `would be tag set number ${MAX_ALLOCATIONS + 1} for ${dimension} this hour (MeterUsage's limit)`,
        tags,
      );
    } else usage.buckets[key] = { ...(tags && { tags }), quantity };
    return target;
  }

  /** Usage not yet sent (open or frozen) of the hours before `beforeHour`, oldest first. */
  due(beforeHour: number): DueUsage[] {
    return this.data.hours
      .map((h) => ({ h, hour: Date.parse(h.hour) }))
      .filter(({ hour }) => hour < beforeHour)
      .sort((a, b) => a.hour - b.hour)
      .flatMap(({ h, hour }) =>
        Object.entries(h.dimensions)
          .filter(([, usage]) => usage.state !== 'done')
          .map(([dimension, usage]) => ({ hour, instanceId: h.instanceId, dimension, usage })),
      );
  }

  /** Fixes the usage and timestamp of an hour's dimension before its first send; returns the timestamp. */
  freeze(due: DueUsage, timestamp: Date): Date {
    if (due.usage.state === 'open') Object.assign(due.usage, { state: 'frozen', timestamp: timestamp.toISOString() });
    return new Date(due.usage.timestamp!);
  }

  /** Sent or given up: keep only the marker that stops more usage landing in this hour. */
  finish(due: DueUsage): void {
    due.usage.state = 'done';
    due.usage.buckets = {};
  }

  /** Forgets hours older than `keepMs` whose dimensions are all done. */
  prune(nowMs: number, keepMs: number): void {
    this.data.hours = this.data.hours.filter(
      (h) => nowMs - Date.parse(h.hour) <= keepMs || Object.values(h.dimensions).some((d) => d.state !== 'done'),
    );
  }

  private find(hour: number): HourUsage | undefined {
    return this.data.hours.find((h) => Date.parse(h.hour) === hour);
  }

  private hourEntry(hour: number, instanceId: string): HourUsage {
    let entry = this.find(hour);
    if (!entry) {
      entry = { hour: new Date(hour).toISOString(), instanceId, dimensions: {} };
      this.data.hours.push(entry);
    }
    return entry;
  }
}

/** A bucket's total. */
export function totalOf(usage: DimensionUsage): number {
  return Object.values(usage.buckets).reduce((sum, b) => sum + b.quantity, 0);
}
