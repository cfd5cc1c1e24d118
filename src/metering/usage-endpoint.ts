/**
 * `POST /usage`: the usage meter over HTTP, for apps in other languages sharing the pod or task with the
 * `serve` sidecar. Body: `{"dimension": "requests", "quantity": 3, "tags": {"tenant": "acme"}}` (tags
 * optional, an object or AWS's `[{"Key","Value"}]`). Answers:
 *
 * - 202 `{"dimension","quantity","hour","durable"}`: recorded; `durable` says the spool holds it. Never retry
 *   a 202: the usage is counted (even with `durable: false`, when only the spool write failed).
 * - 400 `{"error":"INVALID_INPUT","field","message"}`; 403 from anything but loopback (the sidecar may
 *   listen on the pod IP for kubelet probes, but only containers of the same pod may meter);
 *   405 for another method; 413 beyond 64 KiB (from `Content-Length` before reading, or as soon as a chunked body
 *   passes it; the connection then closes); 503 once the meter is closed (shutting down).
 *
 * @example
 * // in serve's request listener:
 * if (new URL(req.url ?? '/', 'http://x').pathname === USAGE_PATH) return handleUsageRequest(meter, req, res);
 * // from any language in the pod:
 * // curl -X POST http://127.0.0.1:8080/usage -d '{"dimension":"requests","quantity":1}'
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { EntitlementError, ValidationError } from '../common/errors.js';
import type { UsageMeter } from './usage-meter.js';

/** The path `serve` accepts usage on: `POST /usage` (see {@link handleUsageRequest}). */
export const USAGE_PATH = '/usage';
const MAX_BODY_BYTES = 64 * 1024;

/** True for 127.0.0.0/8, ::1 and their IPv4-mapped forms: a caller inside this pod or task. */
export function isLoopbackAddress(address: string | undefined): boolean {
  if (address === undefined) return false;
  const v4 = address.startsWith('::ffff:') ? address.slice(7) : address;
  return address === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(v4);
}

/** Handles one request to {@link USAGE_PATH}; answers every request whose client is still there, and never rejects. */
export async function handleUsageRequest(
  meter: Pick<UsageMeter, 'record' | 'persist'>,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  if (!isLoopbackAddress(req.socket.remoteAddress))
    return reply(res, 403, {
      error: 'FORBIDDEN',
      message: 'POST /usage is only accepted from loopback (this pod or task).',
    });
  if (req.method !== 'POST')
    return reply(res, 405, { error: 'METHOD_NOT_ALLOWED', message: 'Use POST.' }, { allow: 'POST' });
  // A declared length over the limit is refused before a byte of it is read; an undeclared (chunked) one as soon
  // as it passes the limit. Either way the connection closes: the rest of the body is never read.
  const declared = Number(req.headers['content-length'] ?? 0);
  const body = declared > MAX_BODY_BYTES ? undefined : await readBody(req).catch(() => null);
  if (body === null) return; // the client went away mid-request: nobody to answer
  if (body === undefined)
    return reply(
      res,
      413,
      { error: 'TOO_LARGE', message: `The body must be at most ${MAX_BODY_BYTES} bytes.` },
      { connection: 'close' },
    );
  let usage: { dimension?: unknown; quantity?: unknown; tags?: unknown };
  try {
    usage = JSON.parse(body) as typeof usage;
    if (usage === null || typeof usage !== 'object' || Array.isArray(usage)) throw new Error('not an object');
  } catch {
    return reply(res, 400, {
      error: 'INVALID_INPUT',
      field: 'body',
      message: 'The body must be a JSON object like {"dimension":"requests","quantity":1}.',
    });
  }
  let hour: Date;
  try {
    hour = meter.record(
      usage.dimension as string,
      usage.quantity as number,
      usage.tags as Record<string, string> | undefined,
    );
  } catch (err) {
    if (err instanceof ValidationError)
      return reply(res, 400, { error: err.code, field: err.field, message: err.message });
    if (err instanceof EntitlementError) return reply(res, 503, { error: err.code, message: err.message });
    return reply(res, 500, { error: 'INTERNAL', message: (err as Error).message });
  }
  const durable = await meter.persist().then(
    () => true,
    () => false, // logged by the meter; the usage is counted all the same
  );
  reply(res, 202, { dimension: usage.dimension, quantity: usage.quantity, hour: hour.toISOString(), durable });
}

function reply(res: ServerResponse, status: number, body: object, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(`${JSON.stringify(body)}\n`);
}

/** The body as text, or undefined as soon as it passes the size limit (reading stops there). */
function readBody(req: IncomingMessage): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) return void chunks.push(chunk);
      req.off('data', onData).pause();
      resolve(undefined);
    };
    req.on('data', onData);
    req.once('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.once('error', reject);
  });
}
