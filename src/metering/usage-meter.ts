/**
 * `createUsageMeter()`: hourly custom-dimension metering for a container, the way AWS wants it.
 *
 * `record()` adds usage to the current hour. After each hour boundary (spread by a random delay, so a
 * fleet does not hit the 10/s quota at once) every dimension's total for the finished hour goes out as one
 * MeterUsage, with allocations by tag set and a `ClientToken` derived from product, dimension, hour and
 * instance, so a retry or a restart repeats the identical request and is never billed twice. Idle hours
 * are reported as 0. A DryRun per dimension at start fails fast on a missing IAM permission or dimension.
 *
 * With `spoolDir`, the ledger is written atomically after every change, so a restart within six hours
 * loses nothing: the restarted meter carries on with the spooled hour and sends what was due. Usage more
 * than six hours old can no longer be sent; it is reported as lost (`logger.error`, event `meter.lost`).
 * `close()` (call it on SIGTERM) sends what is due and keeps the current hour in the spool, or, without a
 * spool, sends the current hour too, since it would otherwise die with the process.
 *
 * @example
 * const meter = await createUsageMeter({
 *   productCode: 'abc123example',
 *   dimensions: ['requests'],
 *   spoolDir: '/var/lib/usage'
 * });
 * meter.record('requests', 1, [{ Key: 'tenant', Value: 'acme' }]);
 * process.once('SIGTERM', () => void meter.close().finally(() => process.exit(0)));
 */
import { createHash, randomUUID } from 'node:crypto';
import { durationOption } from '../common/duration-option.js';
import { ConfigurationError, EntitlementError, ServiceUnavailableError, ValidationError } from '../common/errors.js';
import { resolveInstanceId } from '../platform/instance-id.js';
import { describeError, resolveLogger, type Logger } from '../common/logger.js';
import { meteringClient } from './client.js';
import type { ProcessGuardOptions } from '../hardening/integrity.js';
import { applyHardenedProfile, checkProcessIntegrity } from '../hardening/process-guards.js';
import type { MeteringCallOptions } from './call.js';
import { meterUsage } from './meter-usage.js';
import { HOUR_MS, hourStart, totalOf, UsageLedger, type DueUsage } from './usage-ledger.js';
import { METER_USAGE_MAX_AGE_MS } from './limits.js';
import { readSpool, spoolPath, writeSpool } from './usage-spool.js';
import {
  dimension as checkDimension,
  productCode as checkProductCode,
  quantityOf,
  validateTags,
  type MeterUsageInput,
  type TagInput,
} from './validation.js';

/** Usage this close to MeterUsage's 6-hour limit is given up before sending: the request needs time to arrive. */
const LOST_AFTER_MS = METER_USAGE_MAX_AGE_MS - 60_000;
/** Done-markers are kept a little longer than any usage can be sent, then forgotten. */
const KEEP_MARKERS_MS = METER_USAGE_MAX_AGE_MS + 2 * HOUR_MS;
/** Errors after which the usage can never be sent: report it lost rather than retry it for six hours. */
const LOST_CODES = new Set(['DUPLICATE_REQUEST', 'IDEMPOTENCY_CONFLICT', 'TIMESTAMP_OUT_OF_BOUNDS', 'INVALID_INPUT']);
export const DEFAULT_SEND_JITTER_MS = 5 * 60_000;
export const DEFAULT_CLOSE_DEADLINE_MS = 10_000;

/** How {@link createUsageMeter} meters: product, dimensions, spool, and the call options of its MeterUsage calls. */
export interface UsageMeterOptions extends MeteringCallOptions, Omit<ProcessGuardOptions, 'env'> {
  /** The product code from the AWS Marketplace Management Portal. */
  productCode: string;
  /** The product's custom dimensions (API names from the Management Portal). */
  dimensions: readonly string[];
  /** Where the spool file lives (an emptyDir survives container restarts). Default: no spool. */
  spoolDir?: string;
  /** Part of every ClientToken. Default: env POD_UID, the ECS task ARN, the spool's, or a random one. */
  instanceId?: string;
  /** DryRun each dimension at start. Default true. */
  dryRun?: boolean;
  /**
   * After each hour boundary, sends wait a random 0..sendJitterMs (finite, 0 or more: 0 sends at once). Default 5
   * minutes.
   */
  sendJitterMs?: number;
}

