/**
 * The run's own CA, made with node:crypto only: certificates Node parses as X.509 v3 with the extensions a CA and
 * a TLS server need, and a real node:https server with an issued certificate that a client trusting the CA
 * reaches, while a client trusting another CA, or asking for a name not in the certificate, is refused.
 */
import { X509Certificate, createPublicKey } from 'node:crypto';
import { createServer, request, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestCertificateAuthority } from '../../src/emulator/certificates.js';

const NAMES = ['metering.marketplace.us-east-1.amazonaws.com', 'license-manager.us-east-1.amazonaws.com'];

const ca = createTestCertificateAuthority();
const issued = ca.issueServerCertificate({ dnsNames: NAMES, ipAddresses: ['127.0.0.1', '::1'] });
const caCertificate = new X509Certificate(ca.certificatePem);
const serverCertificate = new X509Certificate(issued.certificatePem);

const BASIC_CONSTRAINTS = '0603551d13'; // OID 2.5.29.19, DER
const KEY_USAGE = '0603551d0f'; // OID 2.5.29.15, DER

/** The DER after an extension's OID (critical flag, then the OCTET STRING value), as hex; Node exposes neither. */
function afterOid(certificate: X509Certificate, oidDer: string): string {
  const der = certificate.raw.toString('hex');
  const at = der.indexOf(oidDer);
  return at < 0 ? '' : der.slice(at + oidDer.length, at + oidDer.length + 26);
}

describe('the test CA and its server certificates, as Node parses them', () => {
  it('the CA is a self-signed CA certificate on ECDSA P-256', () => {
    expect(caCertificate.ca).toBe(true);
    expect(caCertificate.subject).toBe('CN=marketplace-entitlement test CA');
    expect(caCertificate.issuer).toBe(caCertificate.subject);
    expect(caCertificate.checkIssued(caCertificate)).toBe(true);
    expect(caCertificate.verify(caCertificate.publicKey)).toBe(true);
    expect(caCertificate.publicKey.asymmetricKeyDetails).toEqual({ namedCurve: 'prime256v1' });
    // critical (01 01 ff); basicConstraints SEQUENCE { cA TRUE, pathLen 0 }; keyUsage keyCertSign + cRLSign (bits 5, 6)
    expect(afterOid(caCertificate, BASIC_CONSTRAINTS)).toBe('0101ff040830060101ff020100');
    expect(afterOid(caCertificate, KEY_USAGE)).toMatch(/^0101ff040403020106/);
  });

  it('the server certificate names its DNS names and addresses, is not a CA, is for serverAuth, and chains to the CA', () => {
    expect(serverCertificate.ca).toBe(false);
    // critical; basicConstraints an empty SEQUENCE (cA FALSE); keyUsage digitalSignature (bit 0)
    expect(afterOid(serverCertificate, BASIC_CONSTRAINTS)).toMatch(/^0101ff04023000/);
    expect(afterOid(serverCertificate, KEY_USAGE)).toMatch(/^0101ff040403020780/);
    expect(serverCertificate.subjectAltName).toBe(
      `DNS:${NAMES[0]}, DNS:${NAMES[1]}, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1`,
    );
    expect(serverCertificate.subject).toBe(`CN=${NAMES[0]}`);
    expect(serverCertificate.keyUsage).toEqual(['1.3.6.1.5.5.7.3.1']); // Node's keyUsage lists the extended key usage
    expect(serverCertificate.checkIssued(caCertificate)).toBe(true);
    expect(serverCertificate.verify(caCertificate.publicKey)).toBe(true);
    expect(
      serverCertificate.verify(new X509Certificate(createTestCertificateAuthority().certificatePem).publicKey),
    ).toBe(false);
    expect(serverCertificate.checkHost(NAMES[1]!)).toBe(NAMES[1]);
    expect(serverCertificate.checkHost('sts.us-east-1.amazonaws.com')).toBeUndefined();
    expect(serverCertificate.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(createPublicKey(issued.privateKeyPem).export({ format: 'jwk' })).toEqual(
      serverCertificate.publicKey.export({ format: 'jwk' }),
    );
  });

  it('valid from an hour ago for seven days, with a fresh positive serial each time', () => {
    const hour = 60 * 60 * 1000;
    const from = Date.parse(serverCertificate.validFrom);
    const to = Date.parse(serverCertificate.validTo);
    expect(Math.abs(Date.now() - hour - from)).toBeLessThan(5 * 60 * 1000);
    expect(to - from).toBe(7 * 24 * hour + hour);
    const again = new X509Certificate(ca.issueServerCertificate({ dnsNames: NAMES }).certificatePem);
    expect(again.serialNumber).not.toBe(serverCertificate.serialNumber);
    for (const serial of [again.serialNumber, serverCertificate.serialNumber, caCertificate.serialNumber]) {
      expect(serial).toMatch(/^[4-7][0-9A-F]{31}$/); // 16 bytes, top bit clear: positive and DER-minimal
    }
  });

  it('refuses to issue for no names, a name that is not a DNS name, or something that is not an address', () => {
    expect(() => ca.issueServerCertificate({})).toThrow(/at least one DNS name or IP address/);
    expect(() => ca.issueServerCertificate({ dnsNames: ['metering marketplace'] })).toThrow(
      /"metering marketplace" is not a DNS name/,
    );
    expect(() => ca.issueServerCertificate({ ipAddresses: ['169.254.170'] })).toThrow(
      /"169.254.170" is not an IPv4 address/,
    );
  });
});

describe('a real TLS server with an issued certificate', () => {
  let server: Server;
  let port: number;

  beforeAll(async () => {
    server = createServer({ key: issued.privateKeyPem, cert: issued.certificatePem }, (_req, res) =>
      res.end('hello over TLS'),
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  /** GET / on the server, connecting to 127.0.0.1 but asking for `servername` (SNI and the host name checked). */
  function get(servername: string, caPem: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const req = request(
        { host: '127.0.0.1', port, servername, headers: { host: servername }, ca: [caPem], agent: false },
        (res) => {
          let body = '';
          res.on('data', (chunk: Buffer) => (body += chunk.toString()));
          res.on('end', () => resolve(body));
        },
      );
      req.on('error', reject);
      req.end();
    });
  }

  it('a client trusting the run CA reaches it under each name', async () => {
    await expect(get(NAMES[0]!, ca.certificatePem)).resolves.toBe('hello over TLS');
    await expect(get(NAMES[1]!, ca.certificatePem)).resolves.toBe('hello over TLS');
  });

  it('a client trusting another CA is refused', async () => {
    await expect(get(NAMES[0]!, createTestCertificateAuthority().certificatePem)).rejects.toMatchObject({
      code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
    });
  });

  it('a name the certificate does not carry is refused, even with the right CA', async () => {
    await expect(get('sts.us-east-1.amazonaws.com', ca.certificatePem)).rejects.toMatchObject({
      code: 'ERR_TLS_CERT_ALTNAME_INVALID',
    });
  });
});
