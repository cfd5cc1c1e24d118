/**
 * `emulator`: the local Metering Service emulator in the foreground, for trying the CLI and for
 * integration tests in other languages. Prints its URL, logs every call, stops cleanly on SIGTERM/SIGINT.
 *
 * @example
 * marketplace-entitlement emulator --port 8443 --public-key-out /tmp/emulator-key.pem --throttle-first 2
 */
import { LOG_OPTIONS } from '../options.js';
import type { CommandSpec } from '../spec.js';
import { UsageError } from '../usage-error.js';

export const emulatorCommand: CommandSpec = {
  name: 'emulator',
  describe: 'Run the local AWS Marketplace Metering emulator (RegisterUsage) in the foreground',
  options: {
    port: { type: 'number', default: 0, describe: 'Port to listen on; 0 picks a free one (the URL is printed)' },
    host: { type: 'string', default: '127.0.0.1', describe: 'Address to bind' },
    'public-key-out': { type: 'string', describe: 'Write the public key its tokens verify under (PEM) to this file' },
    'private-key-file': { type: 'string', describe: 'Sign with this RSA private key (PEM) instead of a fresh one, so the key survives restarts' },
    'not-entitled': { type: 'boolean', describe: 'Answer CustomerNotEntitledException' },
    'throttle-first': { type: 'number', default: 0, describe: 'Answer ThrottlingException to the first N calls' },
    'fail-first': { type: 'number', default: 0, describe: 'Answer InternalServiceErrorException (HTTP 500) to the first N calls' },
    'rate-limit': { type: 'number', describe: 'Throttle beyond this many calls per second (AWS: 5 for RegisterUsage)' },
    error: { type: 'string', describe: 'Answer every call with this AWS error, e.g. PlatformNotSupportedException' },
    latency: { type: 'duration', default: '0ms', describe: 'Delay every answer by this long' },
    ...LOG_OPTIONS,
  },
  examples: [
    ['$0 emulator --port 8443 --public-key-out /tmp/emulator-key.pem', 'Then: register --endpoint http://127.0.0.1:8443 --public-key-file /tmp/emulator-key.pem'],
    ['$0 emulator --rate-limit 5 --log-format text', 'Behave like the real 5 calls/s quota'],
    ['$0 emulator --not-entitled', 'A buyer without a subscription'],
  ],
  async run(args, ctx) {
    const [{ startMeteringEmulator }, { REGISTER_USAGE_ERRORS }, { writeFileAtomic }, { readInputFile }] = await Promise.all([
      import('../../src/emulator/server.js'),
      import('../../src/emulator/register-usage.js'),
      import('../../src/atomic-write.js'),
      import('../../src/input-file.js'),
    ]);
    const error = args.error as string | undefined;
    if (error !== undefined && !Object.hasOwn(REGISTER_USAGE_ERRORS, error)) {
      throw new UsageError(`--error ${error} is not a RegisterUsage error; one of ${Object.keys(REGISTER_USAGE_ERRORS).join(', ')}.`);
    }
    const privateKeyFile = args['private-key-file'] as string | undefined;
    const emulator = await startMeteringEmulator({
      port: args.port as number,
      host: args.host as string,
      ...(privateKeyFile !== undefined && {
        privateKey: await readInputFile(privateKeyFile, { code: 'PRIVATE_KEY_FILE', what: 'emulator private key file' }),
      }),
      scenario: {
        entitled: args['not-entitled'] !== true,
        throttleFirst: args['throttle-first'] as number,
        failFirst: args['fail-first'] as number,
        latencyMs: args.latency as number,
        ...(error !== undefined && { error }),
        ...(args['rate-limit'] !== undefined && { rateLimit: { perSecond: args['rate-limit'] as number } }),
      },
      onCall: (call) =>
        ctx.logger.info?.(`${call.operation} answered ${call.statusCode}${call.errorType ? ` ${call.errorType}` : ''}`, {
          event: 'emulator.call',
          operation: call.operation,
          statusCode: call.statusCode,
          errorType: call.errorType,
          productCode: call.input.ProductCode,
          region: call.region,
        }),
    });
    const keyOut = args['public-key-out'] as string | undefined;
    if (keyOut !== undefined) await writeFileAtomic(keyOut, emulator.publicKeyPem);
    ctx.print(`emulator listening on ${emulator.url}${keyOut ? `; public key in ${keyOut}` : ''}`);
    await new Promise((resolve) => ctx.signal.addEventListener('abort', resolve, { once: true }));
    await emulator.close();
    ctx.logger.info?.('Emulator stopped', { event: 'emulator.stopped', calls: emulator.calls.length });
  },
};