export interface UsageReportItem {
  /** Start of the hour the usage belongs to. */
  hour: Date;
  /** The usage dimension's API name. */
  dimension: string;
  /** The hour's total for the dimension. */
  quantity: number;
}
/** Usage MeterUsage accepted. */
export interface SentUsage extends UsageReportItem {
  /** AWS's MeteringRecordId. */
  meteringRecordId?: string;
}
/** Usage given up: it will never be billed (also logged as `USAGE LOST`). */
export interface LostUsage extends UsageReportItem {
  /** Why it could not be sent. */
  reason: string;
}
/** Usage whose send failed this time; it stays in the ledger. */
export interface FailedUsage extends UsageReportItem {
  /** Kept in the ledger and tried again at the next flush. */
  error: Error;
}
/** What one flush did with each hour and dimension it handled. */
export interface FlushReport {
  /** Accepted by MeterUsage. */
  sent: SentUsage[];
  /** Given up, never to be billed. */
  lost: LostUsage[];
  /** Failed this time; tried again at the next flush. */
  failed: FailedUsage[];
}

/** What a flush sends and how long it may retry. */
export interface FlushOptions {
  /** Also send the hour in progress (its later usage then goes to the next hour). Default false. */
  includeCurrentHour?: boolean;
  /** Retry budget of each MeterUsage. Default: the meter's `deadlineMs`. */
  deadlineMs?: number;
}

/**
 * What the meter has done since it started, for monitoring (`serve` publishes it on `/metrics`).
 *
 * @example
 * const { lost } = meter.stats();
 * if (Object.values(lost).some((l) => l.quantity > 0)) alert('usage was lost');
 */
export interface UsageMeterStats {
  /** MeterUsage records AWS accepted (one per dimension and hour), by dimension. */
  sent: Record<string, number>;
  /** Usage given up, never to be billed, by dimension: how many hour records and how much usage. */
  lost: Record<string, { records: number; quantity: number }>;
  /** Sends that failed and were kept for the next flush. */
  sendFailures: number;
  /** Hours holding usage not yet sent (the current hour included): the spool's backlog. */
  pendingHours: number;
  /** The most recent failed send: its error code and when. */
  lastSendError?: { code: string; at: Date };
}

/** An hourly usage meter from {@link createUsageMeter}: `record()` usage, `close()` on shutdown. */
export interface UsageMeter {
  /** The product metered. */
  readonly productCode: string;
  /** The dimensions `record()` accepts. */
  readonly dimensions: readonly string[];
  /** The instance id in this meter's ClientTokens. */
  readonly instanceId: string;
  /** The spool file, when `spoolDir` was given. */
  readonly spoolFile: string | undefined;
  /** What the start-up flush did with the usage the spool held. */
  readonly startupReport: FlushReport;
  /**
   * Adds usage to the current hour (or the next, if this hour was already sent); returns that hour's start.
   * Throws a {@link ValidationError} for an unknown dimension, a bad quantity or bad tags.
   */
  record(dimension: string, quantity: number, tags?: readonly TagInput[] | Readonly<Record<string, string>>): Date;
  /** Resolves once everything recorded so far is in the spool (at once without a spool). */
  persist(): Promise<void>;
  /** Sends every finished hour not yet sent; what fails stays for the next flush. */
  flush(options?: FlushOptions): Promise<FlushReport>;
  /** Stops the hourly timer and flushes (deadline default 10 s); `record()` throws afterwards. */
  close(options?: FlushOptions): Promise<FlushReport>;
  /** Counts of what was sent, lost and failed since start, and the backlog: see {@link UsageMeterStats}. */
  stats(): UsageMeterStats;
}

/**
 * Checks the options, loads the spool, DryRuns each dimension, sends what the spool held that is due, starts the hourly
 * timer.
 */
