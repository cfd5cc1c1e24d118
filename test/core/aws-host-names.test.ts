/**
 * The host names the emulator serves under are the ones the AWS SDK itself computes: checked against the SDK's
 * own endpoint rules (the clients' `endpointProvider`) for a Region of each partition, so an SDK change that moves
 * a service shows up here.
 */
import { LicenseManagerClient } from '@aws-sdk/client-license-manager';
import { MarketplaceMeteringClient } from '@aws-sdk/client-marketplace-metering';
// The STS client the SDK's credential chain itself uses for IRSA (AssumeRoleWithWebIdentity).
import { STSClient } from '@aws-sdk/nested-clients/sts';
import { describe, expect, it } from 'vitest';
import { awsHostNames } from '../../src/emulator/aws-host-names.js';

const REGIONS = [
  'us-east-1',
  'eu-west-1',
  'ap-southeast-2',
  'cn-north-1',
  'cn-northwest-1',
  'us-gov-west-1',
  'us-gov-east-1',
];

/** The host the SDK's endpoint rules give for `region` (no FIPS, no dual stack, STS regional: the SDK defaults). */
function sdkHost(
  client: {
    config: {
      endpointProvider: (params: {
        Region: string;
        UseFIPS: boolean;
        UseDualStack: boolean;
        UseGlobalEndpoint: boolean;
      }) => { url: URL };
    };
  },
  region: string,
): string {
  return client.config.endpointProvider({
    Region: region,
    UseFIPS: false,
    UseDualStack: false,
    UseGlobalEndpoint: false,
  }).url.host;
}

describe('awsHostNames', () => {
  it.each(REGIONS)('%s: the names the SDK computes for Metering, License Manager and STS', (region) => {
    const names = awsHostNames(region);

    expect(names.metering).toBe(sdkHost(new MarketplaceMeteringClient({ region }), region));
    expect(names.licenseManager).toBe(sdkHost(new LicenseManagerClient({ region }), region));
    expect(names.sts).toBe(sdkHost(new STSClient({ region }), region));
    expect(names.all).toEqual([names.metering, names.licenseManager, names.sts]);
  });

  it('the commercial partition is amazonaws.com, China amazonaws.com.cn', () => {
    expect(awsHostNames('us-east-1').all).toEqual([
      'metering.marketplace.us-east-1.amazonaws.com',
      'license-manager.us-east-1.amazonaws.com',
      'sts.us-east-1.amazonaws.com',
    ]);
    expect(awsHostNames('cn-north-1').metering).toBe('metering.marketplace.cn-north-1.amazonaws.com.cn');
  });

  it('the European Sovereign Cloud, whose Metering name has another form, is refused rather than guessed', () => {
    expect(sdkHost(new MarketplaceMeteringClient({ region: 'eusc-de-east-1' }), 'eusc-de-east-1')).toBe(
      'metering-marketplace.eusc-de-east-1.amazonaws.eu',
    );
    expect(() => awsHostNames('eusc-de-east-1')).toThrow(
      /"eusc-de-east-1" is not an AWS Region of the commercial, China or GovCloud partitions/,
    );
  });

  it.each(['', 'us-east1', 'US-EAST-1', 'us-east-1.evil.example', 'localhost'])(
    '%j is not a Region: a clear error',
    (region) => {
      expect(() => awsHostNames(region)).toThrow(/is not an AWS Region .* e\.g\. us-east-1/);
    },
  );
});
