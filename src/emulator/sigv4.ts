/**
 * SigV4 checking for the emulator: the request must be signed for the service it calls (`aws-marketplace`, or
 * `license-manager`), as the real endpoints demand. With known credentials the signature itself is recomputed and
 * compared; without, any well-formed signature is accepted (like other local AWS emulators) so tests can use dummy
 * keys.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

export const SIGNING_NAME = 'aws-marketplace';

export interface EmulatorCredentials {
  accessKeyId: string;
  secretAccessKey: string;
}

export interface SignedRequestInfo {
  accessKeyId: string;
  region: string;
}

export class SignatureCheckError extends Error {
  constructor(
    readonly errorType:
      | 'MissingAuthenticationTokenException'
      | 'IncompleteSignatureException'
      | 'InvalidSignatureException'
      | 'UnrecognizedClientException',
    message: string,
  ) {
    super(message);
  }
}

const AUTH =
  /^AWS4-HMAC-SHA256 Credential=([^/,\s]+)\/(\d{8})\/([^/,\s]+)\/([^/,\s]+)\/aws4_request,\s*SignedHeaders=([a-z0-9;-]+),\s*Signature=([0-9a-f]{64})$/;

export function checkSignature(
  method: string,
  path: string,
  headers: IncomingHttpHeaders,
  body: Buffer,
  credentials?: EmulatorCredentials,
  signingName: string = SIGNING_NAME,
): SignedRequestInfo {
  const authorization = headers.authorization;
  if (!authorization)
    throw new SignatureCheckError('MissingAuthenticationTokenException', 'Missing Authentication Token');
  const match = AUTH.exec(authorization);
  if (!match)
    throw new SignatureCheckError('IncompleteSignatureException', 'Authorization header is not a SigV4 signature');
  const [, accessKeyId, date, region, service, signedHeaders, signature] = match as unknown as string[];
  const amzDate = headerValue(headers['x-amz-date']);
  if (service !== signingName) {
    throw new SignatureCheckError(
      'InvalidSignatureException',
      `Credential should be scoped to correct service: '${signingName}'.`,
    );
  }
  if (!amzDate?.startsWith(date!))
    throw new SignatureCheckError(
      'IncompleteSignatureException',
      'X-Amz-Date missing or outside the credential scope date',
    );
  if (credentials) {
    if (accessKeyId !== credentials.accessKeyId) {
      throw new SignatureCheckError(
        'UnrecognizedClientException',
        'The security token included in the request is invalid.',
      );
    }
    const expected = computeSignature(
      method,
      path,
      headers,
      body,
      signedHeaders!,
      amzDate,
      `${date}/${region}/${service}/aws4_request`,
      credentials.secretAccessKey,
    );
    if (!timingSafeEqual(Buffer.from(expected, 'hex'), Buffer.from(signature!, 'hex'))) {
      throw new SignatureCheckError(
        'InvalidSignatureException',
        'The request signature we calculated does not match the signature you provided.',
      );
    }
  }
  return { accessKeyId: accessKeyId!, region: region! };
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(',') : value;
}

function computeSignature(
  method: string,
  path: string,
  headers: IncomingHttpHeaders,
  body: Buffer,
  signedHeaders: string,
  amzDate: string,
  scope: string,
  secret: string,
): string {
  const names = signedHeaders.split(';');
  const canonicalHeaders = names
    .map((n) => `${n}:${(headerValue(headers[n]) ?? '').trim().replace(/\s+/g, ' ')}\n`)
    .join('');
  const [pathname, query = ''] = path.split('?');
  const canonicalQuery = query.split('&').filter(Boolean).sort().join('&');
  // The body received, never the client's x-amz-content-sha256 claim about it: trusting that header would let a
  // body changed after signing pass.
  const payloadHash = sha256(body);
  const canonicalRequest = [method, pathname, canonicalQuery, canonicalHeaders, signedHeaders, payloadHash].join('\n');
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256(canonicalRequest)].join('\n');
  const [date, region, service] = scope.split('/');
  let key: Buffer = hmac(`AWS4${secret}`, date!);
  for (const part of [region!, service!, 'aws4_request']) key = hmac(key, part);
  return createHmac('sha256', key).update(stringToSign).digest('hex');
}

function sha256(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

function hmac(key: string | Buffer, data: string): Buffer {
  return createHmac('sha256', key).update(data).digest();
}
