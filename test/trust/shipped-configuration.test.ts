/**
 * The configuration sellers ship, run as shipped: a sealed copy of the bundle (the emulator's key baked as the
 * product key, the run CA baked as its only TLS roots) and a Node app holding entitlement in its own process, with
 * no endpoint setting anywhere, in the environment where AWS is reached as in production
 * (test/support/aws-as-production.ts: AWS's host names through /etc/hosts, HTTPS on 443, STS for IRSA, the ECS
 * agent on 169.254.170.2). Every mode (init container, exec probe, sidecar, wrapper, in-process), every pricing
 * model and both platforms reach entitled with the calls the emulator counts, and refuse where it answers not
 * entitled. Then the relay: with the CA only added to the environment (NODE_EXTRA_CA_CERTS, verification switched
 * off, OpenSSL's store), the sealed CLI, the unsealed CLI and the library's default refuse, and no request arrives.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  copyBundle,
  startAwsAsProduction,
  type AwsAsProduction,
  type AwsAsProductionCall,
  type AwsAsProductionCommand,
} from '../support/index.js';
import { sealedBundle, type SealedBundle } from './support.js';
import { createTestCertificateAuthority } from '../../src/emulator/certificates.js';

const NODE = process.execPath;
const APP = fileURLToPath(new URL('../fixtures/shipped/app.mjs', import.meta.url));
const REGION = 'us-east-1';
const PRODUCT_CODE = 'prod-shipped-0123456789';
const PRODUCT_SKU = 'sku-shipped-0001';
const LICENSES = [{ productSku: PRODUCT_SKU, entitlements: [{ name: 'Users', unit: 'Count', maxCount: 5 }] }];
const POD_UID = '6d2e8f10-0000-4000-8000-0000000005e1';
/** The child `run --` starts: its exit code comes back through the wrapper. */
const CHILD = ['--', NODE, '-e', 'process.exit(42)'];
/** What a readiness probe of the sidecar sees: exit 0 only for 200 from /healthz (serve's default port). */
const PROBE_SIDECAR = [
  NODE,
  '-e',
  "fetch('http://127.0.0.1:8080/healthz').then((r) => process.exit(r.status === 200 ? 0 : 1), () => process.exit(2))",
];

let aws: AwsAsProduction;
/** Sealed with the run CA as its only roots: the pre-release image of docs/aws-as-production.md. */
let sealed: SealedBundle;
/** Sealed with Amazon's roots (nothing baked): the image a seller publishes. */
let published: SealedBundle;
let unsealedCli: string;
/** Sealed with a CA that issued nothing here. */
let otherRoots: SealedBundle;
/** An AWS config file naming the run CA as its ca_bundle. */
let caBundleConfig: string;
let platforms: Record<'EKS pod (IRSA)' | 'ECS task', Record<string, string>>;

beforeAll(async () => {
  aws = await startAwsAsProduction({ region: REGION });
  const tokenFile = join(aws.dir, 'irsa-token');
  writeFileSync(tokenFile, 'projected-service-account-token');
  platforms = {
    'EKS pod (IRSA)': {
      AWS_REGION: REGION,
      AWS_ROLE_ARN: 'arn:aws:iam::123456789012:role/product',
      AWS_WEB_IDENTITY_TOKEN_FILE: tokenFile,
      POD_UID,
    },
    'ECS task': aws.ecsEnvironment,
  };
  sealed = await sealedBundle({
    productCode: PRODUCT_CODE,
    publicKeyPem: aws.publicKeyPem,
    binding: 'none',
    tlsRootsFile: aws.caFile,
  });
  published = await sealedBundle({ productCode: PRODUCT_CODE, publicKeyPem: aws.publicKeyPem, binding: 'none' });
  unsealedCli = await copyBundle(join(aws.dir, 'unsealed'));
  const otherCaFile = join(aws.dir, 'other-ca.pem');
  writeFileSync(otherCaFile, createTestCertificateAuthority('another CA').certificatePem);
  otherRoots = await sealedBundle({
    productCode: PRODUCT_CODE,
    publicKeyPem: aws.publicKeyPem,
    binding: 'none',
    tlsRootsFile: otherCaFile,
  });
  caBundleConfig = join(aws.dir, 'aws-config');
  writeFileSync(caBundleConfig, `[default]\nca_bundle = ${aws.caFile}\n`);
});
afterAll(async () => {
  sealed?.remove();
  published?.remove();
  otherRoots?.remove();
  await aws?.close();
});