export async function createUsageMeter(given: UsageMeterOptions): Promise<UsageMeter> {
  const options = applyHardenedProfile(given, 'createUsageMeter', { reachesAws: true });
  const productCode = checkProductCode(options.productCode, 'productCode');
  if (!Array.isArray(options.dimensions) || options.dimensions.length === 0) {
    throw new ValidationError(
      'dimensions',
      "must list at least one of the product's usage dimensions",
      options.dimensions,
    );
  }
  const dimensions = options.dimensions.map((d, i) => checkDimension(d, `dimensions[${i}]`));
  const repeated = dimensions.find((d, i) => dimensions.indexOf(d) !== i);
  if (repeated !== undefined) throw new ValidationError('dimensions', 'must not repeat a dimension', repeated);
  const jitterMs = durationOption(
    'sendJitterMs',
    options.sendJitterMs,
    { unit: 'milliseconds', allowZero: true },
    DEFAULT_SEND_JITTER_MS,
  );

  checkProcessIntegrity(options);
  const logger = resolveLogger(options.logger);
  const spoolFile = options.spoolDir === undefined ? undefined : spoolPath(options.spoolDir, productCode);
  const spooled = spoolFile === undefined ? undefined : await readSpool(spoolFile, productCode, logger);
  const instanceId =
    (await resolveInstanceId({ instanceId: options.instanceId, env: options.env }))?.instance ??
    spooled?.data.instanceId ??
    randomUUID();
  const ledger = spooled ?? UsageLedger.empty(productCode, instanceId);
  ledger.data.instanceId = instanceId;
  const client =
    options.client ??
    (await meteringClient(options, logger, { operation: 'MeterUsage', eventPrefix: 'metering.MeterUsage' })).client;
  const callOptions: MeteringCallOptions = { ...options, client, logger };

  if (options.dryRun ?? true) {
    const now = (options.now ?? (() => new Date()))();
    for (const dimension of dimensions) {
      await meterUsage(
        { ProductCode: productCode, Timestamp: now, UsageDimension: dimension, UsageQuantity: 0, DryRun: true },
        callOptions,
      );
    }
    logger.info?.(`MeterUsage permitted for ${dimensions.join(', ')}`, {
      event: 'meter.dry_run',
      productCode,
      dimensions,
    });
  }
  return HourlyUsageMeter.start({
    productCode,
    dimensions,
    instanceId,
    spoolFile,
    ledger,
    jitterMs,
    logger,
    callOptions,
  });
}

interface MeterParts {
  productCode: string;
  dimensions: string[];
  instanceId: string;
  spoolFile: string | undefined;
  ledger: UsageLedger;
  jitterMs: number;
  logger: Logger;
  callOptions: MeteringCallOptions;
}

class HourlyUsageMeter implements UsageMeter {
  readonly productCode: string;
  readonly dimensions: readonly string[];
  readonly instanceId: string;
  readonly spoolFile: string | undefined;
  startupReport: FlushReport = { sent: [], lost: [], failed: [] };
  private readonly ledger: UsageLedger;
  private readonly clock: () => Date;
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<unknown> = Promise.resolve();
  private writing: Promise<void> | undefined;
  private dirty = false;
  private closing: Promise<FlushReport> | undefined;
  private readonly counts: Omit<UsageMeterStats, 'pendingHours'> = { sent: {}, lost: {}, sendFailures: 0 };

  private constructor(private readonly parts: MeterParts) {
    ({
      productCode: this.productCode,
      dimensions: this.dimensions,
      instanceId: this.instanceId,
      spoolFile: this.spoolFile,
      ledger: this.ledger,
    } = parts);
    this.clock = parts.callOptions.now ?? (() => new Date());
  }

  static async start(parts: MeterParts): Promise<HourlyUsageMeter> {
    const meter = new HourlyUsageMeter(parts);
    meter.startupReport = await meter.flush();
    meter.schedule();
    return meter;
  }

