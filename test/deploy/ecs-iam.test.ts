/**
 * ecs/ task definitions (what each variant promises: init container non-essential with the app waiting for its
 * SUCCESS, or a sidecar the app waits on to be HEALTHY; shared volume; task role; health checks) and iam/ policies
 * (least privilege, trust policies scoped to one service account / this account's ECS tasks). The type check as
 * RegisterTaskDefinitionCommandInput is in typecheck.test.ts.
 */
import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { LICENSE_MANAGER_ACTIONS } from '../../src/license/errors.js';
import { CONTRACT, type Doc, path, readJson } from './helpers.js';

const init = readJson('ecs/task-definition.json');
const sidecar = readJson('ecs/task-definition-sidecar.json');
const contract = readJson('ecs/task-definition-contract.json');
const byName = (td: Doc, name: string): Doc => {
  const c = td.containerDefinitions.find((x: Doc) => x.name === name);
  if (!c) throw new Error(`no container ${name} in ${td.family}`);
  return c;
};
const envOf = (c: Doc) => Object.fromEntries((c.environment ?? []).map((e: Doc) => [e.name, e.value]));
const ROLE_ARN = /^arn:aws:iam::\d{12}:role\/[\w+=,.@-]+$/;

describe.each([
  ['ecs/task-definition.json', init],
  ['ecs/task-definition-sidecar.json', sidecar],
])('%s', (_file, td) => {
  it('is a Fargate task with a task role (RegisterUsage credentials) and an execution role (image pull, logs)', () => {
    expect(td.requiresCompatibilities).toEqual(['FARGATE']);
    expect(td.networkMode).toBe('awsvpc');
    expect(td.taskRoleArn).toMatch(ROLE_ARN);
    expect(td.executionRoleArn).toMatch(ROLE_ARN);
    expect(td.taskRoleArn).not.toBe(td.executionRoleArn);
  });

  it('shares one task volume at the CLI output directory: writable for ours, read-only for the app', () => {
    expect(td.volumes).toHaveLength(1);
    const volume = td.volumes[0].name;
    const ours = byName(td, 'marketplace-entitlement');
    const app = byName(td, 'app');
    expect(ours.mountPoints).toEqual([{ sourceVolume: volume, containerPath: CONTRACT.outDir, readOnly: false }]);
    expect(app.mountPoints).toEqual([{ sourceVolume: volume, containerPath: CONTRACT.outDir, readOnly: true }]);
  });

  it('hardens every container (read-only root filesystem, all capabilities dropped) and runs ours as the image user', () => {
    for (const c of td.containerDefinitions) {
      expect(c.readonlyRootFilesystem, c.name).toBe(true);
      expect(c.linuxParameters?.capabilities?.drop, c.name).toEqual(['ALL']);
      expect(c.privileged ?? false, c.name).toBe(false);
    }
    expect(byName(td, 'marketplace-entitlement').user).toBe(`${CONTRACT.uid}:${CONTRACT.uid}`);
  });

  it('configures the product code and key in our container, and never credentials or a region', () => {
    const ours = envOf(byName(td, 'marketplace-entitlement'));
    expect(Object.keys(ours)).toEqual(expect.arrayContaining(['MARKETPLACE_PRODUCT_CODE', 'MARKETPLACE_PUBLIC_KEY']));
    for (const c of td.containerDefinitions) {
      const names = Object.keys(envOf(c));
      expect(
        names.filter((n) => /^AWS_(ACCESS_KEY_ID|SECRET_ACCESS_KEY|SESSION_TOKEN|REGION|DEFAULT_REGION)$/.test(n)),
        c.name,
      ).toEqual([]);
      expect(
        names.filter((n) => /^MARKETPLACE_(REGION|ENDPOINT)$/.test(n)),
        `${c.name}: the Region comes from Fargate, the endpoint from it`,
      ).toEqual([]);
    }
  });

  it('sends logs to CloudWatch without needing logs:CreateLogGroup on the execution role', () => {
    for (const c of td.containerDefinitions) {
      expect(c.logConfiguration?.logDriver, c.name).toBe('awslogs');
      expect(c.logConfiguration?.options?.['awslogs-create-group'], c.name).toBeUndefined();
    }
  });

  it('fits the task size: container memory limits sum to at most the task memory', () => {
    const sum = td.containerDefinitions.reduce((n: number, c: Doc) => n + (c.memory ?? c.memoryReservation ?? 0), 0);
    expect(sum).toBeLessThanOrEqual(Number(td.memory));
  });
});