const cli = (
  bundle: string,
  args: string[],
  env: Record<string, string>,
  extra: Partial<AwsAsProductionCommand> = {},
): AwsAsProductionCommand => ({
  argv: [NODE, bundle, ...args],
  env,
  ...extra,
});
const out = (name: string) => join(aws.dir, `${name}-${Math.random().toString(36).slice(2)}.jwt`);
/** The operations that reached the emulator, in order, with their HTTP status. */
const operations = (calls: AwsAsProductionCall[]) => calls.map((call) => `${call.operation} ${call.statusCode}`);
/** Calls of `operation` that AWS would have granted (a MeterUsage dry run is granted with DryRunOperation). */
const count = (calls: AwsAsProductionCall[], operation: string) =>
  calls.filter(
    (call) => call.operation === operation && (call.statusCode === 200 || call.errorType === 'DryRunOperation'),
  ).length;
const show = (result: { commands: { code: number | null; stdout: string; stderr: string }[] }) =>
  result.commands
    .map((c, i) => `#${i} exit ${c.code}\n${c.stdout}${c.stderr.split('\n').slice(-6).join('\n')}`)
    .join('\n');

const PRICING_ARGS = {
  hourly: [],
  custom: ['--pricing', 'custom', '--meter-dimensions', 'requests'],
  contract: ['--pricing', 'contract', '--product-sku', PRODUCT_SKU, '--entitlement', 'Users:Count:1'],
} as const;
/** The call that says "entitled" for each pricing model. */
const CHECK_CALL = { hourly: 'RegisterUsage', custom: 'MeterUsage', contract: 'CheckoutLicense' } as const;

describe.each(['EKS pod (IRSA)', 'ECS task'] as const)(
  'the sealed bundle and the in-process check, as %s',
  (platform) => {
    it('hourly: the init container (register, both entry files), the exec probe, the sidecar, the wrapper and the app each register', async () => {
      const env = platforms[platform];
      const file = out('init');
      const result = await aws.run({
        commands: [
          cli(sealed.cli, ['register', '--out', file], env),
          cli(sealed.cli.replace(/cli\.cjs$/, 'cli.mjs'), ['register', '--out', out('init-mjs')], env),
          cli(sealed.cli, ['check', '--file', file], env),
          cli(sealed.cli, ['serve', '--out', out('sidecar')], env, { background: { readyWhen: 'serving on' } }),
          { argv: PROBE_SIDECAR, env: {} },
          cli(sealed.cli, ['run', '--out', out('wrapper'), ...CHILD], env),
          {
            argv: [NODE, APP],
            env: { ...env, PRODUCT_CODE, PUBLIC_KEY_FILE: aws.publicKeyFile, TLS_ROOTS_FILE: aws.caFile },
          },
        ],
      });
      expect(
        result.commands.map((c) => c.code),
        show(result),
      ).toEqual([0, 0, 0, 0, 0, 42, 0]);
      expect(JSON.parse(result.commands[6]!.stdout)).toMatchObject({
        entitled: true,
        pricing: 'hourly',
        productCode: PRODUCT_CODE,
      });
      // register twice, serve, run, the app: five registrations, all under AWS's host name.
      expect(count(result.calls, 'RegisterUsage')).toBe(5);
      expect(
        result.calls
          .filter((c) => c.operation === 'RegisterUsage')
          .every((c) => c.host === aws.hostNames.metering && c.region === REGION),
      ).toBe(true);
      if (platform === 'EKS pod (IRSA)') expect(count(result.calls, 'AssumeRoleWithWebIdentity')).toBe(5);
      else expect(result.calls.filter((c) => c.operation === 'AssumeRoleWithWebIdentity')).toEqual([]);
    });

    it.each(['custom', 'contract'] as const)(
      '%s pricing: the sidecar, the wrapper and the app hold entitlement',
      async (pricing) => {
        const env = platforms[platform];
        const result = await aws.run({
          emulator: { licenses: LICENSES },
          commands: [
            cli(sealed.cli, ['serve', ...PRICING_ARGS[pricing]], env, { background: { readyWhen: 'serving on' } }),
            { argv: PROBE_SIDECAR, env: {} },
            cli(sealed.cli, ['run', ...PRICING_ARGS[pricing], ...CHILD], env),
            {
              argv: [NODE, APP],
              env: { ...env, PRICING: pricing, PRODUCT_CODE, PRODUCT_SKU, TLS_ROOTS_FILE: aws.caFile },
            },
          ],
        });
        expect(
          result.commands.map((c) => c.code),
          show(result),
        ).toEqual([0, 0, 42, 0]);
        expect(JSON.parse(result.commands[3]!.stdout)).toMatchObject({ entitled: true, pricing });
        // Custom: serve dry-runs twice, once as the entitlement check and once as its usage meter's permission check
        // (the meter may also send the hour's usage when it stops: a real MeterUsage, not counted here).
        const checks = result.calls.filter(
          (c) =>
            c.operation === CHECK_CALL[pricing] &&
            (pricing === 'custom' ? c.errorType === 'DryRunOperation' : c.statusCode === 200),
        );
        expect(checks.length).toBe(pricing === 'custom' ? 4 : 3);
        if (pricing === 'contract') expect(count(result.calls, 'CheckInLicense')).toBe(3); // each returned its seat
        expect(count(result.calls, 'RegisterUsage')).toBe(0);
      },
    );

    it.each(['hourly', 'custom', 'contract'] as const)(
      '%s pricing, not entitled: every mode refuses with 77 and the wrapped app never starts',
      async (pricing) => {
        const env = platforms[platform];
        const result = await aws.run({
          emulator: { scenario: { entitled: false }, licenses: [] },
          commands: [
            ...(pricing === 'contract'
              ? []
              : [cli(sealed.cli, ['register', '--out', out('denied'), ...PRICING_ARGS[pricing]], env)]),
            cli(sealed.cli, ['serve', ...PRICING_ARGS[pricing]], env),
            cli(sealed.cli, ['run', ...PRICING_ARGS[pricing], '--', NODE, '-e', 'console.log("APP STARTED")'], env),
            {
              argv: [NODE, APP],
              env: {
                ...env,
                PRICING: pricing,
                PRODUCT_CODE,
                PRODUCT_SKU,
                PUBLIC_KEY_FILE: aws.publicKeyFile,
                TLS_ROOTS_FILE: aws.caFile,
              },
            },
          ],
        });
        expect(
          result.commands.map((c) => c.code),
          show(result),
        ).toEqual(result.commands.map(() => 77));
        expect(result.commands.some((c) => c.stdout.includes('APP STARTED'))).toBe(false);
        expect(result.calls.filter((c) => c.operation === CHECK_CALL[pricing]).length).toBeGreaterThanOrEqual(
          result.commands.length,
        );
      },
    );
  },
);

