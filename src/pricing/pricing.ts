/**
 * How a long-running process (the `serve` sidecar, the `run` wrapper) obtains and holds entitlement for each
 * AWS Marketplace pricing model (docs/pricing-models.md):
 *
 * - `hourly` (default): RegisterUsage from this process, verified, and the signed entitlement file it writes;
 * - `custom`: a MeterUsage dry run for the product's first dimension; no public key, no file (nothing signed);
 * - `contract`: an AWS License Manager checkout held as a lease for the life of the process (extended, rechecked,
 *   checked in by `close()`); no file, since Marketplace licences' `SignedToken` has no documented public key.
 *
 * Each model's modules (and AWS client) load only when it is used, so option tables may import this module.
 *
 * @example
 * const held = await holdEntitlement({
 *   pricing: 'contract',
 *   productSku,
 *   entitlements: [{ name: 'Users', unit: 'Count', value: '1' }]
 * });
 * held.onLost((status) => console.error(status.reason));
 * await held.close(); // checks the licence in
 */
import { resolve } from 'node:path';
import { ENTITLEMENT_FILE_ENV } from '../entitlement-file/entitlement-file-path.js';
import type { AcquireLicenseOptions, Lease, LeaseStatus } from '../license/lease.js';
import type { MeteringCallOptions } from '../metering/call.js';
import type { Metric } from '../gates/prometheus.js';
import type { EnsureEntitledOptions } from '../registration/types.js';
import type { ProcessGuardOptions } from '../hardening/integrity.js';

/** AWS Marketplace's pricing models for container products. */
export const PRICING_MODELS = ['hourly', 'custom', 'contract'] as const;
export type PricingModel = (typeof PRICING_MODELS)[number];

/** Hourly: RegisterUsage and the entitlement file. */
export interface HourlyPricing extends EnsureEntitledOptions {
  pricing?: 'hourly';
  entitlementFile: string;
}

/** Custom metering: the MeterUsage dry run for `dimension`. */
export interface CustomPricing extends MeteringCallOptions, Omit<ProcessGuardOptions, 'env'> {
  pricing: 'custom';
  productCode: string;
  dimension: string;
}

/** Contract: the License Manager lease. */
export interface ContractPricing extends AcquireLicenseOptions {
  pricing: 'contract';
}

export type PricingOptions = HourlyPricing | CustomPricing | ContractPricing;

/** What `/healthz`, `/entitlement` and a lease report; the gate's shape plus model-specific fields. */
export interface HeldStatus {
  entitled: boolean;
  reason?: string;
  code?: string;
  pricing: PricingModel;
  [field: string]: unknown;
}

export interface HeldEntitlement {
  readonly pricing: PricingModel;
  status(): HeldStatus;
  /** Prometheus metrics particular to the model (the lease's state, expiry and renewals). */
  metrics(): Metric[];
  /** One line for people: what was obtained. */
  readonly summary: string;
  /** What a wrapped program is told (the entitlement file's path, the licence ARN). */
  readonly env: Record<string, string>;
  /** Called once if the entitlement is lost while held (contract only: expiry, cancellation). */
  onLost(listener: (status: HeldStatus) => void): void;
  /** Gives the entitlement back (checks a floating licence in). Idempotent. */
  close(): Promise<void>;
}

/** Obtains entitlement for the model in `options.pricing` (hourly by default); throws the typed errors otherwise. */
export async function holdEntitlement(options: PricingOptions): Promise<HeldEntitlement> {
  if (options.pricing === 'contract') return holdLicense(options);
  if (options.pricing === 'custom') return holdMeteringCheck(options);
  const { ensureEntitlementFile } = await import('../entitlement-file/ensure-entitlement-file.js');
  // Never a file from before this process: serve and run register at every start (docs/threat-model.md).
  const outcome = await ensureEntitlementFile({ ...options, reuseExistingFile: false });
  const status: HeldStatus = {
    entitled: true,
    pricing: 'hourly',
    productCode: outcome.claims.productCode,
    registeredAt: outcome.claims.registeredAt.toISOString(),
  };
  return {
    pricing: 'hourly',
    status: () => status,
    metrics: () => [],
    summary: `product ${outcome.claims.productCode} registered at ${outcome.claims.registeredAt.toISOString()}`,
    env: { [ENTITLEMENT_FILE_ENV]: resolve(options.entitlementFile) },
    onLost: () => undefined,
    close: async () => undefined,
  };
}

