import { afterEach, describe, expect, it } from 'vitest';
import { ConfigurationError, NotEntitledError, VerificationError } from '../../src/errors.js';
import {
  acquireLicense,
  AWS_MARKETPLACE_KEY_FINGERPRINT,
  type Lease,
  type LeaseStatus,
} from '../../src/license/index.js';
import {
  contract,
  licenseOptions,
  recordingLogger,
  rejectionOf,
  TEST_SKU,
  useEmulator,
  USERS,
  withEmulator,
} from '../support/index.js';

const emulator = useEmulator();
const leases: Lease[] = [];
afterEach(async () => {
  await Promise.all(leases.splice(0).map((lease) => lease.close()));
});

async function acquire(overrides: Parameters<typeof licenseOptions>[1] = {}): Promise<Lease> {
  const lease = await acquireLicense(licenseOptions(emulator(), overrides));
  leases.push(lease);
  return lease;
}

const lm = () => emulator().licenseManager;
const callsOf = (operation: string) => emulator().calls.filter((call) => call.operation === operation);

describe('acquireLicense: contract pricing over AWS License Manager', () => {
  it('checks out a PROVISIONAL unit with AWS Marketplace fingerprint and a ClientToken, and checks it in on close, once', async () => {
    const license = lm().addLicense(contract(1));
    const lease = await acquire();
    expect(lease.licenseArn).toBe(license.licenseArn);
    expect(lease.checkoutType).toBe('PROVISIONAL');
    expect(lease.entitlementsAllowed).toEqual([{ name: 'Users', unit: 'Count', value: '1' }]);
    expect(lease.expiration!.getTime()).toBeGreaterThan(Date.now());
    expect(lease.status()).toMatchObject({ entitled: true, licenseArn: license.licenseArn, productSku: TEST_SKU });
    const [checkout] = callsOf('CheckoutLicense');
    expect(checkout!.input).toMatchObject({
      ProductSKU: TEST_SKU,
      CheckoutType: 'PROVISIONAL',
      KeyFingerprint: AWS_MARKETPLACE_KEY_FINGERPRINT,
    });
    expect(checkout!.input.ClientToken).toMatch(/^[0-9a-f-]{36}$/);
    expect(lm().inUse(license.licenseArn, 'Users')).toBe(1);

    await Promise.all([lease.close(), lease.close()]);
    await lease.close();
    expect(callsOf('CheckInLicense')).toHaveLength(1);
    expect(lm().inUse(license.licenseArn, 'Users')).toBe(0);
    expect(lease.status()).toMatchObject({ entitled: false, code: 'LEASE_CLOSED' });
  });

  it('refuses a partial grant, naming what is missing, and hands the granted unit back', async () => {
    const license = lm().addLicense(contract(5));
    const err = await rejectionOf(
      acquire({ entitlements: [{ ...USERS }, { name: 'Admins', unit: 'Count', value: '1' }] }),
      NotEntitledError,
    );
    expect(err.exitCode).toBe(77);
    expect(err.message).toContain('Admins (Count 1)');
    expect(err.message).toContain('allowed Users (Count 1)');
    expect(callsOf('CheckInLicense')).toHaveLength(1);
    expect(lm().inUse(license.licenseArn, 'Users')).toBe(0);
  });

  it('is not entitled without a licence for the SKU (NoEntitlementsAllowedException, exit 77)', async () => {
    lm().addLicense(contract(1, { productSku: 'another-sku' }));
    const err = await rejectionOf(acquire(), NotEntitledError);
    expect(err.message).toContain('No Entitlements Allowed');
    expect(callsOf('CheckoutLicense')).toHaveLength(1); // final: not retried
  });

  it('a unit name with the wrong unit is not granted (Count vs None)', async () => {
    lm().addLicense(contract(1));
    await rejectionOf(acquire({ entitlements: [{ name: 'Users', unit: 'None' }] }), NotEntitledError);
  });

  it('an exhausted floating pool refuses the next holder until the first checks in', async () => {
    lm().addLicense(contract(1));
    const first = await acquire();
    await rejectionOf(acquire(), NotEntitledError);
    await first.close();
    const second = await acquire();
    expect(second.status().entitled).toBe(true);
  });

  it('PERPETUAL draws down for good: the pool shrinks and close() checks nothing in', async () => {
    const license = lm().addLicense(contract(2));
    const first = await acquire({ checkoutType: 'PERPETUAL' });
    await first.close();
    await acquire({ checkoutType: 'PERPETUAL' });
    await rejectionOf(acquire({ checkoutType: 'PERPETUAL' }), NotEntitledError);
    expect(callsOf('CheckInLicense')).toHaveLength(0);
    expect(lm().inUse(license.licenseArn, 'Users')).toBe(2);
  });

  it('extends a PROVISIONAL checkout before the Expiration AWS returned, however short', async () => {
    lm().scenario.ttlMs = 600;
    lm().addLicense(contract(1));
    const lease = await acquire();
    const first = lease.expiration!.getTime();
    await until(() => lease.status().extensions >= 2);
    expect(lease.expiration!.getTime()).toBeGreaterThan(first);
    expect(lease.status().entitled).toBe(true);
    expect(callsOf('ExtendLicenseConsumption').every((call) => call.statusCode === 200)).toBe(true);
  });

  it('reports a licence that expires mid-run through status() and "lost"', async () => {
    const license = lm().addLicense(contract(1));
    const lease = await acquire({ recheckMs: 100 });
    const lost = nextEvent(lease, 'lost');
    lm().expire(license.licenseArn);
    const status = await lost;
    expect(status).toMatchObject({ entitled: false, code: 'LICENSE_EXPIRED' });
    expect(lease.status()).toMatchObject({ entitled: false, code: 'LICENSE_EXPIRED' });
  });

  it('stays entitled, flagged degraded, for graceMs after the licence is seen lost', async () => {
    const license = lm().addLicense(contract(1));
    const lease = await acquire({ recheckMs: 50, graceMs: 60_000 });
    lm().expire(license.licenseArn);
    await until(() => lease.status().degradedSince !== undefined);
    expect(lease.status()).toMatchObject({ entitled: true, code: 'LICENSE_EXPIRED' });
  });

  it('a licence that can no longer be rechecked is lost after graceMs, a PERPETUAL one too', async () => {
    lm().addLicense(contract(1));
    const lease = await acquire({ checkoutType: 'PERPETUAL', recheckMs: 50, graceMs: 200 });
    const lost = nextEvent(lease, 'lost');
    lm().scenario.error = 'AccessDeniedException'; // e.g. license-manager:GetLicense removed from the role
    expect(await lost).toMatchObject({ entitled: false, code: 'RECHECK_FAILED' });
    expect(lease.status()).toMatchObject({ entitled: false, code: 'RECHECK_FAILED' });
  });

  it('a checkout the service no longer knows (its time-to-live ended) is lost', async () => {
    lm().scenario.ttlMs = 1_000;
    lm().addLicense(contract(1));
    const lease = await acquire();
    lm().advanceClock(5_000); // the emulator's clock passes the time-to-live before the lease extends
    const status = await nextEvent(lease, 'lost');
    expect(status.code).toBe('CHECKOUT_LOST');
  });

  it('takes an upgrade mid-run: a new checkout beside the held one, the old one checked in', async () => {
    const license = lm().addLicense(contract(1));
    const lease = await acquire({ recheckMs: 100 });
    await until(() => lease.status().licenseVersion === '1');
    const firstToken = lease.consumptionToken;
    const changed = nextEvent(lease, 'change');
    lm().upgrade(license.licenseArn, [{ name: 'Users', unit: 'Count', maxCount: 10 }]);
    const status = await changed;
    expect(status).toMatchObject({ entitled: true, licenseVersion: '2' });
    expect(lease.consumptionToken).not.toBe(firstToken);
    expect(lm().inUse(license.licenseArn, 'Users')).toBe(1);
  });

  it('never locks a MaxCount=1 contract out: rechecks do not check out, an upgrade keeps the held unit', async () => {
    const license = lm().addLicense(contract(1));
    const lease = await acquire({ recheckMs: 50 });
    await until(() => lease.status().rechecks >= 3);
    expect(callsOf('CheckoutLicense')).toHaveLength(1);
    const changed = nextEvent(lease, 'change');
    lm().upgrade(license.licenseArn, [{ name: 'Users', unit: 'Count', maxCount: 1 }]);
    await changed;
    expect(lease.status().entitled).toBe(true);
    expect(lm().inUse(license.licenseArn, 'Users')).toBe(1);
  });

  it.each([429, 400] as const)(
    'retries RateLimitExceededException sent as %i, with the same ClientToken',
    async (status) => {
      lm().addLicense(contract(1));
      Object.assign(lm().scenario, { rateLimitFirst: 2, rateLimitStatus: status });
      const lease = await acquire();
      expect(lease.attempts).toBe(3);
      const tokens = new Set(callsOf('CheckoutLicense').map((call) => call.input.ClientToken));
      expect(tokens.size).toBe(1);
      expect(callsOf('CheckoutLicense').map((call) => call.statusCode)).toEqual([status, status, 200]);
    },
  );

  it('waits out its rate limit under the same retry policy as Metering', async () => {
    lm().addLicense(contract(1));
    lm().scenario.rateLimitFirst = 3;
    const logger = recordingLogger();
    // Windows 20, 30, 40 ms; a 1 ms spread makes every draw land on the window's last millisecond.
    const lease = await acquire({
      logger,
      retry: { baseDelayMs: 20, doublingLimitMs: 20, stepDelayMs: 10, maxDelayMs: 40, maxJitterMs: 1 },
    });
    expect(lease.attempts).toBe(4);
    const delays = logger.entries
      .filter((e) => e.fields?.event === 'license.CheckoutLicense.retry')
      .map((e) => e.fields?.delayMs);
    expect(delays).toEqual([19, 29, 39]);
  });

  it('a redirect is a configuration error naming where AWS points', async () => {
    lm().scenario.redirectTo = 'https://license-manager.us-west-2.amazonaws.com';
    const err = await rejectionOf(acquire(), ConfigurationError);
    expect(err.code).toBe('WRONG_REGION');
    expect(err.message).toContain('https://license-manager.us-west-2.amazonaws.com');
  });

  it.each(['AccessDeniedException', 'AuthorizationException'])(
    '%s names the IAM actions to allow (exit 78)',
    async (error) => {
      lm().scenario.error = error;
      const err = await rejectionOf(acquire(), ConfigurationError);
      expect(err).toMatchObject({ code: 'ACCESS_DENIED', exitCode: 78 });
      expect(err.message).toContain('license-manager:CheckoutLicense');
      expect(err.message).toContain('license-manager:ExtendLicenseConsumption');
    },
  );

  it('ValidationException is a configuration error', async () => {
    lm().scenario.error = 'ValidationException';
    expect((await rejectionOf(acquire(), ConfigurationError)).code).toBe('INVALID_LICENSE_REQUEST');
  });

  it('retries a server fault until the deadline, then says AWS was unavailable (exit 69)', async () => {
    // An emulator of its own: an attempt cut off by the deadline may still reach the server after the test.
    await withEmulator(
      { licenses: [contract(1)], licenseManager: { error: 'ServerInternalException' } },
      async (own) => {
        const err = await rejectionOf(acquireLicense(licenseOptions(own, { deadlineMs: 200 })), Error);
        expect(err).toMatchObject({ code: 'DEADLINE_EXCEEDED', exitCode: 69 });
        expect(own.calls.filter((call) => call.operation === 'CheckoutLicense').length).toBeGreaterThan(1);
      },
    );
  });

  it.each([
    [{ entitlements: [] }, 'entitlements must list'],
    [{ entitlements: [{ name: 'Users', unit: 'Seats' }] }, 'not a License Manager unit'],
    [{ entitlements: [{ ...USERS }, { ...USERS }] }, 'listed twice'],
    [{ productSku: ' ' }, 'productSku is required'],
    [{ checkoutType: 'FLOATING' as never }, 'checkoutType'],
    [{ recheckMs: 0 }, 'recheckMs'],
    [{ recheckMs: Number.POSITIVE_INFINITY }, 'recheckMs'],
    [{ graceMs: -1 }, 'graceMs'],
    [{ graceMs: Number.NaN }, 'graceMs'],
    // A Node timer of 2^31 ms or more fires after 1 ms: such a recheck would spin on GetLicense, such a grace end at once.
    [{ recheckMs: 2 ** 31 }, 'recheckMs'],
    [{ graceMs: 2 ** 31 }, 'graceMs'],
    [{ deadlineMs: 0 }, 'deadlineMs'],
    [{ retry: { baseDelayMs: 100, maxDelayMs: 50 } }, 'retry.baseDelayMs'],
  ])('refuses bad options before any call: %j', async (overrides, message) => {
    const err = await rejectionOf(acquire(overrides), ConfigurationError);
    expect(err.message).toContain(message);
    expect(emulator().calls).toHaveLength(0);
  });

  it('aborting the signal checks the unit in', async () => {
    const license = lm().addLicense(contract(1));
    const controller = new AbortController();
    await acquire({ signal: controller.signal });
    controller.abort();
    await until(() => lm().inUse(license.licenseArn, 'Users') === 0);
    expect(callsOf('CheckInLicense')).toHaveLength(1);
  });

  it('refuses an answer that does not match the request (another checkout type), and checks it in', async () => {
    const license = lm().addLicense(contract(1));
    const faithful = lm().handle;
    lm().handle = (operation, input) => {
      const answer = faithful(operation, input) as Record<string, unknown>;
      return operation === 'CheckoutLicense' ? { ...answer, CheckoutType: 'PERPETUAL' } : answer;
    };
    const err = await rejectionOf(acquire(), VerificationError);
    expect(err.code).toBe('LICENSE_ANSWER_MISMATCH');
    expect(lm().inUse(license.licenseArn, 'Users')).toBe(0);
  });
});

/** The status the lease reports with its next `event`. */
function nextEvent(lease: Lease, event: 'change' | 'lost'): Promise<LeaseStatus> {
  return new Promise((resolve) => lease.on(event, resolve));
}

/** Waits until `condition` holds (the lease's timers are real). */
async function until(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