describe('only AWS answers for AWS: a CA added to the environment does not make a server AWS', () => {
  const refusals = [
    ['NODE_EXTRA_CA_CERTS', () => ({ NODE_EXTRA_CA_CERTS: aws.caFile })],
    [
      'NODE_EXTRA_CA_CERTS and NODE_TLS_REJECT_UNAUTHORIZED=0',
      () => ({ NODE_EXTRA_CA_CERTS: aws.caFile, NODE_TLS_REJECT_UNAUTHORIZED: '0' }),
    ],
    // The AWS CLI's and botocore's settings: the JavaScript SDK reads neither today; this catches an SDK that starts to.
    [
      'AWS_CA_BUNDLE and a ca_bundle in AWS_CONFIG_FILE',
      () => ({ AWS_CA_BUNDLE: aws.caFile, AWS_CONFIG_FILE: caBundleConfig }),
    ],
  ] as const;

  it.each(refusals)(
    '%s: the published sealed bundle, the unsealed CLI and the library refuse every pricing model with 76; nothing reaches the emulator',
    async (_label, added) => {
      const env = { ...aws.ecsEnvironment, ...added() };
      const commands = (['hourly', 'custom', 'contract'] as const).flatMap((pricing) => [
        cli(published.cli, ['serve', ...PRICING_ARGS[pricing], '--deadline', '5s'], env),
        cli(
          unsealedCli,
          [
            'serve',
            ...PRICING_ARGS[pricing],
            '--product-code',
            PRODUCT_CODE,
            '--public-key-file',
            aws.publicKeyFile,
            '--deadline',
            '5s',
          ],
          env,
        ),
        {
          argv: [NODE, APP],
          env: { ...env, PRICING: pricing, PRODUCT_CODE, PRODUCT_SKU, PUBLIC_KEY_FILE: aws.publicKeyFile },
        },
      ]);
      const result = await aws.run({ emulator: { licenses: LICENSES }, commands });
      expect(
        result.commands.map((c) => c.code),
        show(result),
      ).toEqual(commands.map(() => 76));
      expect(result.commands.every((c) => /TLS_UNTRUSTED/.test(c.stdout + c.stderr))).toBe(true);
      expect(
        result.calls.filter((c) => ['RegisterUsage', 'MeterUsage', 'CheckoutLicense'].includes(c.operation)),
      ).toEqual([]);
    },
  );

  it('--tls-keylog (session keys in a file a relay could read) is refused before any call: sealed CODE_INJECTION, otherwise TLS_KEYLOG, exit 78', async () => {
    const env = { ...aws.ecsEnvironment, NODE_OPTIONS: `--tls-keylog=${join(aws.dir, 'keys.log')}` };
    const result = await aws.run({
      commands: [
        cli(published.cli, ['register', '--out', out('keylog-sealed')], env),
        cli(
          unsealedCli,
          ['register', '--product-code', PRODUCT_CODE, '--public-key-file', aws.publicKeyFile, '--out', out('keylog')],
          env,
        ),
        {
          argv: [NODE, APP],
          env: { ...env, PRODUCT_CODE, PUBLIC_KEY_FILE: aws.publicKeyFile, TLS_ROOTS_FILE: aws.caFile },
        },
      ],
    });
    expect(
      result.commands.map((c) => c.code),
      show(result),
    ).toEqual([78, 78, 78]);
    expect(result.commands[0]!.stderr).toContain('CODE_INJECTION');
    expect(result.commands.slice(1).every((c) => /TLS_KEYLOG/.test(c.stdout + c.stderr))).toBe(true);
    expect(result.calls.filter((c) => c.operation === 'RegisterUsage')).toEqual([]);
  });

  it('a sealed image trusts its baked roots only: baked with another CA, the run CA in NODE_EXTRA_CA_CERTS gets nowhere (76)', async () => {
    const env = { ...aws.ecsEnvironment, NODE_EXTRA_CA_CERTS: aws.caFile };
    const result = await aws.run({
      commands: [cli(otherRoots.cli, ['register', '--out', out('other-roots'), '--deadline', '5s'], env)],
    });
    expect(result.commands[0]!.code, show(result)).toBe(76);
    expect(result.calls.filter((c) => c.operation === 'RegisterUsage')).toEqual([]);
  });

  it("OpenSSL's store (--use-openssl-ca with SSL_CERT_FILE) does not widen it either; IRSA's STS call is pinned too", async () => {
    const env = { ...platforms['EKS pod (IRSA)'], NODE_OPTIONS: '--use-openssl-ca', SSL_CERT_FILE: aws.caFile };
    const result = await aws.run({
      commands: [
        cli(
          unsealedCli,
          [
            'register',
            '--product-code',
            PRODUCT_CODE,
            '--public-key-file',
            aws.publicKeyFile,
            '--out',
            out('openssl'),
            '--deadline',
            '5s',
          ],
          env,
        ),
        { argv: [NODE, APP], env: { ...env, PRODUCT_CODE, PUBLIC_KEY_FILE: aws.publicKeyFile } },
      ],
    });
    expect(
      result.commands.map((c) => c.code),
      show(result),
    ).toEqual([76, 76]);
    expect(operations(result.calls)).toEqual([]);
  });

  it('the trust the CA does get is the one a seller chose: --tls-roots system takes NODE_EXTRA_CA_CERTS, a sealed image refuses any other roots', async () => {
    const env = { ...aws.ecsEnvironment, NODE_EXTRA_CA_CERTS: aws.caFile };
    const result = await aws.run({
      commands: [
        cli(
          unsealedCli,
          [
            'register',
            '--product-code',
            PRODUCT_CODE,
            '--public-key-file',
            aws.publicKeyFile,
            '--out',
            out('system'),
            '--tls-roots',
            'system',
          ],
          env,
        ),
        cli(sealed.cli, ['register', '--out', out('sealed-system'), '--tls-roots', 'system'], env),
        cli(published.cli, ['register', '--out', out('sealed-file')], { ...env, MARKETPLACE_TLS_ROOTS: aws.caFile }),
      ],
    });
    expect(
      result.commands.map((c) => c.code),
      show(result),
    ).toEqual([0, 78, 78]);
    expect(result.commands.slice(1).every((c) => c.stderr.includes('IMAGE_SEALED'))).toBe(true);
    expect(count(result.calls, 'RegisterUsage')).toBe(1);
  });

  it('HTTPS_PROXY is not used (even with NODE_USE_ENV_PROXY): the call goes to AWS directly, pinned', async () => {
    // NO_PROXY for the ECS agent's address, as AWS's ECS guide sets it beside a proxy: on Node 24 with
    // NODE_USE_ENV_PROXY, Node's fetch (task metadata) would otherwise go to the proxy too.
    const env = {
      ...aws.ecsEnvironment,
      HTTPS_PROXY: 'http://127.0.0.1:9',
      NO_PROXY: '169.254.170.2,169.254.169.254',
      NODE_USE_ENV_PROXY: '1',
    };
    const result = await aws.run({
      commands: [cli(sealed.cli, ['register', '--out', out('proxy'), '--deadline', '5s'], env)],
    });
    expect(result.commands[0]!.code, show(result)).toBe(0);
    expect(count(result.calls, 'RegisterUsage')).toBe(1);
  });
});
