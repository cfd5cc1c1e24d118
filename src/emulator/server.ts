/**
 * A local, wire-compatible AWS Marketplace Metering Service: the unmodified AWS SDK talks to it through
 * `endpoint`. AWS JSON 1.1 (`X-Amz-Target: AWSMPMeteringService.<Operation>`), SigV4 required, errors as
 * `{"__type","message"}` with the real status codes. Behaviour is steered per test through `scenario`,
 * and every call is recorded in `calls`.
 *
 * @example
 * const emulator = await startMeteringEmulator();
 * const entitlement = await ensureEntitled({
 *   productCode: 'prod-abc', publicKey: emulator.publicKeyPem, endpoint: emulator.url, region: 'us-east-1',
 *   credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
 * });
 * emulator.scenario.entitled = false; // the next call answers CustomerNotEntitledException
 * await emulator.close();
 */
import { createPublicKey, createPrivateKey, randomUUID, type KeyObject } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import {
  createLicenseManagerEmulator,
  LICENSE_MANAGER_SIGNING_NAME,
  LICENSE_MANAGER_TARGET_PREFIX,
  licenseManagerErrorBody,
  type EmulatedLicenseInput,
  type LicenseManagerEmulator,
  type LicenseManagerScenario,
} from './license-manager.js';
import { startEcsStandIns, type EcsStandInOptions, type EcsStandIns } from './ecs.js';
import { meteringOperations } from './metering-operations.js';
import { injectedError } from './modelled-errors.js';
import { listen } from '../common/listen.js';
import { generateRsaKeyPair, registerUsage } from './register-usage.js';
import { checkSignature, SignatureCheckError, type EmulatorCredentials } from './sigv4.js';
import { answerStsQuery, isStsQuery } from './sts.js';
import { TokenBucket } from './token-bucket.js';
import {
  DEFAULT_EMULATOR_HOST,
  DEFAULT_SCENARIO,
  EmulatorServiceError,
  type EmulatorScenario,
  type OperationContext,
  type OperationHandler,
  type RecordedCall,
  type RoleCredentials,
} from './types.js';

const TARGET_PREFIX = 'AWSMPMeteringService.';
const MAX_BODY_BYTES = 1024 * 1024;
/** Real AWS answers every request, errors included, with one; SDKs surface it as `$metadata.requestId`. */
const REQUEST_ID_HEADER = 'x-amzn-requestid';
/** What STS and the ECS credentials endpoint hand out when neither `roleCredentials` nor `credentials` is given. */
const DEFAULT_ROLE_CREDENTIALS: Readonly<RoleCredentials> = Object.freeze({
  accessKeyId: 'ASIAEMULATORROLE0001',
  secretAccessKey: 'emulator-role-secret-not-real',
  sessionToken: 'emulator-role-session-token',
});

/** How {@link startMeteringEmulator} listens, signs and behaves at start. */
export interface MeteringEmulatorOptions {
  /** Default 0: any free port. */
  port?: number;
  /** Default 127.0.0.1: never exposed beyond this host unless asked. */
  host?: string;
  /** The signing key (RSA private key, PEM or KeyObject). Default: a fresh RSA-3072 key. */
  privateKey?: string | KeyObject;
  /** When given, SigV4 signatures are fully verified against these credentials. */
  credentials?: EmulatorCredentials;
  /** The initial scenario (merged over the defaults); `reset()` returns to it. */
  scenario?: Partial<EmulatorScenario>;
  /** The emulator's clock (token `iat`). */
  now?: () => Date;
  /** Extra or replacement operations, by name. */
  operations?: Record<string, OperationHandler>;
  /** Called after every request, e.g. to log it. */
  onCall?: (call: RecordedCall) => void;
  /** License Manager: the licences that exist (contract pricing). Default none. */
  licenses?: EmulatedLicenseInput[];
  /**
   * License Manager's initial scenario (merged over its defaults: 60-minute checkouts, no faults); `reset()` returns to
   * it.
   */
  licenseManager?: Partial<LicenseManagerScenario>;
  /**
   * Serve HTTPS with this certificate and key (PEM) instead of plain HTTP, e.g. one issued for
   * `awsHostNames(region).all` by `createTestCertificateAuthority()`, so clients reach the emulator under AWS's own
   * host names with no endpoint setting.
   */
  tls?: { key: string; cert: string };
  /**
   * What STS AssumeRoleWithWebIdentity (IRSA) and the ECS container credentials endpoint hand out. Default:
   * `credentials` (with a session token) when given, so calls signed with them verify; otherwise fixed test keys.
   */
  roleCredentials?: RoleCredentials;
  /** Also serve the ECS task metadata v4 and container credentials stand-ins, on their own plain HTTP listener. */
  ecs?: EcsStandInOptions;
}

