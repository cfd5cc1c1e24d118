/**
 * The TLS trust of our AWS clients (src/aws/tls-roots.ts): Amazon's five roots found by fingerprint in Node's
 * bundled store, a PEM bundle checked before any call, and what a failed handshake ends in. A certificate that does
 * not verify (unknown issuer, another host's name) is final at the first attempt, exit 76; a connection reset during
 * the handshake is an ordinary network failure, retried until the deadline. The environment cases (NODE_EXTRA_CA_CERTS,
 * verification switched off, AWS's host names) are in test/trust/shipped-configuration.test.ts.
 */
import { createHash, X509Certificate } from 'node:crypto';
import { createServer as createTcpServer, type Server as TcpServer } from 'node:net';
import { rootCertificates } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigurationError, ensureEntitled, ServiceUnavailableError, UntrustedServerError } from '../../src/index.js';
import { amazonRootCertificates } from '../../src/aws/index.js';
import { startMeteringEmulator, type MeteringEmulator } from '../../src/emulator/index.js';
import { checkTlsRoots } from '../../src/aws/tls-roots.js';
import { createTestCertificateAuthority } from '../../src/emulator/certificates.js';
import { emulatorOptions, rejectionOf, testSigningKey } from '../support/index.js';

const ca = createTestCertificateAuthority();
const otherCa = createTestCertificateAuthority('another test CA');
const fingerprint = (pem: string) => createHash('sha256').update(new X509Certificate(pem).raw).digest('hex');

describe("Amazon's roots", () => {
  it("are the five Amazon Trust Services roots, found by SHA-256 fingerprint in Node's bundled store", () => {
    const roots = amazonRootCertificates();
    expect(
      roots.map((pem) => new X509Certificate(pem).subject.split('\n').find((part) => part.startsWith('CN='))).sort(),
    ).toEqual([
      'CN=Amazon Root CA 1',
      'CN=Amazon Root CA 2',
      'CN=Amazon Root CA 3',
      'CN=Amazon Root CA 4',
      'CN=Starfield Services Root Certificate Authority - G2',
    ]);
    expect(roots.map(fingerprint)).toContain('8ecde6884f3d87b1125ba31ac3fcb13d7016de7f57cc904fe1cb97c6ae98196e');
    expect(roots.every((pem) => rootCertificates.includes(pem))).toBe(true);
  });
});

describe('tlsRoots, checked before any call', () => {
  it.each([
    ['a number', 42, /must be a string/],
    ['an empty string', '', /no "-----BEGIN CERTIFICATE-----" block/],
    ['a file name rather than its content', '/etc/ssl/certs/ca.pem', /no "-----BEGIN CERTIFICATE-----" block/],
    [
      'a bundle with a private key in it',
      () => `${ca.certificatePem}${ca.issueServerCertificate({ dnsNames: ['x.example'] }).privateKeyPem}`,
      /text other than CERTIFICATE blocks/,
    ],
    [
      'a truncated certificate',
      () =>
        ca.certificatePem
          .split('\n')
          .filter((_line, i) => i !== 2)
          .join('\n'),
      /certificate 1 cannot be parsed/,
    ],
  ])('refuses %s: INVALID_TLS_ROOTS, exit 78', (_label, value, message) => {
    const given = typeof value === 'function' ? value() : value;
    const err = (() => {
      try {
        checkTlsRoots(given);
      } catch (thrown) {
        return thrown;
      }
      return undefined;
    })();
    expect(err).toBeInstanceOf(ConfigurationError);
    expect(err).toMatchObject({ code: 'INVALID_TLS_ROOTS', exitCode: 78, message: expect.stringMatching(message) });
  });

  it("takes 'aws', 'system' and a bundle of several certificates; undefined is 'aws'", () => {
    expect(checkTlsRoots(undefined)).toBe('aws');
    expect(checkTlsRoots('system')).toBe('system');
    const bundle = `${ca.certificatePem}\n${otherCa.certificatePem}`;
    expect(checkTlsRoots(bundle)).toBe(bundle);
  });
});

describe('a handshake with a server that is not trusted', () => {
  let emulator: MeteringEmulator;
  let reset: TcpServer;
  beforeAll(async () => {
    const server = ca.issueServerCertificate({ dnsNames: ['metering.example.test'], ipAddresses: ['127.0.0.1'] });
    emulator = await startMeteringEmulator({
      privateKey: await testSigningKey(),
      tls: { key: server.privateKeyPem, cert: server.certificatePem },
    });
    // Accepts the connection, then drops it mid-handshake: the network, not the certificate.
    reset = createTcpServer((socket) => socket.once('data', () => socket.destroy()));
    await new Promise<void>((resolve) => reset.listen(0, '127.0.0.1', resolve));
  });
  afterAll(async () => {
    await emulator?.close();
    await new Promise((resolve) => reset?.close(resolve));
  });

  it('reaches the emulator when its CA is the one trusted (the control)', async () => {
    const entitlement = await ensureEntitled(emulatorOptions(emulator, { tlsRoots: ca.certificatePem }));
    expect(entitlement.attempts).toBe(1);
  });

  it.each([
    ["Amazon's roots (the default)", undefined, 'UNABLE_TO_VERIFY_LEAF_SIGNATURE'],
    ['another CA', () => otherCa.certificatePem, 'UNABLE_TO_VERIFY_LEAF_SIGNATURE'],
  ])('with %s: TLS_UNTRUSTED at the first attempt, exit 76, no request answered', async (_label, roots, reason) => {
    const before = emulator.calls.length;
    const err = await rejectionOf(
      ensureEntitled(emulatorOptions(emulator, { ...(roots && { tlsRoots: roots() }) })),
      UntrustedServerError,
    );
    expect(err).toMatchObject({ code: 'TLS_UNTRUSTED', exitCode: 76, reason });
    expect(err.message).toMatch(/not trusted as AWS .*proxy.*tlsRoots/s);
    expect(emulator.calls.length).toBe(before);
  });

  it('a certificate for another host name, from the trusted CA: ERR_TLS_CERT_ALTNAME_INVALID, exit 76', async () => {
    const url = new URL(emulator.url);
    const err = await rejectionOf(
      ensureEntitled(
        emulatorOptions(emulator, { endpoint: `https://localhost:${url.port}`, tlsRoots: ca.certificatePem }),
      ),
      UntrustedServerError,
    );
    expect(err.reason).toBe('ERR_TLS_CERT_ALTNAME_INVALID');
  });

  it('a connection reset during the handshake is retried until the deadline, not taken for an untrusted server', async () => {
    const { port } = reset.address() as { port: number };
    const err = await rejectionOf(
      ensureEntitled(emulatorOptions(emulator, { endpoint: `https://127.0.0.1:${port}`, deadlineMs: 300 })),
      ServiceUnavailableError,
    );
    expect(err.code).toBe('DEADLINE_EXCEEDED');
    expect(err.attempts).toBeGreaterThan(1);
  });
});
