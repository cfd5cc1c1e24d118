/**
 * Hand-made RegisterUsage tokens for verification tests: PS256-signed with any payload (an object, or raw JSON
 * text for number spellings like `1.0`), or assembled from arbitrary header/payload/signature segments.
 *
 * @example
 * const token = await signToken(privateKey, { productCode: 'p', publicKeyVersion: 1, nonce: 'n', iat: 1_700_000_000 });
 */
import type { KeyObject } from 'node:crypto';
import { CompactSign } from 'jose';

export const PS256_HEADER = Object.freeze({ alg: 'PS256', typ: 'JWT' });

/** Unpadded base64url of a value's JSON (or of a string taken as it is). */
export function encodeSegment(value: unknown): string {
  return Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
}

/** A PS256 compact JWS over `payload` (JSON-encoded unless already a string). */
export function signToken(
  privateKey: KeyObject,
  payload: unknown,
  header: Record<string, unknown> = PS256_HEADER,
): Promise<string> {
  const bytes = Buffer.from(typeof payload === 'string' ? payload : JSON.stringify(payload));
  return new CompactSign(bytes).setProtectedHeader({ ...header, alg: 'PS256' }).sign(privateKey);
}

/** Replaces segment `index` (0 header, 1 payload, 2 signature) of a compact token. */
export function replaceSegment(token: string, index: 0 | 1 | 2, segment: string): string {
  const segments = token.split('.');
  segments[index] = segment;
  return segments.join('.');
}