/** A running emulator: its URL, its signing key, the scenario to steer it, the calls it received. */
export interface MeteringEmulator {
  /** Base URL to give as `endpoint`, e.g. `http://127.0.0.1:41234`. */
  url: string;
  /** The port it listens on (the one picked when `port` was 0). */
  port: number;
  /** The public key to verify this emulator's tokens with (SPKI PEM). */
  publicKeyPem: string;
  /** The same public key as a `KeyObject`. */
  publicKey: KeyObject;
  /** Mutable: change it to change what the next calls see. */
  scenario: EmulatorScenario;
  /** Every request received, in order (License Manager's, STS's and the ECS stand-ins' too). */
  calls: RecordedCall[];
  /** The License Manager served at the same URL: licences, pool accounting, clock, faults. */
  licenseManager: LicenseManagerEmulator;
  /** The ECS stand-ins, when started with `ecs`. */
  ecs?: EcsStandIns;
  /** What STS and the ECS credentials endpoint hand out (see {@link MeteringEmulatorOptions.roleCredentials}). */
  roleCredentials: RoleCredentials;
  /** Restores the initial scenario and forgets recorded calls and counters. */
  reset(): void;
  /**
   * Stops the server (and the ECS stand-ins) and closes their connections; a process that started an emulator cannot
   * exit before this.
   */
  close(): Promise<void>;
}

/**
 * Starts a local, wire-compatible AWS Marketplace Metering Service (AWS JSON 1.1, SigV4, PS256 tokens) for tests
 * and local runs. A test tool: never expose it on a network.
 *
 * @example
 * const emulator = await startMeteringEmulator();
 * await ensureEntitled({ productCode: 'prod-abc', publicKey: emulator.publicKeyPem, endpoint: emulator.url,
 *   region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
 * await emulator.close();
 */
