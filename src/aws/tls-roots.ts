/**
 * Which certificate authorities may vouch for the servers our AWS calls reach. By default only Amazon's own roots
 * (Amazon Root CA 1 to 4 and Starfield Services Root Certificate Authority - G2, which every AWS endpoint of the
 * commercial partition chains to), taken from the root store bundled in the Node.js binary: not the system's, not
 * `NODE_EXTRA_CA_CERTS`. A trust anchor that a buyer adds to the pod (a CA file and `NODE_EXTRA_CA_CERTS`, a
 * `hostAliases` entry) then cannot answer as AWS, and nothing in the environment switches verification off.
 *
 * @example
 * const agent = new https.Agent(tlsAgentOptions(checkTlsRoots(options.tlsRoots)));
 */
import { createHash, X509Certificate } from 'node:crypto';
import { checkServerIdentity, rootCertificates, type ConnectionOptions } from 'node:tls';
import { ConfigurationError } from '../common/errors.js';
import { DEFAULT_TLS_ROOTS } from './defaults.js';

/**
 * `'aws'` (default): Amazon's roots only. `'system'`: Node's default store (its bundled roots, plus
 * `NODE_EXTRA_CA_CERTS` and whatever `--use-openssl-ca` / `--use-system-ca` add), still verified. Any other
 * string: a PEM bundle of the only CA certificates to trust (a test CA, or a partition whose endpoints chain
 * elsewhere).
 */
export type TlsRoots = 'aws' | 'system' | (string & {});

/** SHA-256 of each Amazon root's DER, as published by Amazon Trust Services, by name. */
const AMAZON_ROOTS: ReadonlyMap<string, string> = new Map([
  ['8ecde6884f3d87b1125ba31ac3fcb13d7016de7f57cc904fe1cb97c6ae98196e', 'Amazon Root CA 1'],
  ['1ba5b2aa8c65401a82960118f80bec4f62304d83cec4713a19c39c011ea46db4', 'Amazon Root CA 2'],
  ['18ce6cfe7bf14e60b2e347b8dfe868cb31d02ebb3ada271569f50343b46db3a4', 'Amazon Root CA 3'],
  ['e35d28419ed02025cfa69038cd623962458da5c695fbdea3c22b0bfb25897092', 'Amazon Root CA 4'],
  [
    '568d6905a2c88708a4b3025190edcfedb1974a606a13c6e5290fcb2ae63edab5',
    'Starfield Services Root Certificate Authority - G2',
  ],
]);

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----\r?\n[A-Za-z0-9+/=\r\n]+-----END CERTIFICATE-----/g;
/** A bundle larger than this is not a list of root certificates (Node's whole store is about 220 KiB). */
const MAX_BUNDLE_CHARS = 1024 * 1024;

let amazonRoots: string[] | undefined;

/**
 * Amazon's five roots, as PEM, found by fingerprint in the root store bundled with this Node.js binary. Throws
 * `TLS_ROOTS_MISSING` (exit 78) if the binary carries none of them: nothing could then verify AWS.
 */
export function amazonRootCertificates(): string[] {
  amazonRoots ??= rootCertificates.filter((pem) => AMAZON_ROOTS.has(fingerprint(pem)));
  if (amazonRoots.length === 0) {
    throw new ConfigurationError(
      'TLS_ROOTS_MISSING',
      "This Node.js binary's bundled root store has none of Amazon's root " +
        'certificates, so no AWS endpoint can be verified. Use an official Node.js ' +
        'release, or give tlsRoots / --tls-roots a PEM bundle of the roots to trust.',
    );
  }
  return amazonRoots;
}

function fingerprint(pem: string): string {
  return createHash('sha256').update(new X509Certificate(pem).raw).digest('hex');
}

/**
 * `value` checked as a {@link TlsRoots}: undefined is the default; a PEM bundle must hold only CERTIFICATE blocks,
 * each a parseable certificate. Anything else is `INVALID_TLS_ROOTS` (exit 78), before any network call.
 */
