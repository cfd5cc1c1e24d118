/**
 * Loading and vetting the product's public key: the trust anchor for every RegisterUsage answer.
 *
 * AWS issues one RSA key per product and key version (in the AWS Marketplace Management Portal); there is
 * no global AWS key. The only PEM in AWS's documentation is a placeholder whose private key is public, so
 * tokens "verified" under it prove nothing: it is refused by fingerprint.
 *
 * @example
 * const key = loadProductPublicKey(fs.readFileSync('product-key.pem', 'utf8'));
 */
import { createHash, createPublicKey, KeyObject } from 'node:crypto';
import { ConfigurationError } from '../common/errors.js';

/** SHA-256 of the SPKI DER of the placeholder key printed in AWS's RegisterUsage documentation. */
export const AWS_DOC_PLACEHOLDER_KEY_SHA256 = 'd2f8d7917928bbe7a457bdbaa0f69221a49b0fbc867ea34b700e9e78364d57e8';

/**
 * The placeholder's PKCS#1 RSAPublicKey (its modulus and exponent): length and SHA-256 of the DER. Every SPKI of
 * an RSA key ends with it, whatever the algorithm identifier, so the same key labelled RSA-PSS (whose SPKI, and
 * so its fingerprint, differ) is recognised too.
 */
const PLACEHOLDER_RSA_PUBLIC_KEY = {
  bytes: 140,
  sha256: '411c4f74ea279a981238973c708a245cdb0c8951ede91521d1a034918253619c',
};

/** RegisterUsage tokens are PS256; below 2048 bits RSA offers no real assurance (and the placeholder is 1024). */
export const MIN_RSA_BITS = 2048;
/** Larger keys only cost verification time (a hostile 64 kbit key makes every probe slow). */
export const MAX_RSA_BITS = 16384;
/** The only public exponent AWS keys use; e = 1 makes any "signature" verify, small ones invite forgery. */
export const RSA_PUBLIC_EXPONENT = 65537n;

/** A product public key: PEM text (SPKI or PKCS#1), its bytes, or a `KeyObject`. */
export type PublicKeyInput = string | Buffer | KeyObject;

/** SHA-256 (hex) of a public key's SPKI DER encoding: a stable fingerprint for logs and allow-lists. */
export function publicKeyFingerprint(key: KeyObject): string {
  return createHash('sha256')
    .update(key.export({ type: 'spki', format: 'der' }))
    .digest('hex');
}

/**
 * Parses a PEM (or DER SPKI) public key or takes a KeyObject, and checks that it can be a RegisterUsage
 * trust anchor: a public RSA key of 2048 to 16384 bits with exponent 65537, given as exactly one PEM block (or one
 * DER SPKI), neither a certificate nor a private key, and not AWS's documentation placeholder.
 * Throws {@link ConfigurationError} `INVALID_PUBLIC_KEY` or `REFUSED_PUBLIC_KEY`.
 */
export function loadProductPublicKey(input: PublicKeyInput): KeyObject {
  if (input instanceof KeyObject && vettedKeys.has(input)) return input;
  if (input === undefined || input === null || input === '' || (Buffer.isBuffer(input) && input.length === 0)) {
    throw new ConfigurationError(
      'MISSING_PUBLIC_KEY',
      'No product public key given. There is no global AWS key: pass the RSA public key AWS Marketplace issued for ' +
        'this product and key version (Management Portal) as publicKey / --public-key-file.',
    );
  }
  const key = parsePublicKey(input);
  const type = key.asymmetricKeyType;
  if (type !== 'rsa' && type !== 'rsa-pss') {
    throw new ConfigurationError(
      'INVALID_PUBLIC_KEY',
      `The product public key is a ${type ?? 'non-asymmetric'} key; RegisterUsage ` +
        'signatures are PS256, so it must be the RSA public key AWS Marketplace ' +
        'issued for this product (Management Portal, product page, "public key").',
    );
  }
  const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
  const exponent = key.asymmetricKeyDetails?.publicExponent;
  if (exponent !== RSA_PUBLIC_EXPONENT) {
    throw new ConfigurationError(
      'INVALID_PUBLIC_KEY',
      `The product public key has public exponent ${String(exponent)}; only ${RSA_PUBLIC_EXPONENT} is accepted (with ` +
        'e = 1 anyone could forge a signature). Use the public key AWS Marketplace issued for your product.',
    );
  }
  if (isDocPlaceholder(key)) {
    throw new ConfigurationError(
      'REFUSED_PUBLIC_KEY',
      'The product public key is the placeholder printed in AWS documentation ("Replace with your public key"). ' +
        'Its private key is published, so anyone could forge an entitlement under it. Use the public key AWS ' +
        'Marketplace issued for your product and key version (AWS Marketplace Management Portal).',
    );
  }
  if (bits < MIN_RSA_BITS || bits > MAX_RSA_BITS) {
    throw new ConfigurationError(
      'INVALID_PUBLIC_KEY',
      `The product public key is RSA-${bits}; ${MIN_RSA_BITS} to ${MAX_RSA_BITS} bits are required. ` +
        'Use the public key AWS Marketplace issued for your product (the ones seen in production are 3072-bit).',
    );
  }
  vettedKeys.add(key);
  return key;
}

