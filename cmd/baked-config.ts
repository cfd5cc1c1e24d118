/**
 * `baked-config.json`, the sealed image's configuration: `bake` writes it beside the CLI's entry file at image
 * build, and a CLI that finds it there runs sealed (cmd/sealed.ts). Its fields, and their check when it is read.
 *
 * @example
 * const config = parseBakedConfig(readFileSync(file, 'utf8'), file); // ConfigurationError IMAGE_TAMPERED when invalid
 */
import { ConfigurationError } from '../src/common/errors.js';
import { INSTANCE_BINDINGS, type InstanceBinding } from '../src/platform/instance-id.js';
import { isPublicKeyVersion } from '../src/registration/public-key-version.js';

/** The sealed configuration's file name, beside the CLI's entry file. */
export const BAKED_CONFIG_FILE = 'baked-config.json';
/** Bumped when a field changes meaning; new optional fields keep it. */
export const BAKED_CONFIG_VERSION = 1;

/** The content of `baked-config.json`. */
export interface BakedConfig {
  version: number;
  productCode: string;
  /** The vetted product public key, PEM (SPKI). */
  publicKey: string;
  publicKeyVersion: number;
  instanceBinding: InstanceBinding;
  /**
   * The only CAs the sealed CLI trusts for AWS's servers (`bake --tls-roots`), PEM; absent: Amazon's roots. A test
   * CA for a pre-release run, or a partition whose endpoints chain to other roots.
   */
  tlsRoots?: string;
}

/** A sealed CLI: its configuration and where it was found. */
export interface SealedImage {
  config: BakedConfig;
  configFile: string;
}

/** The baked configuration, checked field by field (an unknown version fails closed). */
export function parseBakedConfig(text: string, file: string): BakedConfig {
  const bad = (why: string) =>
    new ConfigurationError(
      'IMAGE_TAMPERED',
      `${file} is not a valid baked configuration: ${why}. Rebuild the image with \`bake\`.`,
    );
  let value: Partial<BakedConfig>;
  try {
    value = JSON.parse(text) as Partial<BakedConfig>;
  } catch {
    throw bad('not JSON');
  }
  if (value?.version !== BAKED_CONFIG_VERSION)
    throw bad(`version ${JSON.stringify(value?.version)} is not ${BAKED_CONFIG_VERSION}`);
  if (typeof value.productCode !== 'string' || value.productCode === '') throw bad('no productCode');
  if (typeof value.publicKey !== 'string' || !value.publicKey.includes('-----BEGIN PUBLIC KEY-----'))
    throw bad('no publicKey PEM');
  if (!isPublicKeyVersion(value.publicKeyVersion)) throw bad('no valid publicKeyVersion');
  if (!INSTANCE_BINDINGS.includes(value.instanceBinding!))
    throw bad(`instanceBinding must be one of ${INSTANCE_BINDINGS.join(', ')}`);
  if (
    value.tlsRoots !== undefined &&
    (typeof value.tlsRoots !== 'string' || !value.tlsRoots.includes('-----BEGIN CERTIFICATE-----'))
  ) {
    throw bad('tlsRoots is not a PEM bundle of certificates');
  }
  return value as BakedConfig;
}

/** The roots a sealed CLI trusts: the baked bundle, else Amazon's (`aws`). */
export function bakedTlsRoots(config: BakedConfig): string {
  return config.tlsRoots ?? 'aws';
}
