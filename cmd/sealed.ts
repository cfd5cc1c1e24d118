/**
 * The sealed image: `bake` writes `baked-config.json` beside the CLI's entry file at image build; a CLI that
 * finds it there runs sealed. Sealed, the product code, key and key version come only from that file, and the
 * manifest can neither point the CLI at another endpoint, nor load code into it, nor mount other code over it.
 *
 * Start-up cost: one small synchronous read (and /proc/self/mountinfo when sealed); no heavy import.
 *
 * @example
 * const sealed = openSealedImage(fileURLToPath(import.meta.url), process.env); // undefined when not baked
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ConfigurationError } from '../src/common/errors.js';
import { refuseCodeInjection, refuseMountedCode } from '../src/hardening/integrity.js';
import { envName } from './args.js';
import { BAKED_CONFIG_FILE, bakedTlsRoots, parseBakedConfig, type SealedImage } from './baked-config.js';
import type { AnyCommand } from './spec.js';

/** Commands a sealed image will not run: a local AWS stand-in, and re-sealing. */
const UNSEALED_ONLY = new Set(['emulator', 'demo', 'bake']);
/** Variables meant to move our AWS endpoints; our clients ignore the AWS_ ones, and a sealed image says so. */
const ENDPOINT_VARIABLES = [
  'MARKETPLACE_ENDPOINT',
  'AWS_ENDPOINT_URL',
  'AWS_ENDPOINT_URL_MARKETPLACE_METERING',
  'AWS_ENDPOINT_URL_LICENSE_MANAGER',
];

const sealedError = (message: string) =>
  new ConfigurationError('IMAGE_SEALED', `This image is sealed (${BAKED_CONFIG_FILE}): ${message}`);

/**
 * Reads `baked-config.json` beside `entryFile`; undefined when there is none. When there is one, refuses
 * (exit 78) code injection (`CODE_INJECTION`) and mounts over the bundle or the file (`IMAGE_TAMPERED`).
 */