export function checkTlsRoots(value: unknown): TlsRoots {
  if (value === undefined) return DEFAULT_TLS_ROOTS;
  if (value === 'aws' || value === 'system') return value;
  const bad = (why: string) =>
    new ConfigurationError(
      'INVALID_TLS_ROOTS',
      `tlsRoots ${why}. Give 'aws' (Amazon's roots, the default), 'system' ` +
        "(Node's default store) or a PEM bundle of CA certificates.",
    );
  if (typeof value !== 'string') throw bad(`must be a string, got ${typeof value}`);
  if (value.length > MAX_BUNDLE_CHARS)
    throw bad(`is ${value.length} characters, more than a bundle of root certificates`);
  const blocks = value.match(PEM_CERTIFICATE) ?? [];
  if (blocks.length === 0)
    throw bad(`is neither 'aws', 'system' nor a PEM bundle (no "-----BEGIN CERTIFICATE-----" block found)`);
  if (value.replace(PEM_CERTIFICATE, '').trim() !== '')
    throw bad('holds text other than CERTIFICATE blocks (a private key, or a damaged block?)');
  blocks.forEach((pem, index) => {
    try {
      new X509Certificate(pem);
    } catch (err) {
      throw bad(`certificate ${index + 1} cannot be parsed (${(err as Error).message})`);
    }
  });
  return value;
}

/** The CA certificates that `roots` trusts; undefined for `'system'` (Node's default store). */
export function trustedCertificates(roots: TlsRoots): string[] | undefined {
  if (roots === 'aws') return amazonRootCertificates();
  if (roots === 'system') return undefined;
  return roots.match(PEM_CERTIFICATE) ?? [];
}

/**
 * Options for the https.Agent of every AWS client: the trusted CAs, and verification and host name checks set
 * explicitly, so `NODE_TLS_REJECT_UNAUTHORIZED=0` (which only changes the default) cannot switch them off. An
 * explicit `ca` replaces Node's default store, `NODE_EXTRA_CA_CERTS` and `--use-openssl-ca` included.
 */
export function tlsAgentOptions(
  roots: TlsRoots,
): Pick<ConnectionOptions, 'ca' | 'rejectUnauthorized' | 'checkServerIdentity'> {
  const ca = trustedCertificates(roots);
  return { ...(ca && { ca }), rejectUnauthorized: true, checkServerIdentity };
}

/** OpenSSL's certificate verification results and Node's host name check, as `err.code` on a failed handshake. */
const CERTIFICATE_ERRORS = new Set([
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_DECRYPT_CERT_SIGNATURE',
  'UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY',
  'CERT_SIGNATURE_FAILURE',
  'CERT_NOT_YET_VALID',
  'CERT_HAS_EXPIRED',
  'ERROR_IN_CERT_NOT_BEFORE_FIELD',
  'ERROR_IN_CERT_NOT_AFTER_FIELD',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'CERT_CHAIN_TOO_LONG',
  'CERT_REVOKED',
  'INVALID_CA',
  'PATH_LENGTH_EXCEEDED',
  'INVALID_PURPOSE',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'HOSTNAME_MISMATCH',
  'UNABLE_TO_GET_CRL',
  'CRL_SIGNATURE_FAILURE',
  'CRL_NOT_YET_VALID',
  'CRL_HAS_EXPIRED',
  // OpenSSL's verification errors that Node has no name for (a too-weak key or signature, among others).
  'UNSPECIFIED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'ERR_TLS_CERT_ALTNAME_FORMAT',
]);

/** The certificate failure code in `err` or its causes, if the failure was a server that did not verify. */
export function certificateFailure(err: unknown): string | undefined {
  for (let e = err, depth = 0; e && typeof e === 'object' && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && CERTIFICATE_ERRORS.has(code)) return code;
  }
  return undefined;
}
