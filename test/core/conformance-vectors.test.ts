/**
 * The conformance vectors of the Go and Python ports (test/vectors/, written by scripts/generate-vectors.mjs) still say
 * what the TypeScript implementation says: every token, key, AWS error and emulator scenario is judged again here, by
 * the same functions the generator used (scripts/vector-verdicts.mjs) over src/, and must get the verdict recorded for
 * it; the retry policy and Amazon's roots must equal the library's and Node's, and every sampled delay must be what
 * backoffDelay returns; and the generator must still produce exactly the committed cases (so a new forgery in the
 * generator cannot go uncommitted).
 */
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { rootCertificates } from 'node:tls';
import { describe, expect, it } from 'vitest';
import * as root from '../../src/index.js';
import type { RetryPolicy } from '../../src/aws/index.js';
import { classifyMeteringError } from '../../src/metering/errors.js';
import { backoffDelay, DEFAULT_DEADLINE_MS, DEFAULT_RETRY_POLICY } from '../../src/aws/retry.js';
import * as emulator from '../../src/emulator/index.js';

/** What the verdicts judge with, as scripts/generate-vectors.mjs: the root, the emulator, the error classification. */
const library = { ...root, ...emulator, classifyMeteringError };
import {
  awsErrorVerdict,
  keyVerdict,
  registrationVerdict,
  scenarioVerdict,
  type Verdict,
} from '../../scripts/vector-verdicts.mjs';

const vectors = (file: string) => JSON.parse(readFileSync(new URL(`../vectors/${file}`, import.meta.url), 'utf8'));

interface RegistrationCase {
  name: string;
  key: string;
  token: string;
  sent: { productCode: string; publicKeyVersion: number; nonce: string };
  options: { clockToleranceSec?: number; maxTokenAgeSec?: number };
  expect: Verdict;
}

describe('test/vectors/registration.json', () => {
  const { now, keys, cases } = vectors('registration.json') as {
    now: number;
    keys: Record<string, string>;
    cases: RegistrationCase[];
  };

  it('holds valid answers and every kind of refusal', () => {
    const codes = new Set(cases.map((c) => (c.expect.valid ? 'VALID' : c.expect.code)));
    for (const code of [
      'VALID',
      'TOKEN_MALFORMED',
      'ALGORITHM_NOT_ALLOWED',
      'SIGNATURE_INVALID',
      'NONCE_MISMATCH',
      'PRODUCT_CODE_MISMATCH',
      'PUBLIC_KEY_VERSION_MISMATCH',
      'IAT_IN_FUTURE',
      'TOKEN_TOO_OLD',
      'IAT_MISSING',
      'REFUSED_PUBLIC_KEY',
    ]) {
      expect(codes).toContain(code);
    }
  });

  it.each(cases.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const options = { publicKey: keys[c.key]!, ...c.sent, ...c.options, now: new Date(now * 1000) };
    expect(await registrationVerdict(library, c.token, options)).toEqual(c.expect);
  });
});

describe('test/vectors/keys.json', () => {
  const { cases } = vectors('keys.json') as { cases: { name: string; pem: string; expect: Verdict }[] };

  it.each(cases.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    expect(await keyVerdict(library, c.pem)).toEqual(c.expect);
  });
});

describe('test/vectors/aws-errors.json', () => {
  const { cases } = vectors('aws-errors.json') as {
    cases: { name: string; status: number; expect: Record<string, unknown> }[];
  };

  it.each(cases.map((c) => [`${c.name} (HTTP ${c.status})`, c] as const))('%s', (_label, c) => {
    expect(awsErrorVerdict(library, c.name, c.status)).toEqual(c.expect);
  });
});

describe('test/vectors/emulator-scenarios.json', () => {
  const { cases } = vectors('emulator-scenarios.json') as {
    cases: { name: string; scenario: Record<string, unknown>; expect: Verdict }[];
  };

  it.each(cases.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    expect(await scenarioVerdict(library, c.scenario)).toEqual({ verdict: c.expect, calls: 1 });
  });
});