function isDocPlaceholder(key: KeyObject): boolean {
  const rsaPublicKey = key.export({ type: 'spki', format: 'der' }).subarray(-PLACEHOLDER_RSA_PUBLIC_KEY.bytes);
  return (
    publicKeyFingerprint(key) === AWS_DOC_PLACEHOLDER_KEY_SHA256 ||
    createHash('sha256').update(rsaPublicKey).digest('hex') === PLACEHOLDER_RSA_PUBLIC_KEY.sha256
  );
}

/** The first words of the placeholder file k8s/base/public-key.pem, which a seller replaces with the product's key. */
const SHIPPED_PLACEHOLDER = 'REPLACE this whole file with the PEM public key';

/**
 * Exactly one PEM block, a public key, and nothing else but whitespace: with several, which one a parser uses
 * is an accident (OpenSSL takes the first, so a prepended key would win).
 */
function checkSinglePublicKeyPem(text: string): void {
  if (text.includes(SHIPPED_PLACEHOLDER)) {
    throw new ConfigurationError(
      'INVALID_PUBLIC_KEY',
      'The product public key is still the placeholder shipped in k8s/base/public-key.pem, not a key. Replace the ' +
        "file's whole content with the public key AWS Marketplace issued for your product (AWS Marketplace " +
        'Management Portal, your container product; docs/first-deploy.md), and set its version.',
    );
  }
  const labels = [...text.matchAll(/-----BEGIN ([A-Z0-9 ]+)-----/g)].map((match) => match[1]!);
  if (labels.some((label) => label.includes('PRIVATE KEY'))) {
    throw new ConfigurationError(
      'INVALID_PUBLIC_KEY',
      'A private key was given where the product public key belongs. Pass the PUBLIC key AWS Marketplace issued ' +
        '(-----BEGIN PUBLIC KEY-----), and keep private keys out of configuration.',
    );
  }
  if (labels.some((label) => label.includes('CERTIFICATE'))) {
    throw new ConfigurationError(
      'INVALID_PUBLIC_KEY',
      'A certificate was given where the product public key belongs. AWS Marketplace issues a bare RSA public key ' +
        '(-----BEGIN PUBLIC KEY-----), not a certificate: pass that key from the Management Portal.',
    );
  }
  const block = /^\s*-----BEGIN (RSA )?PUBLIC KEY-----[A-Za-z0-9+/=\s]*-----END \1PUBLIC KEY-----\s*$/;
  if (labels.length !== 1 || !block.test(text)) {
    throw new ConfigurationError(
      'INVALID_PUBLIC_KEY',
      'The product public key must be exactly one PEM block "-----BEGIN PUBLIC KEY-----" with nothing else around ' +
        `it; found ${labels.length === 0 ? 'none' : labels.map((label) => `"${label}"`).join(', ')}` +
        `${labels.length === 1 ? ' with other text' : ''}. Keep only the key AWS Marketplace issued for this product.`,
    );
  }
}

/** Keys that passed the checks: verifying many files or tokens under one key pays for the checks once. */
const vettedKeys = new WeakSet<KeyObject>();

function parsePublicKey(input: PublicKeyInput): KeyObject {
  if (input instanceof KeyObject) {
    if (input.type !== 'public') {
      throw new ConfigurationError(
        'INVALID_PUBLIC_KEY',
        `The product public key must be a public KeyObject, got a ${input.type} key. Pass only AWS's public key.`,
      );
    }
    return input;
  }
  if (typeof input !== 'string' && !Buffer.isBuffer(input)) {
    throw new ConfigurationError(
      'INVALID_PUBLIC_KEY',
      'The product public key must be PEM text, DER bytes or a KeyObject, ' +
        `got ${Object.prototype.toString.call(input)}.`,
    );
  }
  const text = typeof input === 'string' ? input : input.includes('-----BEGIN') ? input.toString('utf8') : undefined;
  if (text !== undefined) checkSinglePublicKeyPem(text);
  try {
    return text !== undefined
      ? createPublicKey({ key: text.trim(), format: 'pem' })
      : createPublicKey({ key: input as Buffer, format: 'der', type: 'spki' });
  } catch (err) {
    throw new ConfigurationError(
      'INVALID_PUBLIC_KEY',
      'The product public key could not be parsed: expected a PEM block "-----BEGIN PUBLIC KEY-----" (SPKI) ' +
        `or "-----BEGIN RSA PUBLIC KEY-----" (${(err as Error).message}).`,
      { cause: err },
    );
  }
}
