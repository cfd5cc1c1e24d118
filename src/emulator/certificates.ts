/**
 * A certificate authority made for one test run, and server certificates it issues, with nothing but
 * `node:crypto`: a fresh machine has Node and npm, not openssl. The emulator serves HTTPS under AWS's own host
 * names with such a certificate, and only a client told to trust this run's CA accepts it.
 *
 * The certificates are minimal, correct X.509 v3 (RFC 5280), written as DER by hand: ECDSA P-256 keys signed with
 * ecdsa-with-SHA256, a random positive 128-bit serial, valid from an hour ago (clock skew) for seven days.
 * The CA: basicConstraints CA:TRUE with pathLen 0 (it issues server certificates only), keyUsage keyCertSign and
 * cRLSign, both critical. A server certificate: basicConstraints CA:FALSE, keyUsage digitalSignature (both
 * critical), extendedKeyUsage serverAuth, subjectAltName with the DNS names and IP addresses it answers for.
 *
 * @example
 * const ca = createTestCertificateAuthority();
 * const server = ca.issueServerCertificate({ dnsNames: awsHostNames('us-east-1').all });
 * const emulator = await startMeteringEmulator({ tls: { key: server.privateKeyPem, cert: server.certificatePem } });
 * // a client trusts it with `ca: [ca.certificatePem]`
 */