describe.each([
  ['ecs/task-definition.json', init],
  ['ecs/task-definition-sidecar.json', sidecar],
  ['ecs/task-definition-contract.json', contract],
])('%s: runtimePlatform', (_file, td) => {
  it('pins Linux and one CPU architecture the image index has (X86_64 here; ARM64 for Graviton)', () => {
    expect(td.runtimePlatform.operatingSystemFamily).toBe('LINUX');
    expect(['X86_64', 'ARM64']).toContain(td.runtimePlatform.cpuArchitecture);
  });
});

describe('ecs/task-definition.json: init container + exec check', () => {
  const ours = byName(init, 'marketplace-entitlement');
  const app = byName(init, 'app');

  it('runs `register` in a non-essential container that exits', () => {
    expect(ours.essential).toBe(false);
    expect(ours.command).toEqual(['register']);
    expect(ours.healthCheck, 'a container that exits needs no health check').toBeUndefined();
  });

  it('starts the app only after register exited 0 (dependsOn SUCCESS)', () => {
    expect(app.essential).toBe(true);
    expect(app.dependsOn).toEqual([{ containerName: 'marketplace-entitlement', condition: 'SUCCESS' }]);
  });

  it('health-checks the app with `check` from the CLI copied into the app image', () => {
    expect(app.healthCheck.command).toEqual(['CMD', ...CONTRACT.cli, 'check']);
    expect(app.healthCheck.retries).toBeGreaterThanOrEqual(3);
    expect(envOf(app).MARKETPLACE_PRODUCT_CODE).toBe(envOf(ours).MARKETPLACE_PRODUCT_CODE);
    expect(envOf(app).MARKETPLACE_PUBLIC_KEY).toBe(envOf(ours).MARKETPLACE_PUBLIC_KEY);
    expect(envOf(app).MARKETPLACE_ENTITLEMENT_FILE).toBe(CONTRACT.outFile);
  });
});

describe('ecs/task-definition-sidecar.json: serve + HEALTHY dependency', () => {
  const ours = byName(sidecar, 'marketplace-entitlement');
  const app = byName(sidecar, 'app');

  it('runs `serve` as an essential sidecar with a health check over the file it writes', () => {
    expect(ours.essential).toBe(true);
    expect(ours.command[0]).toBe('serve');
    expect(ours.healthCheck.command).toEqual(['CMD', ...CONTRACT.cli, 'check']);
    expect(ours.healthCheck.startPeriod, 'register may retry while the start period runs; 300 s is the maximum').toBe(
      300,
    );
  });

  it('starts the app only once the sidecar is HEALTHY, and needs nothing in the app image', () => {
    expect(app.dependsOn).toEqual([{ containerName: 'marketplace-entitlement', condition: 'HEALTHY' }]);
    expect(app.healthCheck).toBeUndefined();
    expect(Object.keys(envOf(app)).filter((n) => n.startsWith('MARKETPLACE_PUBLIC_KEY'))).toEqual([]);
  });
});

describe('ecs/task-definition-contract.json: serve --pricing contract + HEALTHY dependency', () => {
  const ours = byName(contract, 'marketplace-entitlement');
  const app = byName(contract, 'app');

  it('is a hardened Fargate task with a task role, like the others', () => {
    expect(contract.requiresCompatibilities).toEqual(['FARGATE']);
    expect(contract.taskRoleArn).toMatch(ROLE_ARN);
    for (const c of contract.containerDefinitions) {
      expect(c.readonlyRootFilesystem, c.name).toBe(true);
      expect(c.linuxParameters?.capabilities?.drop, c.name).toEqual(['ALL']);
    }
    expect(ours.user).toBe(`${CONTRACT.uid}:${CONTRACT.uid}`);
  });

  it('runs `serve` configured for contract pricing, with no key, no Region and no credentials', () => {
    expect(ours.essential).toBe(true);
    expect(ours.command[0]).toBe('serve');
    const env = envOf(ours);
    expect(env).toMatchObject({
      MARKETPLACE_PRICING: 'contract',
      MARKETPLACE_PRODUCT_SKU: expect.any(String),
      MARKETPLACE_ENTITLEMENT: expect.stringMatching(/^[^:,]+:[A-Za-z/]+/),
    });
    for (const c of contract.containerDefinitions) {
      expect(
        Object.keys(envOf(c)).filter((n) => /^(AWS_|MARKETPLACE_(PUBLIC_KEY|REGION|ENDPOINT))/.test(n)),
        c.name,
      ).toEqual([]);
    }
  });

  it('health-checks /healthz on the port serve listens on (no file to `check`), and gives serve time to check in', () => {
    const port = ours.command[ours.command.indexOf('--port') + 1];
    expect(ours.healthCheck.command.join(' ')).toContain(`http://127.0.0.1:${port}/healthz`);
    expect(ours.healthCheck.command[1]).toBe(CONTRACT.cli[0]);
    expect(ours.stopTimeout).toBeGreaterThanOrEqual(30);
  });

  it('starts the app only once the sidecar is HEALTHY; the app mounts nothing of ours', () => {
    expect(app.dependsOn).toEqual([{ containerName: 'marketplace-entitlement', condition: 'HEALTHY' }]);
    expect(app.mountPoints ?? []).toEqual([]);
  });
});

