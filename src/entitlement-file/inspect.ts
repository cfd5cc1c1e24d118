/**
 * Human-readable decoding of an entitlement file or a bare RegisterUsage token: header, claims, times,
 * key thumbprint, and (when a key is given) whether it verifies. For operators and support, not for
 * access decisions: decoding trusts nothing, verification is reported separately.
 *
 * @example
 * const inspection = await inspectToken(fs.readFileSync(path, 'utf8'), { publicKey });
 * console.log(formatInspection(inspection));
 * if (inspection.verification && !inspection.verification.ok) process.exit(65);
 */
import {
  decodeCompactJws,
  ENTITLEMENT_FILE_TYPE,
  jwkThumbprint,
  verifyEntitlementToken,
  type Ed25519PublicJwk,
} from './entitlement-file.js';
import type { PublicKeyInput } from '../registration/public-key.js';
import { verifyRegistration } from '../registration/verify.js';

/** A decoded entitlement file or RegisterUsage token, as {@link formatInspection} shows it. */
export interface Inspection {
  /** Which of the two it is (by the header's `typ`). */
  kind: 'entitlement file' | 'RegisterUsage token';
  /** The JWS protected header. */
  header: Record<string, unknown>;
  /** The claims (for a file, without the embedded AWS token). */
  claims: Record<string, unknown>;
  /** The AWS token inside an entitlement file. */
  registration?: { header: Record<string, unknown>; claims: Record<string, unknown> };
  /** Thumbprint of the header key and whether the nonce equals it (entitlement files). */
  keyThumbprint?: { value: string; matchesNonce: boolean };
  /** Present when a key was given. */
  verification?: { ok: true } | { ok: false; code: string; message: string };
}

/** What to verify the token under; without `publicKey` it is only decoded. */
export interface InspectOptions {
  /** Verify as well, under this product key. */
  publicKey?: PublicKeyInput;
  /** Expected product code (entitlement files). */
  productCode?: string;
}

/** Decodes `text` (an entitlement file or a bare AWS token) and verifies it when a key is given. */
export async function inspectToken(text: string, options: InspectOptions = {}): Promise<Inspection> {
  const token = text.trim();
  const { header, payload } = decodeCompactJws(token);
  const isFile = header.typ === ENTITLEMENT_FILE_TYPE;
  const inspection: Inspection = { kind: isFile ? 'entitlement file' : 'RegisterUsage token', header, claims: payload };
  if (isFile) {
    const { registration, ...claims } = payload;
    inspection.claims = claims;
    if (typeof registration === 'string') {
      const inner = decodeCompactJws(registration);
      inspection.registration = { header: inner.header, claims: inner.payload };
    }
    const jwk = header.jwk as Ed25519PublicJwk | undefined;
    if (jwk && typeof jwk.x === 'string') {
      const value = jwkThumbprint(jwk);
      inspection.keyThumbprint = { value, matchesNonce: value === payload.nonce };
    }
  }
  if (options.publicKey !== undefined) inspection.verification = await verification(token, isFile, payload, options);
  return inspection;
}

async function verification(
  token: string,
  isFile: boolean,
  payload: Record<string, unknown>,
  options: InspectOptions,
): Promise<Inspection['verification']> {
  const publicKey = options.publicKey!;
  try {
    if (isFile) {
      await verifyEntitlementToken(token, {
        publicKey,
        ...(options.productCode !== undefined && { productCode: options.productCode }),
      });
    } else {
      // A bare token is judged against its own claims: the signature, and claims that are present and well-formed.
      await verifyRegistration(token, {
        publicKey,
        productCode: String(payload.productCode ?? payload.ProductCode ?? ''),
        publicKeyVersion: Number(payload.publicKeyVersion ?? payload.PublicKeyVersion),
        nonce: String(payload.nonce ?? payload.Nonce ?? ''),
      });
    }
    return { ok: true };
  } catch (err) {
    const { code = 'UNKNOWN', message } = err as { code?: string; message: string };
    return { ok: false, code, message };
  }
}

/** The inspection as indented text, times shown as ISO dates beside the raw seconds; control characters escaped. */
export function formatInspection(inspection: Inspection): string {
  const lines = [
    `${inspection.kind}`,
    '  header:',
    ...fields(inspection.header, 4),
    '  claims:',
    ...fields(inspection.claims, 4),
  ];
  if (inspection.keyThumbprint) {
    const { value, matchesNonce } = inspection.keyThumbprint;
    lines.push(`  key thumbprint: ${value} (${matchesNonce ? 'equals the nonce' : 'DOES NOT equal the nonce'})`);
  }
  if (inspection.registration) {
    lines.push(
      '  registration (AWS RegisterUsage token):',
      '    header:',
      ...fields(inspection.registration.header, 6),
    );
    lines.push('    claims:', ...fields(inspection.registration.claims, 6));
  }
  const verdict = inspection.verification;
  if (!verdict) lines.push('  verification: not attempted (give the product public key to verify)');
  else
    lines.push(
      verdict.ok
        ? '  verification: OK'
        : `  verification: FAILED ${verdict.code}: ${escapeControlCharacters(verdict.message)}`,
    );
  return lines.join('\n');
}

/**
 * Everything a terminal could act on (C0 and C1 controls, DEL, line and paragraph separators, bidirectional
 * overrides) as `\u` escapes: a crafted claim can then neither move the cursor, recolour, nor start a line
 * that fakes "verification: OK".
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is this pattern's job.
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

function escapeControlCharacters(text: string): string {
  return text.replace(CONTROL_CHARACTERS, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

const TIME_FIELDS = new Set(['iat', 'publicKeyRotationTimestamp']);

function fields(object: Record<string, unknown>, indent: number): string[] {
  return Object.entries(object).map(([key, value]) => {
    const shown = typeof value === 'string' ? value : JSON.stringify(value);
    const time = TIME_FIELDS.has(key) && typeof value === 'number' ? ` (${new Date(value * 1000).toISOString()})` : '';
    return `${' '.repeat(indent)}${escapeControlCharacters(key)}: ${escapeControlCharacters(shown)}${time}`;
  });
}
