/**
 * The emulator's RegisterUsage: a real PS256 JWT over {productCode, publicKeyVersion, nonce, iat}, signed
 * with the emulator's RSA key, plus deliberate faults so every verification path can be driven end to end.
 */
import { generateKeyPair, createHmac, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import { CompactSign } from 'jose';
import { validateRegisterUsageInput, type RegisterUsageInput } from '../metering/validation.js';
import { asAwsError } from './metering-operations.js';
import { MODELLED_ERRORS } from './modelled-errors.js';
import { EmulatorServiceError, type OperationContext, type TokenFault } from './types.js';

/** The RegisterUsage errors AWS models, by exception name, with their HTTP status. */
export const REGISTER_USAGE_ERRORS: Readonly<Record<string, number>> = MODELLED_ERRORS.RegisterUsage!;

export const generateRsaKeyPair = (modulusLength = 3072): Promise<{ publicKey: KeyObject; privateKey: KeyObject }> =>
  promisify(generateKeyPair)('rsa', { modulusLength });

let strangerKey: Promise<KeyObject> | undefined;

export async function registerUsage(input: Record<string, unknown>, ctx: OperationContext): Promise<unknown> {
  const { scenario } = ctx;
  const {
    ProductCode: productCode,
    PublicKeyVersion: publicKeyVersion,
    Nonce: nonce,
  } = asAwsError(() => validateRegisterUsageInput(input as unknown as RegisterUsageInput)) as Required<
    Pick<RegisterUsageInput, 'ProductCode' | 'PublicKeyVersion'>
  > & { Nonce?: string };
  if (scenario.productCodes && !scenario.productCodes.includes(productCode)) {
    throw new EmulatorServiceError('InvalidProductCodeException', `Unknown product code ${productCode}`);
  }
  if (scenario.error)
    throw new EmulatorServiceError(
      scenario.error,
      `Emulated ${scenario.error}`,
      REGISTER_USAGE_ERRORS[scenario.error] ?? 400,
    );
  if (!scenario.entitled)
    throw new EmulatorServiceError('CustomerNotEntitledException', 'Customer is not entitled to this product');

  const pascal = scenario.claimSpelling === 'PascalCase';
  const fault = scenario.tokenFault;
  const nowSec = Math.floor(ctx.now().getTime() / 1000);
  const claims: Record<string, unknown> = {
    [pascal ? 'ProductCode' : 'productCode']: fault === 'wrong-product-code' ? `${productCode}-other` : productCode,
    [pascal ? 'PublicKeyVersion' : 'publicKeyVersion']:
      fault === 'wrong-key-version' ? publicKeyVersion + 1 : publicKeyVersion,
    [pascal ? 'Nonce' : 'nonce']: fault === 'wrong-nonce' ? `${nonce ?? ''}x` : nonce,
  };
  const variants = {
    'hour-old': nowSec - 3_600,
    'hour-ahead': nowSec + 3_600,
    milliseconds: ctx.now().getTime(),
    missing: undefined,
  };
  const iat = scenario.tokenIat === undefined ? nowSec : variants[scenario.tokenIat];
  if (iat !== undefined) claims.iat = iat;
  const response: Record<string, unknown> = {
    Signature: await signToken(claims, fault, ctx.privateKey, ctx.publicKeyPem),
  };
  if (scenario.rotationTimestamp)
    response.PublicKeyRotationTimestamp = Math.floor(scenario.rotationTimestamp.getTime() / 1000);
  return response;
}

async function signToken(
  claims: Record<string, unknown>,
  fault: TokenFault | undefined,
  privateKey: KeyObject,
  publicKeyPem: string,
): Promise<string> {
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