  record(dimension: string, quantity: number, tags?: readonly TagInput[] | Readonly<Record<string, string>>): Date {
    if (this.closing !== undefined)
      throw new ConfigurationError('METER_CLOSED', 'The usage meter is closed; create a new one to record more usage.');
    if (!this.dimensions.includes(dimension)) {
      throw new ValidationError(
        'dimension',
        `must be one of this meter's dimensions (${this.dimensions.join(', ')})`,
        dimension,
      );
    }
    const amount = quantityOf(quantity, 'quantity');
    const tagList = tagsFrom(tags);
    const hour = this.ledger.add(hourStart(this.clock().getTime()), this.instanceId, dimension, amount, tagList);
    this.persist().catch(() => undefined); // logged by persist; record() itself stays synchronous
    return new Date(hour);
  }

  persist(): Promise<void> {
    if (this.spoolFile === undefined) return Promise.resolve();
    this.dirty = true;
    // One write in flight at a time; changes made meanwhile go out in the next write of the same loop.
    this.writing ??= this.drainWrites().finally(() => {
      this.writing = undefined;
    });
    return this.writing;
  }

  flush(options: FlushOptions = {}): Promise<FlushReport> {
    const run = this.flushing.then(() => this.sendDue(options));
    this.flushing = run.catch(() => undefined);
    return run;
  }

  close(options: FlushOptions = {}): Promise<FlushReport> {
    clearTimeout(this.timer);
    this.closing ??= this.flush({
      includeCurrentHour: options.includeCurrentHour ?? this.spoolFile === undefined,
      deadlineMs: options.deadlineMs ?? DEFAULT_CLOSE_DEADLINE_MS,
    }).then((report) => (this.spoolFile === undefined ? this.loseUnsent(report) : report));
    return this.closing;
  }

  stats(): UsageMeterStats {
    const pendingHours = new Set(this.ledger.due(Infinity).map((due) => due.hour)).size;
    return structuredClone({ ...this.counts, pendingHours });
  }

  /**
   * Without a spool, usage the closing flush did not send dies with the process: usage moved to the next hour
   * (its own was sent), or the current hour when `includeCurrentHour: false`. Report it lost, loudly. Failed
   * sends are already in `failed`.
   */
  private loseUnsent(report: FlushReport): FlushReport {
    const failed = new Set(report.failed.map((f) => `${f.hour.getTime()}|${f.dimension}`));
    for (const due of this.ledger.due(Infinity)) {
      const item = { hour: new Date(due.hour), dimension: due.dimension, quantity: totalOf(due.usage) };
      if (item.quantity > 0 && !failed.has(`${due.hour}|${due.dimension}`)) {
        report.lost.push(
          this.lose(due, item, 'the meter closed before it could be sent, and without a spool nothing keeps it'),
        );
      }
    }
    return report;
  }

  private async drainWrites(): Promise<void> {
    while (this.dirty) {
      this.dirty = false;
      try {
        await writeSpool(this.spoolFile!, this.ledger);
      } catch (err) {
        (this.parts.logger.error ?? this.parts.logger.warn)?.(
          `Cannot write the usage spool: ${(err as Error).message}`,
          {
            event: 'meter.spool_write_failed',
            error: describeError(err),
          },
        );
        throw err;
      }
    }
  }

