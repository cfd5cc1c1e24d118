/**
 * The usage meter's spool: its ledger as one JSON file, replaced atomically on every change, so a restart
 * (or a crash) finds exactly what was recorded and not yet sent. A file that cannot be read as a ledger is
 * moved aside (never deleted: it may be evidence of usage) and reported.
 *
 * @example
 * const file = spoolPath('/var/lib/usage', 'abc123');
 * const ledger = (await readSpool(file, 'abc123', logger)) ?? UsageLedger.empty('abc123', instanceId);
 * await writeSpool(file, ledger);
 */
import { rename } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../common/atomic-write.js';
import { ConfigurationError, type InputError } from '../common/errors.js';
import { readInputFile } from '../common/input-file.js';
import type { Logger } from '../common/logger.js';
import { UsageLedger } from './usage-ledger.js';

/** One spool file per product in `spoolDir`. */
export function spoolPath(spoolDir: string, productCode: string): string {
  return join(spoolDir, `usage-${productCode.replace(/[^A-Za-z0-9._-]/g, '_')}.json`);
}

/**
 * Far above any real ledger (a few hours of usage, at most 2,500 tag sets per dimension and hour), far below what
 * would hurt: the spool is read like every input, so a FIFO, a device or a huge file there fails start-up with
 * `SPOOL_UNREADABLE` instead of hanging it or exhausting memory.
 */
export const MAX_SPOOL_BYTES = 32 * 1024 * 1024;

/** The ledger in `file`; undefined when there is none (or it was unreadable and moved aside). */
export async function readSpool(file: string, productCode: string, logger: Logger): Promise<UsageLedger | undefined> {
  let text: string;
  try {
    text = await readInputFile(file, { code: 'SPOOL', what: 'usage spool', maxBytes: MAX_SPOOL_BYTES });
  } catch (err) {
    if ((err as InputError).code === 'SPOOL_MISSING') return undefined;
    throw err;
  }
  let ledger: UsageLedger | undefined;
  try {
    ledger = UsageLedger.fromJSON(JSON.parse(text));
  } catch {
    ledger = undefined;
  }
  if (!ledger) {
    const aside = `${file}.corrupt-${Date.now()}`;
    await rename(file, aside);
    (logger.error ?? logger.warn)?.(
      `The usage spool ${file} is not a usage ledger; moved it ` +
        `to ${aside} and started an empty one. Usage it held is not sent.`,
      {
        event: 'meter.spool_corrupt',
        file,
        movedTo: aside,
      },
    );
    return undefined;
  }
  if (ledger.data.productCode !== productCode) {
    throw new ConfigurationError(
      'SPOOL_PRODUCT_MISMATCH',
      `The usage spool ${file} belongs to product ${JSON.stringify(ledger.data.productCode)}, ` +
        `not ${JSON.stringify(productCode)}. Give each product its own spool directory.`,
    );
  }
  return ledger;
}

/** Replaces the spool with `ledger` atomically (mode 0600: usage data is the seller's business). */
export function writeSpool(file: string, ledger: UsageLedger): Promise<void> {
  return writeFileAtomic(file, `${JSON.stringify(ledger)}\n`, { mode: 0o600 });
}
