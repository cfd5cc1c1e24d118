/// <reference types="node" preserve="true" />
/**
 * marketplace-entitlement/gates: serving only while entitled (docs/gate.md). The in-process gate a readiness probe
 * asks, the `serve` sidecar (health, `/metrics`, the usage endpoint), the `run --` wrapper, and the Prometheus text
 * format they share.
 *
 * @example
 * import { createServer } from 'node:http';
 * import { createEntitlementGate } from 'marketplace-entitlement/gates';
 * const gate = createEntitlementGate({ publicKey: productPublicKeyPem, productCode: 'abc123example' });
 * createServer(gate.handler).listen(8081); // readinessProbe: httpGet :8081/
 */
export { createEntitlementGate } from './gate.js';
export type { EntitlementGate, EntitlementGateOptions, EntitlementGateStatus, EntitlementGateStats } from './gate.js';
export { serveEntitlement } from './serve.js';
export type { ServeEntitlementOptions, EntitlementService } from './serve.js';
export { runEntitled, FORWARDED_SIGNALS } from './run-entitled.js';
export type { RunEntitledOptions } from './run-entitled.js';
export { formatMetrics, PROMETHEUS_CONTENT_TYPE } from './prometheus.js';
export type { Metric } from './prometheus.js';
