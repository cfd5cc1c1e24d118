/// <reference types="node" preserve="true" />
/**
 * marketplace-entitlement/aws: how every call to AWS is made, as options of every entry point that calls AWS. The
 * retry policy and deadline (`retry`, `deadlineMs`; why this policy: docs/benchmarks.md, "Choosing the policy") and
 * the TLS roots trusted (`tlsRoots`: Amazon's own by default).
 *
 * @example
 * import { ensureEntitled } from 'marketplace-entitlement';
 * import { DEFAULT_RETRY_POLICY } from 'marketplace-entitlement/aws';
 * await ensureEntitled({
 *   productCode: 'abc123example',
 *   publicKey: process.env.PRODUCT_PUBLIC_KEY!,
 *   retry: { ...DEFAULT_RETRY_POLICY, maxDelayMs: 10_000 },
 *   deadlineMs: 5 * 60_000,
 * });
 */
export { DEFAULT_RETRY_POLICY, DEFAULT_DEADLINE_MS } from './retry.js';
export type { RetryPolicy, RetryOptions } from './retry.js';
export { amazonRootCertificates } from './tls-roots.js';
export { DEFAULT_TLS_ROOTS } from './defaults.js';
export type { TlsRoots } from './tls-roots.js';