describe('iam/', () => {
  const statements = (file: string): Doc[] => readJson(`iam/${file}`).Statement;

  it('holds exactly the documented policy files, all valid policy documents', () => {
    const files = readdirSync(path('iam')).sort();
    expect(files).toEqual([
      'contract-policy.json',
      'ecs-task-trust-policy.json',
      'irsa-trust-policy.json',
      'register-and-meter-usage-policy.json',
      'register-usage-policy.json',
    ]);
    for (const f of files) {
      const doc = readJson(`iam/${f}`);
      expect(doc.Version, f).toBe('2012-10-17');
      expect(doc.Statement.length, f).toBeGreaterThan(0);
      for (const s of doc.Statement) expect(s.Effect, f).toBe('Allow');
    }
  });

  it('register-usage-policy.json allows aws-marketplace:RegisterUsage and nothing else (least privilege)', () => {
    const s = statements('register-usage-policy.json');
    expect(s.flatMap((x) => [x.Action].flat())).toEqual(['aws-marketplace:RegisterUsage']);
    // RegisterUsage supports no resource-level permissions: "*" is the only possible resource.
    expect(s.map((x) => x.Resource)).toEqual(['*']);
  });

  it('register-and-meter-usage-policy.json adds only aws-marketplace:MeterUsage (for products that meter usage)', () => {
    const actions = statements('register-and-meter-usage-policy.json')
      .flatMap((x) => [x.Action].flat())
      .sort();
    expect(actions).toEqual(['aws-marketplace:MeterUsage', 'aws-marketplace:RegisterUsage']);
  });

  it('contract-policy.json allows exactly the License Manager actions the library names in its AccessDenied message', () => {
    const actions = statements('contract-policy.json')
      .flatMap((x) => [x.Action].flat())
      .sort();
    expect(actions).toEqual([...LICENSE_MANAGER_ACTIONS].sort());
    expect(statements('contract-policy.json').map((x) => x.Resource)).toEqual(['*']);
  });

  it('no policy grants a wildcard action or any NotAction', () => {
    for (const f of ['register-usage-policy.json', 'register-and-meter-usage-policy.json', 'contract-policy.json']) {
      for (const s of statements(f)) {
        expect(
          [s.Action].flat().some((a: string) => a.includes('*')),
          f,
        ).toBe(false);
        expect(s.NotAction, f).toBeUndefined();
      }
    }
  });

  it('irsa-trust-policy.json trusts only the cluster OIDC provider, for one service account, audience sts', () => {
    const [s, ...rest] = statements('irsa-trust-policy.json');
    expect(rest).toEqual([]);
    expect(s!.Action).toBe('sts:AssumeRoleWithWebIdentity');
    const provider: string = s!.Principal.Federated;
    expect(provider).toMatch(
      /^arn:aws:iam::\d{12}:oidc-provider\/oidc\.eks\.[a-z0-9-]+\.amazonaws\.com\/id\/[A-Z0-9]+$/,
    );
    const issuer = provider.split(':oidc-provider/')[1];
    expect(s!.Condition.StringEquals).toEqual({
      [`${issuer}:sub`]: expect.stringMatching(/^system:serviceaccount:[a-z0-9-]+:[a-z0-9-]+$/),
      [`${issuer}:aud`]: 'sts.amazonaws.com',
    });
  });

  it('ecs-task-trust-policy.json trusts ecs-tasks.amazonaws.com for this account only (confused-deputy guard)', () => {
    const [s, ...rest] = statements('ecs-task-trust-policy.json');
    expect(rest).toEqual([]);
    expect(s!.Principal).toEqual({ Service: 'ecs-tasks.amazonaws.com' });
    expect(s!.Action).toBe('sts:AssumeRole');
    const account = s!.Condition.StringEquals['aws:SourceAccount'];
    expect(account).toMatch(/^\d{12}$/);
    expect(s!.Condition.ArnLike['aws:SourceArn']).toMatch(new RegExp(`^arn:aws:ecs:[a-z0-9-]+:${account}:\\*$`));
    expect(init.taskRoleArn.split(':')[4]).toBe(account);
  });
});
