/**
 * The issuer fingerprint of every AWS Marketplace licence (AWS Marketplace seller guide, "Contract pricing for
 * container products with AWS License Manager"); kept apart so the emulator can use it without loading the SDK.
 *
 * @example new CheckoutLicenseCommand({ KeyFingerprint: AWS_MARKETPLACE_KEY_FINGERPRINT, ... })
 */
export const AWS_MARKETPLACE_KEY_FINGERPRINT = 'aws:294406891311:AWS/Marketplace:issuer-fingerprint';