export async function startMeteringEmulator(options: MeteringEmulatorOptions = {}): Promise<MeteringEmulator> {
  const privateKey = options.privateKey
    ? typeof options.privateKey === 'string'
      ? createPrivateKey(options.privateKey)
      : options.privateKey
    : (await generateRsaKeyPair()).privateKey;
  const publicKey = createPublicKey(privateKey);
  const publicKeyPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  const initialScenario = { ...DEFAULT_SCENARIO, ...options.scenario };
  const operations: Record<string, OperationHandler> = {
    RegisterUsage: registerUsage,
    ...meteringOperations,
    ...options.operations,
  };
  const now = options.now ?? (() => new Date());
  const sockets = new Set<Socket>();
  let callCounts = new Map<string, number>();
  let bucket = new TokenBucket();
  const roleCredentials =
    options.roleCredentials ??
    (options.credentials
      ? { ...options.credentials, sessionToken: 'emulator-session-token' }
      : { ...DEFAULT_ROLE_CREDENTIALS });

  const emulator: MeteringEmulator = {
    url: '',
    port: 0,
    publicKeyPem,
    publicKey,
    scenario: { ...initialScenario },
    calls: [],
    licenseManager: createLicenseManagerEmulator(options.licenses, options.licenseManager),
    roleCredentials,
    reset() {
      emulator.scenario = { ...initialScenario };
      emulator.licenseManager.reset();
      emulator.calls.length = 0;
      callCounts = new Map();
      bucket = new TokenBucket();
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await Promise.all([
        new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve()))),
        emulator.ecs?.close(),
      ]);
    },
  };

  /** Records a call answered outside the AWS JSON path (STS, the ECS stand-ins). */
  function record(call: RecordedCall): void {
    emulator.calls.push(call);
    options.onCall?.(call);
  }

  /** True when the shared token bucket has no token for this call. */
  function rateLimited(): boolean {
    const limit = emulator.scenario.rateLimit;
    if (!limit) return false;
    return !bucket.take(Date.now(), limit);
  }

  async function handle(req: IncomingMessage, res: ServerResponse, body: Buffer): Promise<void> {
    const target = String(req.headers['x-amz-target'] ?? '');
    if (req.method === 'POST' && isStsQuery(req.headers['content-type'], target)) {
      const requestId = String(res.getHeader(REQUEST_ID_HEADER));
      const answer = answerStsQuery(body.toString('utf8'), roleCredentials, now(), requestId);
      record({
        operation: answer.operation,
        input: answer.input,
        at: new Date(),
        statusCode: answer.statusCode,
        requestId,
        host: req.headers.host,
        ...(answer.errorType && { errorType: answer.errorType }),
      });
      res.writeHead(answer.statusCode, { 'content-type': 'text/xml' }).end(answer.body);
      return;
    }
    const licenseManager = target.startsWith(LICENSE_MANAGER_TARGET_PREFIX);
    const prefix = licenseManager ? LICENSE_MANAGER_TARGET_PREFIX : TARGET_PREFIX;
    const operation = target.startsWith(prefix) ? target.slice(prefix.length) : target;
    const call: RecordedCall = {
      operation,
      input: {},
      at: new Date(),
      statusCode: 200,
      requestId: String(res.getHeader(REQUEST_ID_HEADER)),
      host: req.headers.host,
    };
    const finish = (statusCode: number, payload: unknown, errorType?: string): void => {
      call.statusCode = statusCode;
      if (errorType) call.errorType = errorType;
      emulator.calls.push(call);
      options.onCall?.(call);
      if (res.destroyed) return;
      const headers: Record<string, string> = { 'content-type': 'application/x-amz-json-1.1' };
      if (errorType) headers['x-amzn-errortype'] = errorType;
      res.writeHead(statusCode, headers).end(typeof payload === 'string' ? payload : JSON.stringify(payload));
    };
    const fail = (err: EmulatorServiceError): void =>
      finish(
        err.statusCode,
        licenseManager ? licenseManagerErrorBody(err) : { __type: err.errorType, message: err.message },
        err.errorType,
      );

    try {
      const signingName = licenseManager ? LICENSE_MANAGER_SIGNING_NAME : undefined;
      const signed = checkSignature(
        req.method ?? 'POST',
        req.url ?? '/',
        req.headers,
        body,
        options.credentials,
        signingName,
      );
      call.region = signed.region;
      call.accessKeyId = signed.accessKeyId;
    } catch (err) {
      if (err instanceof SignatureCheckError) return fail(new EmulatorServiceError(err.errorType, err.message, 403));
      throw err;
    }
    const handler: OperationHandler | undefined = licenseManager
      ? (input) => emulator.licenseManager.handle(operation, input)
      : Object.hasOwn(operations, operation)
        ? operations[operation]
        : undefined;
    if (req.method !== 'POST' || !handler) {
      return fail(new EmulatorServiceError('UnknownOperationException', `Unknown operation ${JSON.stringify(target)}`));
    }
    try {
      const parsed: unknown = JSON.parse(body.toString('utf8') || '{}');
      if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('not an object');
      call.input = parsed as Record<string, unknown>;
    } catch {
      return fail(new EmulatorServiceError('SerializationException', 'Request body is not a JSON object'));
    }

    const seen = (callCounts.get(operation) ?? 0) + 1;
    callCounts.set(operation, seen);
    const scenario = emulator.scenario;
    if (scenario.latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, scenario.latencyMs));
    const transportFault = seen <= (scenario.transportFaultFirst ?? Infinity) ? scenario.transportFault : undefined;
    if (transportFault === 'reset') {
      call.errorType = 'ConnectionReset';
      call.statusCode = 0; // no answer was sent
      emulator.calls.push(call);
      req.socket.destroy();
      return;
    }
    if (transportFault === 'hang') {
      call.errorType = 'Hang';
      call.statusCode = 0; // no answer was sent
      emulator.calls.push(call);
      return; // never answered; close() destroys the socket
    }
    if (seen <= scenario.throttleFirst || rateLimited()) {
      return fail(new EmulatorServiceError('ThrottlingException', 'Rate exceeded'));
    }
    if (seen <= scenario.failFirst)
      return fail(new EmulatorServiceError('InternalServiceErrorException', 'Internal service error'));
    const injected = injectedError(operation, scenario.errors);
    if (injected) return fail(injected);
    if (transportFault === 'malformed-json') return finish(200, '{"Signature": "eyJ');
    if (transportFault === 'empty-signature') return finish(200, { Signature: '' });
    if (transportFault === 'non-jwt-signature') return finish(200, { Signature: 'this-is-not-a-jwt' });

    const ctx: OperationContext = {
      scenario,
      privateKey,
      publicKeyPem,
      now,
      region: call.region ?? '',
      accessKeyId: call.accessKeyId,
    };
    try {
      finish(200, (await handler(call.input, ctx)) ?? {});
    } catch (err) {
      if (err instanceof EmulatorServiceError) return fail(err);
      throw err;
    }
  }

  const requestListener = (req: IncomingMessage, res: ServerResponse): void => {
    res.setHeader(REQUEST_ID_HEADER, randomUUID());
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) req.destroy();
      else chunks.push(chunk);
    });
    req.on('end', () => {
      handle(req, res, Buffer.concat(chunks)).catch((err: unknown) => {
        if (!res.headersSent) {
          res.writeHead(500, { 'content-type': 'application/x-amz-json-1.1' });
          res.end(
            JSON.stringify({
              __type: 'InternalServiceErrorException',
              message: `Emulator error: ${(err as Error).message}`,
            }),
          );
        }
      });
    });
  };
  const server = options.tls
    ? createHttpsServer({ key: options.tls.key, cert: options.tls.cert }, requestListener)
    : createServer(requestListener);
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  emulator.url = await listen(
    server,
    options.port ?? 0,
    options.host ?? DEFAULT_EMULATOR_HOST,
    options.tls ? 'https' : 'http',
  );
  emulator.port = (server.address() as AddressInfo).port;
  if (options.ecs) {
    try {
      emulator.ecs = await startEcsStandIns(
        options.ecs,
        () => roleCredentials,
        now,
        ({ operation, path, statusCode, host }) =>
          record({
            operation,
            input: { path },
            at: new Date(),
            statusCode,
            requestId: '',
            ...(host !== undefined && { host }),
            ...(statusCode >= 400 && { errorType: statusCode === 401 ? 'Unauthorized' : 'NotFound' }),
          }),
      );
    } catch (err) {
      await new Promise((resolve) => server.close(resolve));
      throw err;
    }
  }
  return emulator;
}
