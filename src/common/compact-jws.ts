/**
 * Strict reading of a compact JWS (RFC 7515 section 7.1), for the RegisterUsage token (registration/verify.ts) and
 * the entitlement file (entitlement-file/entitlement-file.ts). It decodes and never verifies: exactly three
 * dot-separated segments, each non-empty unpadded base64url in canonical form, and a header and a payload that are
 * JSON objects. A segment's bytes are handed out only once it has passed.
 *
 * It reads step by step (the split, then whichever part the verifier asks for) so that each verifier keeps the
 * order of its refusals: the RegisterUsage verifier judges the header's `alg` before it looks at the other segments
 * and the signature before the payload, and its test vectors pin which refusal a token with two defects gets. Each
 * verifier words the refusals itself ({@link JwsRefusal}).
 *
 * @example
 * const jws = CompactJws.read(token, (defect) => new Error(`not a JWS: ${defect.kind}`));
 * if (jws.header().alg !== 'EdDSA') throw new Error('alg');
 * jws.requireCanonical();
 * const ok = verify(null, Buffer.from(jws.signingInput), key, jws.signature());
 */

const BASE64URL = /^[A-Za-z0-9_-]+$/;

/**
 * Non-empty unpadded base64url that re-encodes to itself. Decoders ignore the spare low bits of a last character,
 * so without this check a signature whose length leaves spare bits (RSA-2048: 342 characters) would verify with
 * its last character altered: two different strings passing for one token.
 *
 * @example isCanonicalBase64url('AB') // false: 'AA' decodes to the same byte
 */
export function isCanonicalBase64url(text: string): boolean {
  return BASE64URL.test(text) && Buffer.from(text, 'base64url').toString('base64url') === text;
}

/** The part of a JWS whose JSON is read. */
export type JwsJsonPart = 'header' | 'payload';

/** What is wrong with a text read as a compact JWS, for the verifier to word as its own error. */
export type JwsDefect =
  /** Not three segments, or one empty or outside the unpadded base64url alphabet (padding, `+`, `/`, whitespace). */
  | { kind: 'not-compact' }
  /** Every segment is of the alphabet, but one is not canonical: it re-encodes to other text. */
  | { kind: 'not-canonical' }
  /** The header or the payload is not JSON (UTF-8). */
  | { kind: 'not-json'; part: JwsJsonPart; cause: unknown }
  /** The header or the payload is JSON, but not an object. */
  | { kind: 'not-object'; part: JwsJsonPart };

/** Makes the error thrown for a defect: each verifier has its own codes and words. */
export type JwsRefusal = (defect: JwsDefect) => Error;

/** A compact JWS being read: split into its three segments, each decoded only when asked for, and only if canonical. */
export class CompactJws {
  private constructor(
    private readonly segments: readonly [header: string, payload: string, signature: string],
    private readonly refuse: JwsRefusal,
  ) {}

  /**
   * Splits `token` into its three segments; anything else (another count, or not a string) is refused as
   * `not-compact`. Nothing is decoded yet.
   */
  static read(token: unknown, refuse: JwsRefusal): CompactJws {
    const segments = typeof token === 'string' ? token.split('.') : [];
    if (segments.length !== 3) throw refuse({ kind: 'not-compact' });
    return new CompactJws(segments as [string, string, string], refuse);
  }

  /**
   * Refuses unless every segment is canonical base64url: all are checked against the alphabet before any for its form.
   */
  requireCanonical(): void {
    if (!this.segments.every((segment) => BASE64URL.test(segment))) throw this.refuse({ kind: 'not-compact' });
    if (!this.segments.every(isCanonicalBase64url)) throw this.refuse({ kind: 'not-canonical' });
  }

  /** The protected header: a JSON object, from a canonical segment. */
  header(): Record<string, unknown> {
    return this.jsonObject(0, 'header');
  }

  /** The payload: a JSON object, from a canonical segment. */
  payload(): Record<string, unknown> {
    return this.jsonObject(1, 'payload');
  }

  /** `<header>.<payload>` as received: what the signature covers. */
  get signingInput(): string {
    return `${this.segments[0]}.${this.segments[1]}`;
  }

  /** The signature's bytes, from a canonical segment. */
  signature(): Buffer {
    return this.bytes(2);
  }

  private bytes(index: 0 | 1 | 2): Buffer {
    const segment = this.segments[index];
    if (!BASE64URL.test(segment)) throw this.refuse({ kind: 'not-compact' });
    if (!isCanonicalBase64url(segment)) throw this.refuse({ kind: 'not-canonical' });
    return Buffer.from(segment, 'base64url');
  }

  private jsonObject(index: 0 | 1, part: JwsJsonPart): Record<string, unknown> {
    const bytes = this.bytes(index);
    let value: unknown;
    try {
      value = JSON.parse(bytes.toString('utf8'));
    } catch (cause) {
      throw this.refuse({ kind: 'not-json', part, cause });
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value))
      throw this.refuse({ kind: 'not-object', part });
    return value as Record<string, unknown>;
  }
}
