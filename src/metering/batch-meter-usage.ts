/**
 * `batchMeterUsage()`: SaaS usage for up to 25 records, validated, retried, and driven to completion.
 *
 * AWS may leave records in `UnprocessedRecords` (a transient service-side failure); they are sent again,
 * the same records (BatchMeterUsage de-duplicates identical ones), with the usual backoff, until none is
 * left or the deadline passes. The per-record results of every round are returned together: `Success`,
 * `CustomerNotSubscribed` or `DuplicateRecord`. At the deadline the {@link ServiceUnavailableError}'s
 * `cause` is an {@link UnprocessedRecordsError} holding what was done and what was not.
 *
 * @example
 * const { results } = await batchMeterUsage({
 *   ProductCode: 'abc123example',
 *   UsageRecords: [{ CustomerIdentifier: 'cust-1', Dimension: 'api_calls', Quantity: 42, Timestamp: new Date() }],
 * });
 * const refused = results.filter((r) => r.Status !== 'Success');
 */
import { BatchMeterUsageCommand, type UsageRecord, type UsageRecordResult } from '@aws-sdk/client-marketplace-metering';
import { callMetering, type MeteringCallOptions } from './call.js';
import { BATCH_METER_USAGE_ERRORS } from './errors.js';
import { validateBatchMeterUsageInput, type BatchMeterUsageInput } from './validation.js';

/** Records AWS left unprocessed in the last round; the cause of a deadline error. */
export class UnprocessedRecordsError extends Error {
  constructor(
    /** Results of the records that were processed before the deadline. */
    readonly results: UsageRecordResult[],
    /** The records AWS had still not processed. */
    readonly unprocessedRecords: UsageRecord[],
  ) {
    super(`${unprocessedRecords.length} usage record(s) still unprocessed by AWS (${results.length} processed)`);
    this.name = 'UnprocessedRecordsError';
  }
}

/** What {@link batchMeterUsage} resolves with once every record is processed. */
export interface BatchMeterUsageResult {
  /** One result per record, in the order AWS processed them. */
  results: UsageRecordResult[];
  /** BatchMeterUsage calls made, retries and UnprocessedRecords rounds included. */
  attempts: number;
  /** The Region the call went to. */
  region: string;
}

/** Validates, then calls BatchMeterUsage until every record is processed, one fails for good, or the deadline. */
export async function batchMeterUsage(
  input: BatchMeterUsageInput,
  options: MeteringCallOptions = {},
): Promise<BatchMeterUsageResult> {
  const request = validateBatchMeterUsageInput(input, options.now?.());
  const results: UsageRecordResult[] = [];
  let pending = request.UsageRecords;
  const { attempts, region } = await callMetering(
    'BatchMeterUsage',
    async (client, signal) => {
      const answer = await client.send(new BatchMeterUsageCommand({ ...request, UsageRecords: pending }), {
        abortSignal: signal,
      });
      results.push(...(answer.Results ?? []));
      const unprocessed = answer.UnprocessedRecords ?? [];
      if (unprocessed.length > 0) {
        pending = unprocessed;
        throw new UnprocessedRecordsError([...results], unprocessed);
      }
    },
    options,
    BATCH_METER_USAGE_ERRORS,
    (err) => err instanceof UnprocessedRecordsError,
  );
  return { results, attempts, region };
}