  private async sendDue(options: FlushOptions): Promise<FlushReport> {
    const nowMs = this.clock().getTime();
    const current = hourStart(nowMs);
    this.ledger.open(current, this.instanceId, this.dimensions);
    const report: FlushReport = { sent: [], lost: [], failed: [] };
    for (const due of this.ledger.due(options.includeCurrentHour ? current + HOUR_MS : current)) {
      const item = { hour: new Date(due.hour), dimension: due.dimension, quantity: totalOf(due.usage) };
      const timestamp = this.ledger.freeze(due, new Date(Math.min(due.hour + HOUR_MS - 1000, nowMs)));
      if (nowMs - timestamp.getTime() > LOST_AFTER_MS) {
        report.lost.push(this.lose(due, item, 'it is older than the 6 hours MeterUsage accepts'));
        continue;
      }
      await this.persist(); // the frozen request is durable before AWS can see it
      try {
        const deadline = options.deadlineMs ?? this.parts.callOptions.deadlineMs;
        const result = await meterUsage(this.requestFor(due, timestamp, item.quantity), {
          ...this.parts.callOptions,
          ...(deadline !== undefined && { deadlineMs: deadline }),
        });
        this.ledger.finish(due);
        this.counts.sent[item.dimension] = (this.counts.sent[item.dimension] ?? 0) + 1;
        report.sent.push({
          ...item,
          ...(result.meteringRecordId !== undefined && { meteringRecordId: result.meteringRecordId }),
        });
        this.parts.logger.info?.(`Metered ${item.quantity} ${item.dimension} for ${item.hour.toISOString()}`, {
          event: 'meter.sent',
          ...item,
          attempts: result.attempts,
        });
      } catch (err) {
        if (err instanceof EntitlementError && LOST_CODES.has(err.code)) {
          report.lost.push(this.lose(due, item, err.message));
          continue;
        }
        report.failed.push({ ...item, error: err as Error });
        this.counts.sendFailures += 1;
        this.counts.lastSendError = { code: (err as { code?: string }).code ?? (err as Error).name, at: this.clock() };
        (this.parts.logger.error ?? this.parts.logger.warn)?.(
          `MeterUsage for ${item.dimension} in ${item.hour.toISOString()} failed; kept for the next ` +
            `flush: ${(err as Error).message}`,
          { event: 'meter.send_failed', ...item, error: describeError(err) },
        );
        // AWS unreachable: do not spend a deadline per remaining item
        if (err instanceof ServiceUnavailableError) break;
      }
    }
    this.ledger.prune(nowMs, KEEP_MARKERS_MS);
    await this.persist();
    return report;
  }

  private lose(due: DueUsage, item: { hour: Date; dimension: string; quantity: number }, reason: string): LostUsage {
    this.ledger.finish(due);
    this.counts.lost[item.dimension] ??= { records: 0, quantity: 0 };
    const lost = this.counts.lost[item.dimension];
    lost.records += 1;
    lost.quantity += item.quantity;
    (this.parts.logger.error ?? this.parts.logger.warn)?.(
      `USAGE LOST: ${item.quantity} ${item.dimension} for the hour ${item.hour.toISOString()} ` +
        `will not be billed: ${reason}`,
      { event: 'meter.lost', ...item, reason },
    );
    return { ...item, reason };
  }

  private requestFor(due: DueUsage, timestamp: Date, quantity: number): MeterUsageInput {
    const buckets = Object.values(due.usage.buckets);
    return {
      ProductCode: this.productCode,
      Timestamp: timestamp,
      UsageDimension: due.dimension,
      UsageQuantity: quantity,
      ClientToken: usageClientToken(this.productCode, due.dimension, due.hour, due.instanceId),
      ...(buckets.some((b) => b.tags) && {
        UsageAllocations: buckets.map((b) => ({ AllocatedUsageQuantity: b.quantity, ...(b.tags && { Tags: b.tags }) })),
      }),
    };
  }

  private schedule(): void {
    if (this.closing !== undefined) return;
    const nowMs = this.clock().getTime();
    const delay = hourStart(nowMs) + HOUR_MS - nowMs + Math.floor(Math.random() * this.parts.jitterMs);
    this.timer = setTimeout(() => {
      this.flush()
        .catch(() => undefined) // send failures are in the report and the log; a spool write failure was logged
        .finally(() => this.schedule());
    }, delay);
    this.timer.unref(); // the meter alone does not keep a process alive
  }
}

/**
 * The ClientToken for one hour of one dimension from one instance: the same on every retry and restart.
 *
 * @example
 * usageClientToken('abc123', 'requests', Date.parse('2026-01-01T10:00:00Z'), 'pod-uid') // 43 base64url characters
 */
export function usageClientToken(productCode: string, dimension: string, hour: number, instanceId: string): string {
  return createHash('sha256')
    .update(JSON.stringify([productCode, dimension, new Date(hour).toISOString(), instanceId]))
    .digest('base64url');
}

function tagsFrom(tags: readonly TagInput[] | Readonly<Record<string, string>> | undefined): TagInput[] | undefined {
  if (tags === undefined) return undefined;
  const list = Array.isArray(tags) ? tags : Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));
  return list.length === 0 ? undefined : validateTags(list, 'tags');
}
