/**
 * `emulator`: the local Metering Service emulator (RegisterUsage, MeterUsage, BatchMeterUsage, ResolveCustomer)
 * in the foreground, for trying the CLI and for integration tests in other languages. Prints its URL, logs
 * every call, stops cleanly on SIGTERM/SIGINT.
 *
 * @example
 * marketplace-entitlement emulator --port 8443 --public-key-out /tmp/emulator-key.pem \
 *   --throttle-first 2 --dimensions requests
 * MARKETPLACE_SECRET_ACCESS_KEY=s3cret marketplace-entitlement emulator --access-key-id AKIDEXAMPLE
 * marketplace-entitlement emulator --aws-host-names --region us-east-1 --tls-dir /tmp/as-aws \
 *   --ecs-endpoint 169.254.170.2:80
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readInputFile } from '../../src/common/input-file.js';
import { DEFAULT_EMULATOR_HOST, DEFAULT_SCENARIO } from '../../src/emulator/types.js';
import { PROVISIONAL_CHECKOUT_TTL_MS } from '../../src/license/lease-types.js';
import { formatDuration } from '../args.js';
import { listOption, LOG_OPTIONS } from '../options.js';
import { defineCommand } from '../spec.js';
import { UsageError, usageErrorOf } from '../usage-error.js';

export const emulatorCommand = defineCommand({
  name: 'emulator',
  describe:
    'Run the local AWS Marketplace Metering emulator (RegisterUsage, MeterUsage, BatchMeterUsage, ResolveCustomer) ' +
    'and, at the same URL, AWS License Manager (CheckoutLicense, ExtendLicenseConsumption, CheckInLicense, ' +
    'GetLicense, ListReceivedLicenses) in the foreground',
  options: {
    port: {
      type: 'port',
      describe:
        'Port to listen on; 0 (the default) picks a free one (the ' +
        'URL is printed); 443 by default with --aws-host-names',
    },
    host: { type: 'string', default: DEFAULT_EMULATOR_HOST, describe: 'Address to bind' },
    'aws-host-names': {
      type: 'boolean',
      describe:
        "Serve HTTPS as AWS does, under the --region's own host names (metering.marketplace.REGION.amazonaws.com, " +
        'license-manager..., sts...), with a certificate from a CA made for this run; clients need no endpoint ' +
        'setting, only the names resolved here (--tls-dir hosts) and the CA trusted',
    },
    region: {
      type: 'string',
      required: (args) => args['aws-host-names'] === true || args['ecs-endpoint'] !== undefined,
      describe: 'With --aws-host-names and --ecs-endpoint: the Region served (its host names; the ECS task ARN)',
    },
    'tls-dir': {
      type: 'string',
      required: (args) => args['aws-host-names'] === true,
      describe:
        'With --aws-host-names: write the run CA (ca.pem, to trust: bake --tls-roots) and a hosts-file snippet ' +
        '(hosts: each name to --host) here',
    },
    'ecs-endpoint': {
      type: 'string',
      describe:
        'Also answer as the ECS agent (task metadata v4, container credentials) ' +
        'on ADDRESS:PORT over HTTP; in a task it is 169.254.170.2:80',
    },
    'public-key-out': { type: 'string', describe: 'Write the public key its tokens verify under (PEM) to this file' },
    'private-key-file': {
      type: 'string',
      describe: 'Sign with this RSA private key (PEM) instead of a fresh one, so the key survives restarts',
    },
    'not-entitled': { type: 'boolean', describe: 'Answer CustomerNotEntitledException' },
    'throttle-first': {
      type: 'number',
      default: DEFAULT_SCENARIO.throttleFirst,
      describe: 'Answer ThrottlingException to the first N calls of each operation',
    },
    'fail-first': {
      type: 'number',
      default: DEFAULT_SCENARIO.failFirst,
      describe: 'Answer InternalServiceErrorException (HTTP 500) to the first N calls of each operation',
    },
    'rate-limit': { type: 'number', describe: 'Throttle beyond this many calls per second (AWS: 5 for RegisterUsage)' },
    error: {
      type: 'string',
      describe: 'Answer every RegisterUsage call with this AWS error, e.g. PlatformNotSupportedException',
    },
    'operation-errors': {
      type: 'string',
      describe:
        'Answer every call of these operations with one of its modelled errors: OPERATION=Exception, comma ' +
        'separated, e.g. MeterUsage=InvalidEndpointRegionException',
    },
    'access-key-id': {
      type: 'string',
      describe:
        'Verify SigV4 signatures fully against this access key id and ' +
        '--secret-access-key (default: any well-formed signature passes)',
    },
    'secret-access-key': {
      type: 'string',
      describe: 'The secret for --access-key-id; prefer the MARKETPLACE_SECRET_ACCESS_KEY environment variable',
    },
    latency: {
      type: 'duration',
      default: formatDuration(DEFAULT_SCENARIO.latencyMs),
      describe: 'Delay every answer by this long',
    },
    dimensions: {
      type: 'string',
      describe:
        'MeterUsage/BatchMeterUsage: only these dimensions exist, comma separated (others: ' +
        'InvalidUsageDimensionException)',
    },
    'metering-denied': {
      type: 'boolean',
      describe:
        'MeterUsage/BatchMeterUsage not allowed (an IAM role without them): DryRun answers UnauthorizedException, a ' +
        'real call AccessDeniedException',
    },
    'unprocessed-first': {
      type: 'number',
      default: 0,
      describe: 'BatchMeterUsage: the first N calls leave every other record in UnprocessedRecords',
    },
    'subscribed-customers': {
      type: 'string',
      describe:
        'BatchMeterUsage: only these customers (identifiers or AWS ' +
        'account ids, comma separated) are subscribed; default all',
    },
    license: {
      type: 'string',
      multiple: true,
      describe:
        'License Manager: a contract licence entitlement SKU:NAME:UNIT:MAX (MAX a count or "unlimited"); repeatable ' +
        'or comma-separated, one licence per SKU',
    },
    'license-file': {
      type: 'string',
      describe:
        'License Manager: JSON [{"productSku", "entitlements": [{"name", "unit", "maxCount" | "unlimited"}], ' +
        '"keyFingerprint"?, "validityEnd"?, "status"?}]',
    },
    'license-ttl': {
      type: 'duration',
      default: formatDuration(PROVISIONAL_CHECKOUT_TTL_MS),
      positive: true,
      describe: 'License Manager: how long a PROVISIONAL checkout holds its unit unless extended or checked in',
    },
    'registration-tokens-file': {
      type: 'string',
      describe:
        'ResolveCustomer: JSON {"TOKEN": {"productCode", "customerIdentifier", "customerAWSAccountId", "licenseArn", ' +
        '"expiresAt"}} (productCode required); other tokens are invalid',
    },
    ...LOG_OPTIONS,
  },
  runsUntilStopped: true,
  examples: [
    [
      '$0 emulator --port 8443 --public-key-out /tmp/emulator-key.pem',
      'Then: register --endpoint http://127.0.0.1:8443 --public-key-file /tmp/emulator-key.pem',
    ],
    ['$0 emulator --rate-limit 5 --log-format text', 'Behave like the real 5 calls/s quota'],
    ['$0 emulator --not-entitled', 'A buyer without a subscription'],
    [
      'MARKETPLACE_SECRET_ACCESS_KEY=s3cret $0 emulator --access-key-id AKIDEXAMPLE',
      'Refuse requests not signed with exactly these credentials',
    ],
    ['$0 emulator --operation-errors MeterUsage=InvalidEndpointRegionException', 'Any modelled error of any operation'],
    [
      '$0 emulator --dimensions requests,gb_stored --metering-denied',
      'Only these dimensions; an IAM role without aws-marketplace:MeterUsage',
    ],
    [
      '$0 emulator --registration-tokens-file tokens.json --subscribed-customers cust-1',
      'SaaS: ResolveCustomer tokens and subscribed customers',
    ],
    [
      '$0 emulator --license sku-1:Users:Count:1 --license sku-1:Premium:None:unlimited',
      'Contract pricing: one licence for sku-1 with 1 floating user and the Premium tier',
    ],
    [
      '$0 emulator --aws-host-names --region us-east-1 --tls-dir /tmp/as-aws --host 10.88.0.1',
      "AWS's own names over HTTPS on :443: add /tmp/as-aws/hosts to the clients' hosts files, trust /tmp/as-aws/ca.pem",
    ],
    [
      '$0 emulator --region us-east-1 --ecs-endpoint 169.254.170.2:80',
      'Answer as the ECS agent where a task looks for it',
    ],
  ],
  async run(args, ctx) {
    const [
      { startMeteringEmulator },
      scenarioOptions,
      { parseLicenseFile, parseLicenseItems },
      { parseRegistrationTokens },
      { writeFileAtomic },
      serveAsAws,
    ] = await Promise.all([
      import('../../src/emulator/server.js'),
      import('../../src/emulator/scenario-options.js'),
      import('../../src/emulator/license-input.js'),
      import('../../src/emulator/registration-tokens-file.js'),
      import('../../src/common/atomic-write.js'),
      import('../../src/emulator/serve-as-aws.js'),
    ]);
    const { callCountOption, callRateOption, operationErrorsOption, registerUsageErrorOption } = scenarioOptions;
    const { error: errorName, 'rate-limit': rate } = args;
    const error =
      errorName === undefined ? undefined : usageErrorOf('', () => registerUsageErrorOption('--error', errorName));
    const operationErrorItems = listOption('operation-errors', args['operation-errors']);
    const operationErrors =
      operationErrorItems && usageErrorOf('', () => operationErrorsOption('--operation-errors', operationErrorItems));
    const credentials = credentialsOption(args['access-key-id'], args['secret-access-key']);
    const [throttleFirst, failFirst, unprocessedFirst] = usageErrorOf('', () =>
      (['throttle-first', 'fail-first', 'unprocessed-first'] as const).map((name) =>
        callCountOption(`--${name}`, args[name]),
      ),
    );
    const rateLimit = rate === undefined ? undefined : usageErrorOf('', () => callRateOption('--rate-limit', rate));
    const dimensions = listOption('dimensions', args.dimensions);
    const subscribedCustomers = listOption('subscribed-customers', args['subscribed-customers']);
    const registrationTokens = await checkedFile(
      'registration-tokens-file',
      args['registration-tokens-file'],
      'REGISTRATION_TOKENS_FILE',
      'registration tokens file',
      parseRegistrationTokens,
    );
    const licenseFile = await checkedFile(
      'license-file',
      args['license-file'],
      'LICENSE_FILE',
      'licence file',
      parseLicenseFile,
    );
    const licenses = [
      ...usageErrorOf('--license ', () => parseLicenseItems(args.license ?? [])),
      ...(licenseFile ?? []),
    ];
    const privateKeyFile = args['private-key-file'];
    const { region, 'ecs-endpoint': ecsEndpoint } = args;
    // --region is required by the option table with --aws-host-names or --ecs-endpoint, and --tls-dir with
    // --aws-host-names.
    const ecs =
      ecsEndpoint === undefined ? undefined : { region: region!, ...serveAsAws.parseEcsEndpoint(ecsEndpoint) };
    const asAws =
      args['aws-host-names'] === true
        ? await serveAsAws.prepareServingAsAws({ region: region!, address: args.host, tlsDir: args['tls-dir']! })
        : undefined;
    const emulator = await startMeteringEmulator({
      port: args.port ?? (asAws ? serveAsAws.AWS_HTTPS_PORT : 0),
      host: args.host,
      ...(asAws && { tls: asAws.tls }),
      ...(ecs && { ecs }),
      ...(credentials && { credentials }),
      ...(privateKeyFile !== undefined && {
        privateKey: await readInputFile(privateKeyFile, {
          code: 'PRIVATE_KEY_FILE',
          what: 'emulator private key file',
        }),
      }),
      scenario: {
        entitled: args['not-entitled'] !== true,
        throttleFirst,
        failFirst,
        latencyMs: args.latency,
        ...(error !== undefined && { error }),
        ...(operationErrors && { errors: operationErrors }),
        ...(rateLimit !== undefined && { rateLimit: { perSecond: rateLimit } }),
        ...(dimensions && { dimensions }),
        ...(args['metering-denied'] === true && { meteringDenied: true }),
        ...(unprocessedFirst > 0 && { unprocessedFirst }),
        ...(subscribedCustomers && { subscribedCustomers }),
        ...(registrationTokens && { registrationTokens }),
      },
      licenses,
      licenseManager: { ttlMs: args['license-ttl'] },
      onCall: (call) =>
        ctx.logger.info?.(
          `${call.operation} answered ${call.statusCode}${call.errorType ? ` ${call.errorType}` : ''}`,
          {
            event: 'emulator.call',
            operation: call.operation,
            statusCode: call.statusCode,
            errorType: call.errorType,
            productCode: call.input.ProductCode,
            dimension: call.input.UsageDimension,
            productSku: call.input.ProductSKU,
            region: call.region,
            host: call.host,
            // Who signed it (never the secret): operators can see which credentials a workload ended up with.
            accessKeyId: call.accessKeyId,
            requestId: call.requestId,
          },
        ),
    });
    // For people (text), the key always goes to a file they can name in their settings: a scratch one, removed on
    // stop, unless --public-key-out chose where.
    const forPeople = ctx.logFormat === 'text';
    const scratchDir =
      args['public-key-out'] === undefined && forPeople
        ? await mkdtemp(join(tmpdir(), 'marketplace-entitlement-emulator-'))
        : undefined;
    const keyOut = scratchDir ? join(scratchDir, 'public-key.pem') : args['public-key-out'];
    if (keyOut !== undefined) await writeFileAtomic(keyOut, emulator.publicKeyPem);
    const signatures = credentials ? `; SigV4 verified for ${credentials.accessKeyId}` : '';
    ctx.print(
      `emulator listening on ${emulator.url}` +
        `${keyOut ? `; public key in ${keyOut}${scratchDir ? ' (removed when it stops)' : ''}` : ''}${signatures}`,
    );
    // Under AWS's host names there is no endpoint to set: the hosts entries and the CA are the settings.
    if (forPeople && !asAws)
      for (const line of settingsToPaste(emulator.url, keyOut!, credentials?.accessKeyId)) ctx.print(line);
    if (asAws)
      ctx.print(
        `serving as ${asAws.hostNames.all.join(', ')}; trust ${asAws.caFile}; hosts entries in ${asAws.hostsFile}`,
      );
    if (emulator.ecs)
      ctx.print(
        `ECS agent stand-ins on ${emulator.ecs.url}: ${Object.entries(emulator.ecs.environment)
          .map(([name, value]) => `${name}=${value}`)
          .join(' ')}`,
      );
    await new Promise((resolve) => ctx.signal.addEventListener('abort', resolve, { once: true }));
    await emulator.close();
    if (scratchDir) await rm(scratchDir, { recursive: true, force: true });
    ctx.logger.info?.('Emulator stopped', { event: 'emulator.stopped', calls: emulator.calls.length });
  },
});

/** A word the shell reads back as itself. */
const shellWord = (text: string) => (/^[\w@%+=:,./-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`);

/**
 * What a new user pastes into another shell to point the CLI (or the library) at this emulator: without it the
 * first command meets MISSING_REGION, then NO_CREDENTIALS. The Region is any Region; the credentials are dummies
 * (the emulator checks only that requests are signed) unless --access-key-id asked for exact ones.
 */
function settingsToPaste(url: string, keyFile: string, accessKeyId: string | undefined): string[] {
  return [
    'Settings for the CLI or the library in another shell (paste):',
    `  export MARKETPLACE_ENDPOINT=${shellWord(url)}`,
    '  export AWS_REGION=us-east-1',
    accessKeyId === undefined
      ? '  export AWS_ACCESS_KEY_ID=emulator AWS_SECRET_ACCESS_KEY=emulator   ' +
        '# dummies: the emulator checks only that requests are signed'
      : `  export AWS_ACCESS_KEY_ID=${shellWord(accessKeyId)} ` +
        'AWS_SECRET_ACCESS_KEY=...   # the secret the emulator was given',
    `  export MARKETPLACE_PUBLIC_KEY_FILE=${shellWord(keyFile)}`,
    'Then, e.g.: marketplace-entitlement register --product-code abc123 --out ./entitlement.jwt',
  ];
}

/**
 * The content of the file `--option` names, through the library's `check` (undefined without the option): a missing
 * or unreadable file is exit 66 (`<code>_MISSING`...), one the check refuses a usage error naming the option.
 */
async function checkedFile<T>(
  option: string,
  file: string | undefined,
  code: string,
  what: string,
  check: (text: string, file: string) => T,
): Promise<T | undefined> {
  if (file === undefined) return undefined;
  const text = await readInputFile(file, { code, what });
  return usageErrorOf(`--${option} `, () => check(text, file));
}

/** Both or neither: one without the other would silently leave signatures unchecked. */
function credentialsOption(
  accessKeyId: string | undefined,
  secretAccessKey: string | undefined,
): { accessKeyId: string; secretAccessKey: string } | undefined {
  if (accessKeyId === undefined && secretAccessKey === undefined) return undefined;
  if (!accessKeyId || !secretAccessKey) {
    throw new UsageError(
      '--access-key-id and --secret-access-key go together (or MARKETPLACE_ACCESS_KEY_ID and ' +
        'MARKETPLACE_SECRET_ACCESS_KEY): give both to verify SigV4, neither to accept any well-formed signature.',
    );
  }
  return { accessKeyId, secretAccessKey };
}