async function holdMeteringCheck(options: CustomPricing): Promise<HeldEntitlement> {
  const { ensureMeteringEntitled } = await import('../metering/custom-entitlement.js');
  const checked = await ensureMeteringEntitled(options);
  const status: HeldStatus = {
    entitled: true,
    pricing: 'custom',
    productCode: checked.productCode,
    dimension: checked.dimension,
    checkedAt: checked.checkedAt.toISOString(),
  };
  return {
    pricing: 'custom',
    status: () => status,
    metrics: () => [],
    summary: `product ${checked.productCode}: MeterUsage dry run for ${checked.dimension} permitted`,
    env: {},
    onLost: () => undefined,
    close: async () => undefined,
  };
}

async function holdLicense(options: ContractPricing): Promise<HeldEntitlement> {
  const { acquireLicense } = await import('../license/lease.js');
  const lease = await acquireLicense(options);
  const statusOf = (s: LeaseStatus): HeldStatus => ({ ...s, pricing: 'contract' });
  return {
    pricing: 'contract',
    status: () => statusOf(lease.status()),
    metrics: () => leaseMetrics(lease),
    summary:
      `licence ${lease.licenseArn} checked out ` +
      `(${lease.checkoutType}: ${lease.entitlementsAllowed.map((e) => e.name).join(', ')})` +
      `${lease.expiration ? `, held until ${lease.expiration.toISOString()} and extended` : ''}`,
    env: { MARKETPLACE_LICENSE_ARN: lease.licenseArn },
    onLost: (listener) => void lease.on('lost', (s) => listener(statusOf(s))),
    close: () => lease.close(),
  };
}

function leaseMetrics(lease: Lease): Metric[] {
  const status = lease.status();
  const state = !status.entitled
    ? status.code === 'LEASE_CLOSED'
      ? 'closed'
      : 'lost'
    : status.degradedSince
      ? 'degraded'
      : 'held';
  const seconds = (iso: string | undefined) => (iso ? Date.parse(iso) / 1000 : 0);
  return [
    {
      name: 'marketplace_entitlement_license_state',
      help:
        'The contract licence lease: 1 for its current state ' +
        '(held, degraded within the grace period, lost, closed).',
      type: 'gauge',
      samples: ['held', 'degraded', 'lost', 'closed'].map((s) => ({
        labels: { state: s },
        value: s === state ? 1 : 0,
      })),
    },
    {
      name: 'marketplace_entitlement_license_expiration_timestamp_seconds',
      help: 'When the current checkout expires unless extended (0 when AWS gave no time).',
      type: 'gauge',
      samples: [{ value: seconds(status.expiration) }],
    },
    {
      name: 'marketplace_entitlement_license_validity_end_timestamp_seconds',
      help: "When the contract's licence ends, from the last GetLicense (0 before it).",
      type: 'gauge',
      samples: [{ value: seconds(status.validityEnd) }],
    },
    {
      name: 'marketplace_entitlement_license_extensions_total',
      help: 'Checkout extensions (ExtendLicenseConsumption) made.',
      type: 'counter',
      samples: [{ value: status.extensions }],
    },
    {
      name: 'marketplace_entitlement_license_rechecks_total',
      help: 'Licence rechecks (GetLicense) made.',
      type: 'counter',
      samples: [{ value: status.rechecks }],
    },
  ];
}
