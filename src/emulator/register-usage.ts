/**
 * The emulator's RegisterUsage: a real PS256 JWT over {productCode, publicKeyVersion, nonce, iat}, signed
 * with the emulator's RSA key, plus deliberate faults so every verification path can be driven end to end.
 */
import { generateKeyPair, createHmac, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import { CompactSign } from 'jose';
import { EmulatorServiceError, type OperationContext } from './types.js';

/** Ways the emulator can spoil the token it returns. */
export const TOKEN_FAULTS = [
  'wrong-nonce',
  'wrong-product-code',
  'wrong-key-version',
  'wrong-key',
  'bad-signature',
  'alg-none',
  'hs256',
  'rs256',
  'missing-iat',
  'stale-iat',
  'future-iat',
] as const;
export type TokenFault = (typeof TOKEN_FAULTS)[number];

/** The RegisterUsage errors AWS models, by exception name, with their HTTP status. */
export const REGISTER_USAGE_ERRORS: Record<string, number> = {
  CustomerNotEntitledException: 400,
  PlatformNotSupportedException: 400,
  InvalidProductCodeException: 400,
  InvalidPublicKeyVersionException: 400,
  InvalidRegionException: 400,
  DisabledApiException: 400,
  ThrottlingException: 400,
  InternalServiceErrorException: 500,
};

const PRODUCT_CODE = /^[-a-zA-Z0-9/=:_.@]{1,255}$/;

export const generateRsaKeyPair = (modulusLength = 3072): Promise<{ publicKey: KeyObject; privateKey: KeyObject }> =>
  promisify(generateKeyPair)('rsa', { modulusLength });

let strangerKey: Promise<KeyObject> | undefined;

export async function registerUsage(input: Record<string, unknown>, ctx: OperationContext): Promise<unknown> {
  const { scenario } = ctx;
  const productCode = input.ProductCode;
  const publicKeyVersion = input.PublicKeyVersion;
  const nonce = input.Nonce;
  if (typeof productCode !== 'string' || !PRODUCT_CODE.test(productCode)) {
    throw new EmulatorServiceError('InvalidProductCodeException', 'Invalid product code');
  }
  if (!Number.isInteger(publicKeyVersion) || (publicKeyVersion as number) < 1) {
    throw new EmulatorServiceError('InvalidPublicKeyVersionException', 'Invalid public key version');
  }
  if (nonce !== undefined && (typeof nonce !== 'string' || nonce.length > 255)) {
    throw new EmulatorServiceError('ValidationException', 'Nonce must be a string of at most 255 characters');
  }
  if (scenario.productCodes && !scenario.productCodes.includes(productCode)) {
    throw new EmulatorServiceError('InvalidProductCodeException', `Unknown product code ${productCode}`);
  }
  if (scenario.error) throw new EmulatorServiceError(scenario.error, `Emulated ${scenario.error}`, REGISTER_USAGE_ERRORS[scenario.error] ?? 400);
  if (!scenario.entitled) throw new EmulatorServiceError('CustomerNotEntitledException', 'Customer is not entitled to this product');

  const pascal = scenario.claimSpelling === 'PascalCase';
  const fault = scenario.tokenFault;
  const nowSec = Math.floor(ctx.now().getTime() / 1000);
  const claims: Record<string, unknown> = {
    [pascal ? 'ProductCode' : 'productCode']: fault === 'wrong-product-code' ? `${productCode}-other` : productCode,
    [pascal ? 'PublicKeyVersion' : 'publicKeyVersion']: fault === 'wrong-key-version' ? (publicKeyVersion as number) + 1 : publicKeyVersion,
    [pascal ? 'Nonce' : 'nonce']: fault === 'wrong-nonce' ? `${nonce ?? ''}x` : nonce,
  };
  if (fault !== 'missing-iat') {
    claims.iat = fault === 'stale-iat' ? nowSec - 3_600 : fault === 'future-iat' ? nowSec + 3_600 : nowSec;
  }
  const response: Record<string, unknown> = { Signature: await signToken(claims, fault, ctx.privateKey, ctx.publicKeyPem) };
  if (scenario.rotationTimestamp) response.PublicKeyRotationTimestamp = Math.floor(scenario.rotationTimestamp.getTime() / 1000);
  return response;
}

async function signToken(claims: Record<string, unknown>, fault: TokenFault | undefined, privateKey: KeyObject, publicKeyPem: string): Promise<string> {
  const payload = Buffer.from(JSON.stringify(claims));
  const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  switch (fault) {
    case 'alg-none':
      return `${b64({ alg: 'none', typ: 'JWT' })}.${payload.toString('base64url')}.`;
    case 'hs256': {
      // The classic confusion attack: HMAC keyed with the verifier's own public key.
      const input = `${b64({ alg: 'HS256', typ: 'JWT' })}.${payload.toString('base64url')}`;
      return `${input}.${createHmac('sha256', publicKeyPem).update(input).digest('base64url')}`;
    }
    case 'rs256':
      return new CompactSign(payload).setProtectedHeader({ alg: 'RS256', typ: 'JWT' }).sign(privateKey);
    case 'wrong-key':
      strangerKey ??= generateRsaKeyPair(2048).then((pair) => pair.privateKey);
      return new CompactSign(payload).setProtectedHeader({ alg: 'PS256', typ: 'JWT' }).sign(await strangerKey);
    case 'bad-signature': {
      const token = await new CompactSign(payload).setProtectedHeader({ alg: 'PS256', typ: 'JWT' }).sign(privateKey);
      const [h, p, s] = token.split('.') as [string, string, string];
      const sig = Buffer.from(s, 'base64url');
      sig[0]! ^= 0x01;
      return `${h}.${p}.${sig.toString('base64url')}`;
    }
    default:
      return new CompactSign(payload).setProtectedHeader({ alg: 'PS256', typ: 'JWT' }).sign(privateKey);
  }
}
