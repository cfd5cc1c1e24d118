/**
 * The host names the AWS SDK computes for the services we call, in a Region: what a client in production
 * resolves and checks the server certificate against. The emulator serves under them (with a certificate from a
 * run's own CA) so the shipped artifacts run unmodified, with no endpoint setting.
 *
 * The SDK builds `{service}.{region}.{dnsSuffix}` from its partition table (checked against the SDK's own endpoint
 * rules by test/core/aws-host-names.test.ts): `amazonaws.com` for the commercial (aws) and GovCloud (aws-us-gov)
 * partitions, `amazonaws.com.cn` for China (aws-cn). Other partitions are refused: the European Sovereign Cloud's
 * Metering name is not of this form (`metering-marketplace.eusc-de-east-1.amazonaws.eu`), the isolated ones are
 * out of scope.
 * STS is regional (`sts.us-east-1.amazonaws.com`, not the legacy global `sts.amazonaws.com`): the SDK's default.
 *
 * @example
 * awsHostNames('us-east-1').metering; // "metering.marketplace.us-east-1.amazonaws.com"
 * awsHostNames('cn-north-1').licenseManager; // "license-manager.cn-north-1.amazonaws.com.cn"
 */

/** The AWS host names of one Region. */
export interface AwsHostNames {
  /** AWS Marketplace Metering Service, e.g. `metering.marketplace.us-east-1.amazonaws.com`. */
  metering: string;
  /** AWS License Manager, e.g. `license-manager.us-east-1.amazonaws.com`. */
  licenseManager: string;
  /** AWS STS (regional), e.g. `sts.us-east-1.amazonaws.com`: where IRSA's AssumeRoleWithWebIdentity goes. */
  sts: string;
  /** All three, in that order: the names a server certificate and a hosts file need. */
  all: string[];
}

/** The SDK's partitions (regionRegex and dnsSuffix), commercial last: its pattern is the loosest. */
const PARTITIONS: ReadonlyArray<{ regionPattern: RegExp; dnsSuffix: string }> = [
  { regionPattern: /^cn-\w+-\d+$/, dnsSuffix: 'amazonaws.com.cn' },
  { regionPattern: /^us-gov-\w+-\d+$/, dnsSuffix: 'amazonaws.com' },
  { regionPattern: /^(us|eu|ap|sa|ca|me|af|il|mx)-\w+-\d+$/, dnsSuffix: 'amazonaws.com' },
];

/**
 * The Metering, License Manager and STS host names the AWS SDK uses in `region`; throws for a string that is not a
 * Region.
 */
export function awsHostNames(region: string): AwsHostNames {
  const partition = PARTITIONS.find(({ regionPattern }) => regionPattern.test(region));
  if (!partition) {
    throw new Error(
      `${JSON.stringify(region)} is not an AWS Region of the commercial, China or GovCloud partitions, e.g. ` +
        'us-east-1, cn-north-1, us-gov-west-1.',
    );
  }
  const metering = `metering.marketplace.${region}.${partition.dnsSuffix}`;
  const licenseManager = `license-manager.${region}.${partition.dnsSuffix}`;
  const sts = `sts.${region}.${partition.dnsSuffix}`;
  return { metering, licenseManager, sts, all: [metering, licenseManager, sts] };
}