export function openSealedImage(entryFile: string, env: NodeJS.ProcessEnv): SealedImage | undefined {
  const dir = dirname(entryFile);
  const configFile = join(dir, BAKED_CONFIG_FILE);
  let text: string;
  try {
    text = readFileSync(configFile, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new ConfigurationError(
      'IMAGE_TAMPERED',
      `${configFile} exists but cannot be read (${(err as Error).message}): the image is damaged.`,
    );
  }
  const context = `This image is sealed (${BAKED_CONFIG_FILE}). `;
  refuseCodeInjection(env, process.execArgv, [], context);
  refuseMountedCode({ files: [entryFile, configFile], trees: [dir] }, context);
  return { config: parseBakedConfig(text, configFile), configFile };
}

/**
 * The command line and environment a sealed image runs `spec` with: the baked product code, key and version in
 * place of the manifest's. A different value anywhere, an endpoint, or a command that needs an unsealed image is
 * refused (`IMAGE_SEALED`, exit 78); an equal value is accepted.
 */
export async function sealInput(
  spec: AnyCommand,
  raw: Record<string, unknown>,
  env: NodeJS.ProcessEnv,
  sealed: SealedImage,
): Promise<{ raw: Record<string, unknown>; env: NodeJS.ProcessEnv }> {
  const { config } = sealed;
  if (UNSEALED_ONLY.has(spec.name)) throw sealedError(`\`${spec.name}\` only runs from an unsealed copy of the CLI.`);
  // As given, before any parsing: a value given twice is compared as one text (and so refused), never skipped.
  const given = (name: string): string | undefined => {
    const value = raw[name] ?? env[envName(name)];
    return value === undefined || value === '' ? undefined : String(value);
  };
  const endpoint =
    given('endpoint') !== undefined
      ? '--endpoint / MARKETPLACE_ENDPOINT'
      : ENDPOINT_VARIABLES.find((name) => env[name]);
  if (endpoint) throw sealedError(`${endpoint} would send calls elsewhere than AWS; remove it.`);
  const productCode = given('product-code');
  if (productCode !== undefined && productCode !== config.productCode) {
    throw sealedError(
      `product code ${JSON.stringify(productCode)} differs from the ` +
        `baked ${JSON.stringify(config.productCode)}; remove it.`,
    );
  }
  const version = given('public-key-version');
  if (version !== undefined && Number(version) !== config.publicKeyVersion) {
    throw sealedError(`public key version ${version} differs from the baked ${config.publicKeyVersion}; remove it.`);
  }
  await refuseOtherKey(given('public-key'), given('public-key-file'), config.publicKey);
  await refuseOtherTlsRoots(given('tls-roots'), bakedTlsRoots(config));

  const sealedRaw: Record<string, unknown> = { ...raw };
  const sealedEnv: NodeJS.ProcessEnv = { ...env };
  for (const name of ['product-code', 'public-key', 'public-key-file', 'public-key-version', 'tls-roots']) {
    delete sealedRaw[name];
    delete sealedEnv[envName(name)];
  }
  const baked: Record<string, unknown> = {
    'product-code': config.productCode,
    'public-key': config.publicKey,
    'public-key-version': String(config.publicKeyVersion),
  };
  for (const [name, value] of Object.entries(baked)) if (name in spec.options) sealedRaw[name] = value;
  return { raw: sealedRaw, env: sealedEnv };
}

/** A key given to a sealed image must be the baked one (compared by SPKI bytes). */
async function refuseOtherKey(pem: string | undefined, file: string | undefined, bakedPem: string): Promise<void> {
  if (pem === undefined && file === undefined) return;
  const [{ createPublicKey }, { readInputFile }] = await Promise.all([
    import('node:crypto'),
    import('../src/common/input-file.js'),
  ]);
  const spki = (text: string) => createPublicKey(text).export({ type: 'spki', format: 'der' });
  const baked = spki(bakedPem);
  for (const [what, read] of [
    ['--public-key / MARKETPLACE_PUBLIC_KEY', pem === undefined ? undefined : async () => pem],
    [
      '--public-key-file / MARKETPLACE_PUBLIC_KEY_FILE',
      file === undefined ? undefined : () => readInputFile(file, { code: 'PUBLIC_KEY_FILE', what: 'public key file' }),
    ],
  ] as const) {
    if (!read) continue;
    let same = false;
    try {
      same = spki(await read()).equals(baked);
    } catch {
      same = false;
    }
    if (!same) throw sealedError(`${what} is not the baked product key; remove it.`);
  }
}

/**
 * `--tls-roots` given to a sealed image must name the baked roots: `aws` when none were baked, else a file with
 * the same certificates (compared as DER, in order). Anything else would widen or move the trust the image was
 * sealed with.
 */
async function refuseOtherTlsRoots(given: string | undefined, baked: string): Promise<void> {
  if (given === undefined || given === baked) return;
  const refuse = () =>
    sealedError(
      `--tls-roots / MARKETPLACE_TLS_ROOTS ${JSON.stringify(given)} is not the trust the image was sealed with ` +
        `(${baked === 'aws' ? "Amazon's roots, aws" : 'the baked roots'}); remove it.`,
    );
  if (given === 'aws' || given === 'system' || baked === 'aws') throw refuse();
  const [{ X509Certificate }, { readInputFile }] = await Promise.all([
    import('node:crypto'),
    import('../src/common/input-file.js'),
  ]);
  // Blocks split here, not by src/aws/tls-roots.ts: dist/cli.cjs inlines every import of this module, and the
  // exec probe (`check`) must not load node:tls.
  const certificates = (pem: string) =>
    (pem.match(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g) ?? []).map(
      (block) => new X509Certificate(block).raw,
    );
  let same = false;
  try {
    const [mine, theirs] = [
      certificates(baked),
      certificates(await readInputFile(given, { code: 'TLS_ROOTS_FILE', what: '--tls-roots file' })),
    ];
    same = mine.length === theirs.length && mine.every((der, i) => der.equals(theirs[i]!));
  } catch {
    same = false;
  }
  if (!same) throw refuse();
}