describe('test/vectors/retry-policy.json', () => {
  const { description, samples, ...constants } = vectors('retry-policy.json') as {
    description: string;
    samples: { failures: number; random: number; policy?: RetryPolicy; delayMs: number }[];
  } & RetryPolicy & { deadlineMs: number };

  it('is the library policy, described as backoffDelay computes it', () => {
    expect(description).toContain('floor(window - spread) + floor(random * spread)');
    expect(constants).toEqual({ ...DEFAULT_RETRY_POLICY, deadlineMs: DEFAULT_DEADLINE_MS });
  });

  it('samples are what backoffDelay returns', () => {
    expect(samples.length).toBeGreaterThan(100);
    for (const { failures, random, policy, delayMs } of samples) {
      expect({
        failures,
        random,
        policy,
        delayMs: backoffDelay(failures, policy ?? DEFAULT_RETRY_POLICY, () => random),
      }).toEqual({
        failures,
        random,
        policy,
        delayMs,
      });
    }
  });

  it('samples the policy before issue 25, where the delay is floor(random * min(30 s, 1 s * 2^(failures - 1)))', () => {
    const before = samples.filter(
      (s) => s.policy?.doublingLimitMs === 30_000 && s.policy.maxJitterMs === 30_000 && s.policy.maxDelayMs === 30_000,
    );
    expect(before.length).toBeGreaterThan(10);
    for (const { failures, random, delayMs } of before) {
      expect(delayMs).toBe(Math.floor(random * Math.min(30_000, 1_000 * 2 ** (failures - 1))));
    }
  });

  it('samples the default policy at draws near 0 and 1 and far past the cap', () => {
    const defaults = samples.filter((s) => s.policy === undefined);
    expect(defaults.some((s) => s.random === 0) && defaults.some((s) => s.random === 1 - 2 ** -53)).toBe(true);
    expect(Math.max(...defaults.map((s) => s.failures))).toBe(Number.MAX_SAFE_INTEGER);
  });
});

it("test/vectors/amazon-roots.json holds Amazon's roots exactly as Node bundles them", () => {
  const { roots } = vectors('amazon-roots.json') as { roots: { subject: string; sha256: string; pem: string }[] };
  expect(roots.map((r) => r.subject)).toEqual([
    'Amazon Root CA 1',
    'Amazon Root CA 2',
    'Amazon Root CA 3',
    'Amazon Root CA 4',
    'Starfield Services Root Certificate Authority - G2',
  ]);
  for (const root of roots) {
    expect(rootCertificates.map((pem) => `${pem.trim()}\n`)).toContain(root.pem);
    const certificate = new X509Certificate(root.pem);
    expect(certificate.subject.split('\n')).toContain(`CN=${root.subject}`);
    expect(certificate.fingerprint256).toBe(root.sha256);
    expect(certificate.ca).toBe(true);
  }
});

it('the generator still writes exactly the committed cases', () => {
  const generated = execFileSync(process.execPath, ['scripts/generate-vectors.mjs', '--names'], { encoding: 'utf8' })
    .trim()
    .split('\n');
  const committed = [
    ...vectors('registration.json').cases.map((c: { name: string }) => `registration.json\t${c.name}`),
    ...vectors('keys.json').cases.map((c: { name: string }) => `keys.json\t${c.name}`),
    ...vectors('aws-errors.json').cases.map(
      (c: { name: string; status: number }) => `aws-errors.json\t${c.name} ${c.status}`,
    ),
    ...vectors('emulator-scenarios.json').cases.map((c: { name: string }) => `emulator-scenarios.json\t${c.name}`),
    ...vectors('amazon-roots.json').roots.map((r: { subject: string }) => `amazon-roots.json\t${r.subject}`),
  ];
  expect(generated).toEqual(committed);
});
