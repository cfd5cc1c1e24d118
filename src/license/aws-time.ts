/**
 * An AWS License Manager time (a checkout's `Expiration`, a licence's `Validity.End`) as an instant. The model
 * requires a zone, yet AWS's own examples have none (`2021-04-22T19:02:36`): both are read, a zoneless one as UTC.
 * Undefined when absent or unreadable.
 *
 * @example parseAwsTime('2021-04-22T19:02:36')?.toISOString() // '2021-04-22T19:02:36.000Z'
 */
export function parseAwsTime(text: string | undefined): Date | undefined {
  if (typeof text !== 'string' || text === '') return undefined;
  const zoned = /(Z|[+-]\d{2}:?\d{2})$/i.test(text) ? text : `${text}Z`;
  const date = new Date(zoned);
  return Number.isNaN(date.getTime()) ? undefined : date;
}