import { createHash, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import { isIPv4, isIPv6 } from 'node:net';

/** A CA made for this run: its certificate (PEM) to trust, and a way to issue server certificates under it. */
export interface TestCertificateAuthority {
  /** The CA certificate (PEM): what a client is told to trust (`ca`, `bake --tls-roots`). */
  certificatePem: string;
  /** Issues a certificate for a TLS server answering for these names; at least one name is required. */
  issueServerCertificate(names: ServerNames): ServerCertificate;
}

/** The names a server certificate is valid for (its subjectAltName). */
export interface ServerNames {
  /** DNS names, e.g. `metering.marketplace.us-east-1.amazonaws.com`. */
  dnsNames?: readonly string[];
  /** IPv4 or IPv6 addresses, e.g. `127.0.0.1`. */
  ipAddresses?: readonly string[];
}

/** A server certificate and its private key, as `https.createServer({ key, cert })` takes them. */
export interface ServerCertificate {
  /** The server certificate (PEM). */
  certificatePem: string;
  /** Its private key (PKCS#8 PEM). Never leaves the test run. */
  privateKeyPem: string;
}

/** How long certificates are valid: from an hour ago (a client clock slightly behind) for seven days. */
const VALID_BEFORE_NOW_MS = 60 * 60 * 1000;
const VALID_AFTER_NOW_MS = 7 * 24 * 60 * 60 * 1000;

const OID = {
  ecPublicKey: '1.2.840.10045.2.1',
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
  commonName: '2.5.4.3',
  basicConstraints: '2.5.29.19',
  keyUsage: '2.5.29.15',
  extendedKeyUsage: '2.5.29.37',
  subjectAltName: '2.5.29.17',
  subjectKeyIdentifier: '2.5.29.14',
  authorityKeyIdentifier: '2.5.29.35',
  serverAuth: '1.3.6.1.5.5.7.3.1',
} as const;

/** keyUsage bits (RFC 5280 4.2.1.3), numbered from the most significant bit of the first byte. */
const KEY_USAGE = { digitalSignature: 0, keyCertSign: 5, cRLSign: 6 } as const;

/**
 * Makes a fresh CA (ECDSA P-256) for this run. Its private key stays in memory: only certificates issued through
 * the returned object chain to it.
 */
export function createTestCertificateAuthority(
  commonName = 'marketplace-entitlement test CA',
): TestCertificateAuthority {
  const ca = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const caKeyId = keyIdentifier(ca.publicKey);
  const caName = name(commonName);
  const certificatePem = pem(
    signedCertificate(ca.privateKey, {
      issuer: caName,
      subject: caName,
      subjectPublicKey: ca.publicKey,
      extensions: [
        extension(OID.basicConstraints, true, sequence(boolean(true), integer(Buffer.from([0])))),
        extension(OID.keyUsage, true, keyUsage([KEY_USAGE.keyCertSign, KEY_USAGE.cRLSign])),
        extension(OID.subjectKeyIdentifier, false, octetString(caKeyId)),
      ],
    }),
  );
  return {
    certificatePem,
    issueServerCertificate({ dnsNames = [], ipAddresses = [] }) {
      if (dnsNames.length === 0 && ipAddresses.length === 0)
        throw new Error('A server certificate needs at least one DNS name or IP address.');
      const badName = dnsNames.find(
        (dnsName) =>
          !/^(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/i.test(dnsName),
      );
      if (badName !== undefined)
        throw new Error(`${JSON.stringify(badName)} is not a DNS name (letters, digits, hyphens and dots).`);
      const badAddress = ipAddresses.find(
        (address) => !isIPv4(address) && !(isIPv6(address) && !address.includes('.')),
      );
      if (badAddress !== undefined)
        throw new Error(
          `${JSON.stringify(badAddress)} is not an IPv4 address or an IPv6 address in hexadecimal groups.`,
        );
      const leaf = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
      const subjectAltName = sequence(
        ...dnsNames.map((dnsName) => tagged(0x82, Buffer.from(dnsName, 'ascii'))),
        ...ipAddresses.map((address) => tagged(0x87, ipBytes(address))),
      );
      const cert = signedCertificate(ca.privateKey, {
        issuer: caName,
        subject: name(dnsNames[0] ?? ipAddresses[0]!),
        subjectPublicKey: leaf.publicKey,
        extensions: [
          extension(OID.basicConstraints, true, sequence()),
          extension(OID.keyUsage, true, keyUsage([KEY_USAGE.digitalSignature])),
          extension(OID.extendedKeyUsage, false, sequence(objectIdentifier(OID.serverAuth))),
          extension(OID.subjectAltName, false, subjectAltName),
          extension(OID.subjectKeyIdentifier, false, octetString(keyIdentifier(leaf.publicKey))),
          extension(OID.authorityKeyIdentifier, false, sequence(tagged(0x80, caKeyId))),
        ],
      });
      return {
        certificatePem: pem(cert),
        privateKeyPem: leaf.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      };
    },
  };
}

interface CertificateFields {
  issuer: Buffer;
  subject: Buffer;
  subjectPublicKey: KeyObject;
  extensions: Buffer[];
}

/** Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm, signatureValue } (RFC 5280 4.1). */
function signedCertificate(issuerKey: KeyObject, fields: CertificateFields): Buffer {
  const now = Date.now();
  const algorithm = sequence(objectIdentifier(OID.ecdsaWithSha256)); // parameters absent (RFC 5758 3.2)
  const tbs = sequence(
    tagged(0xa0, integer(Buffer.from([2]))), // version v3
    integer(serialNumber()),
    algorithm,
    fields.issuer,
    sequence(time(new Date(now - VALID_BEFORE_NOW_MS)), time(new Date(now + VALID_AFTER_NOW_MS))),
    fields.subject,
    fields.subjectPublicKey.export({ type: 'spki', format: 'der' }),
    tagged(0xa3, sequence(...fields.extensions)),
  );
  // Node signs EC keys as a DER ECDSA-Sig-Value, which is what X.509 carries.
  return sequence(tbs, algorithm, bitString(sign('sha256', tbs, { key: issuerKey, dsaEncoding: 'der' })));
}

/** 16 random bytes, top bit clear (positive) and second-highest set (no leading zero byte needed): DER-minimal. */
function serialNumber(): Buffer {
  const serial = randomBytes(16);
  serial[0] = (serial[0]! & 0x7f) | 0x40;
  return serial;
}

/** SHA-1 of the subjectPublicKey bits (RFC 5280 4.2.1.2, method 1): the uncompressed EC point. */
function keyIdentifier(publicKey: KeyObject): Buffer {
  const { x, y } = publicKey.export({ format: 'jwk' });
  return createHash('sha1')
    .update(Buffer.concat([Buffer.from([4]), Buffer.from(x!, 'base64url'), Buffer.from(y!, 'base64url')]))
    .digest();
}

/** Name with a single commonName (UTF8String). */
function name(commonName: string): Buffer {
  return sequence(set(sequence(objectIdentifier(OID.commonName), tagged(0x0c, Buffer.from(commonName, 'utf8')))));
}

function extension(oid: string, critical: boolean, value: Buffer): Buffer {
  return sequence(objectIdentifier(oid), ...(critical ? [boolean(true)] : []), octetString(value));
}

/** A named-bit BIT STRING: trailing zero bits dropped, as DER requires. */
function keyUsage(bits: number[]): Buffer {
  let value = 0;
  for (const bit of bits) value |= 0x80 >> bit;
  const unused = Math.min(...bits.map((bit) => 7 - bit));
  return tagged(0x03, Buffer.from([unused, value]));
}

/** UTCTime through 2049, GeneralizedTime from 2050 (RFC 5280 4.1.2.5), to the second, in UTC. */
function time(at: Date): Buffer {
  const iso = at.toISOString().replace(/[-:T]/g, '').slice(0, 14); // YYYYMMDDHHMMSS
  return at.getUTCFullYear() < 2050
    ? tagged(0x17, Buffer.from(`${iso.slice(2)}Z`))
    : tagged(0x18, Buffer.from(`${iso}Z`));
}

function ipBytes(address: string): Buffer {
  if (isIPv4(address)) return Buffer.from(address.split('.').map(Number));
  const [head = '', tail = ''] = address.split('::');
  const groups = (part: string) => (part === '' ? [] : part.split(':'));
  const missing = 8 - groups(head).length - groups(tail).length;
  const all = address.includes('::')
    ? [...groups(head), ...Array<string>(missing).fill('0'), ...groups(tail)]
    : groups(head);
  return Buffer.concat(all.map((group) => Buffer.from(group.padStart(4, '0'), 'hex')));
}

function pem(der: Buffer): string {
  return (
    `-----BEGIN CERTIFICATE-----\n${der.toString('base64').replace(/.{64}/g, '$&\n').replace(/\n?$/, '\n')}` +
    '-----END CERTIFICATE-----\n'
  );
}

// DER encoding (X.690), only the types a certificate needs.

function tagged(tag: number, content: Buffer): Buffer {
  const length = content.length;
  const lengthBytes =
    length < 0x80
      ? Buffer.from([length])
      : length < 0x100
        ? Buffer.from([0x81, length])
        : Buffer.from([0x82, length >> 8, length & 0xff]);
  return Buffer.concat([Buffer.from([tag]), lengthBytes, content]);
}

function sequence(...items: Buffer[]): Buffer {
  return tagged(0x30, Buffer.concat(items));
}

function set(...items: Buffer[]): Buffer {
  return tagged(0x31, Buffer.concat(items));
}

/** A non-negative INTEGER from big-endian bytes the caller made minimal and positive. */
function integer(bytes: Buffer): Buffer {
  return tagged(0x02, bytes);
}

function boolean(value: boolean): Buffer {
  return tagged(0x01, Buffer.from([value ? 0xff : 0]));
}

function octetString(bytes: Buffer): Buffer {
  return tagged(0x04, bytes);
}

function bitString(bytes: Buffer): Buffer {
  return tagged(0x03, Buffer.concat([Buffer.from([0]), bytes]));
}

function objectIdentifier(oid: string): Buffer {
  const [first = 0, second = 0, ...rest] = oid.split('.').map(Number);
  const bytes = [first * 40 + second];
  for (const arc of rest) {
    const base128 = [arc & 0x7f];
    for (let value = arc >> 7; value > 0; value >>= 7) base128.unshift((value & 0x7f) | 0x80);
    bytes.push(...base128);
  }
  return tagged(0x06, Buffer.from(bytes));
}
