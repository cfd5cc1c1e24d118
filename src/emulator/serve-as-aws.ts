/**
 * What the `emulator` command needs to answer as AWS does in production: a CA made for this run, a server
 * certificate for the Region's AWS host names, the CA (`ca.pem`) and a hosts-file snippet (`hosts`) written where
 * the operator asked, so clients resolve those names to the emulator and trust it; and the ECS agent stand-ins'
 * address. The validation lives here, the command only passes flags through.
 *
 * @example
 * const asAws = await prepareServingAsAws({ region: 'us-east-1', address: '127.0.0.1', tlsDir: '/tmp/as-aws' });
 * const emulator = await startMeteringEmulator({ host: '127.0.0.1', port: AWS_HTTPS_PORT, tls: asAws.tls });
 * // /tmp/as-aws/ca.pem: trust it (bake --tls-roots); /tmp/as-aws/hosts: add it to /etc/hosts, --add-host, hostAliases
 */
import { join } from 'node:path';
import { isIP } from 'node:net';
import { writeFileAtomic } from '../common/atomic-write.js';
import { ConfigurationError } from '../common/errors.js';
import { awsHostNames, type AwsHostNames } from './aws-host-names.js';
import { createTestCertificateAuthority } from './certificates.js';

/** The port AWS serves HTTPS on: the default when serving under AWS's host names. */
export const AWS_HTTPS_PORT = 443;

/** The emulator's TLS settings and the files written for clients. */
export interface ServingAsAws {
  hostNames: AwsHostNames;
  /** For `startMeteringEmulator({ tls })`. */
  tls: { key: string; cert: string };
  /** The run CA (PEM) clients must trust: `<tlsDir>/ca.pem`. */
  caFile: string;
  /** Hosts-file lines mapping each name to the emulator's address: `<tlsDir>/hosts`. */
  hostsFile: string;
}

/**
 * Makes the run CA and the server certificate for `region`'s AWS host names, and writes `ca.pem` and `hosts`
 * (each name to `address`) into `tlsDir` (created if missing). Throws {@link ConfigurationError}
 * `INVALID_REGION` for something that is not a Region, `INVALID_ADDRESS` for an `address` that is not an IP address.
 * The CA's private key is never written: only this process can issue under it.
 */
export async function prepareServingAsAws(options: {
  region: string;
  address: string;
  tlsDir: string;
}): Promise<ServingAsAws> {
  let hostNames: AwsHostNames;
  try {
    hostNames = awsHostNames(options.region);
  } catch (err) {
    throw new ConfigurationError('INVALID_REGION', `--region: ${(err as Error).message}`);
  }
  if (isIP(options.address) === 0) {
    throw new ConfigurationError(
      'INVALID_ADDRESS',
      `--host ${JSON.stringify(options.address)} is not an IP address: the hosts file maps AWS's names to it, so ` +
        "give the address clients reach the emulator at (e.g. 127.0.0.1, or the host's address for containers).",
    );
  }
  const ca = createTestCertificateAuthority();
  const server = ca.issueServerCertificate({ dnsNames: hostNames.all });
  const caFile = join(options.tlsDir, 'ca.pem');
  const hostsFile = join(options.tlsDir, 'hosts');
  await writeFileAtomic(caFile, ca.certificatePem);
  await writeFileAtomic(hostsFile, hostNames.all.map((name) => `${options.address} ${name}\n`).join(''));
  return { hostNames, tls: { key: server.privateKeyPem, cert: server.certificatePem }, caFile, hostsFile };
}

/**
 * `ADDRESS:PORT` (e.g. `169.254.170.2:80`, `[::1]:8080`) where the ECS agent stand-ins listen. Throws
 * {@link ConfigurationError} `INVALID_ECS_ENDPOINT` for anything else.
 */
export function parseEcsEndpoint(value: string): { host: string; port: number } {
  const match = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(value);
  const host = match?.[1] ?? match?.[2] ?? '';
  const port = Number(match?.[3]);
  if (!match || isIP(host) === 0 || port > 65_535) {
    throw new ConfigurationError(
      'INVALID_ECS_ENDPOINT',
      `--ecs-endpoint ${JSON.stringify(value)} is not ADDRESS:PORT with an IP address, e.g. 169.254.170.2:80 (where ` +
        'ECS tasks reach the agent) or 127.0.0.1:0.',
    );
  }
  return { host, port };
}
