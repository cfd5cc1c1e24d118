/**
 * The emulator as production reaches AWS: over HTTPS with a certificate from the run's CA (the real SDK trusts it
 * only when told to), STS AssumeRoleWithWebIdentity answered in the query protocol, and the ECS agent's task
 * metadata v4 and container credentials endpoints on their own plain HTTP listener. Every request is in `calls`.
 */
import { Agent } from 'node:https';
import { MarketplaceMeteringClient, RegisterUsageCommand } from '@aws-sdk/client-marketplace-metering';
import { describe, expect, it } from 'vitest';
import { createTestCertificateAuthority } from '../../src/emulator/certificates.js';
import { DUMMY_CREDENTIALS, TEST_PRODUCT_CODE, TEST_REGION, withEmulator } from '../support/index.js';

const ca = createTestCertificateAuthority();
const TLS = (() => {
  const server = ca.issueServerCertificate({ dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] });
  return { key: server.privateKeyPem, cert: server.certificatePem };
})();
const REGISTER = { ProductCode: TEST_PRODUCT_CODE, PublicKeyVersion: 1, Nonce: 'nonce-https-0001' };

/** A Metering client for `url` that trusts exactly `trusted` (no SDK retries). */
function clientTrusting(url: string, trusted: string): MarketplaceMeteringClient {
  return new MarketplaceMeteringClient({
    region: TEST_REGION,
    endpoint: url,
    credentials: DUMMY_CREDENTIALS,
    maxAttempts: 1,
    requestHandler: { httpsAgent: new Agent({ ca: [trusted] }) },
  });
}

describe('HTTPS', () => {
  it('serves the same API over TLS: the SDK trusting the run CA registers, and the call is recorded with its Host', async () => {
    await withEmulator({ tls: TLS }, async (emulator) => {
      expect(emulator.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
      const client = clientTrusting(emulator.url, ca.certificatePem);
      try {
        const answer = await client.send(new RegisterUsageCommand(REGISTER));
        expect(answer.Signature).toMatch(/^eyJ/);
      } finally {
        client.destroy();
      }
      expect(emulator.calls).toEqual([
        expect.objectContaining({ operation: 'RegisterUsage', statusCode: 200, host: `127.0.0.1:${emulator.port}` }),
      ]);
    });
  });

  it('a client trusting another CA fails verification and the emulator records nothing', async () => {
    await withEmulator({ tls: TLS }, async (emulator) => {
      const client = clientTrusting(emulator.url, createTestCertificateAuthority().certificatePem);
      try {
        await expect(client.send(new RegisterUsageCommand(REGISTER))).rejects.toMatchObject({
          code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
        });
      } finally {
        client.destroy();
      }
      expect(emulator.calls).toEqual([]);
    });
  });
});

/** An STS query-protocol POST (the SDK's wire format for AssumeRoleWithWebIdentity). */
async function stsCall(url: string, form: Record<string, string>) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' },
    body: new URLSearchParams(form),
  });
  return { status: response.status, body: await response.text() };
}

describe('STS stand-in', () => {
  const ROLE = {
    accessKeyId: 'ASIASTSSTANDIN000001',
    secretAccessKey: 'sts-secret-not-real',
    sessionToken: 'sts-session-token',
  };

  it('AssumeRoleWithWebIdentity hands out the role credentials, XML-escaped, and is recorded', async () => {
    await withEmulator({ roleCredentials: ROLE }, async (emulator) => {
      const answer = await stsCall(emulator.url, {
        Action: 'AssumeRoleWithWebIdentity',
        Version: '2011-06-15',
        RoleArn: 'arn:aws:iam::123456789012:role/product<&>',
        RoleSessionName: 'session-1',
        WebIdentityToken: 'projected-token',
      });

      expect(answer.status).toBe(200);
      expect(answer.body).toContain(
        `<AccessKeyId>${ROLE.accessKeyId}</AccessKeyId><SecretAccessKey>${ROLE.secretAccessKey}</SecretAccessKey><SessionToken>${ROLE.sessionToken}</SessionToken>`,
      );
      expect(answer.body).toContain('<Arn>arn:aws:iam::123456789012:role/product&#60;&#38;&#62;/session-1</Arn>');
      expect(emulator.calls).toEqual([
        expect.objectContaining({
          operation: 'AssumeRoleWithWebIdentity',
          statusCode: 200,
          input: expect.objectContaining({ WebIdentityToken: 'projected-token' }),
        }),
      ]);
    });
  });

  it('hands out `credentials` (with a session token) by default, so calls signed with them verify', async () => {
    await withEmulator({ credentials: DUMMY_CREDENTIALS }, async (emulator) => {
      expect(emulator.roleCredentials).toEqual({ ...DUMMY_CREDENTIALS, sessionToken: expect.any(String) });
      const answer = await stsCall(emulator.url, {
        Action: 'AssumeRoleWithWebIdentity',
        RoleArn: 'arn:aws:iam::123456789012:role/p',
        RoleSessionName: 's',
        WebIdentityToken: 't',
      });
      expect(answer.body).toContain(`<AccessKeyId>${DUMMY_CREDENTIALS.accessKeyId}</AccessKeyId>`);
    });
  });

  it.each([
    [{ Action: 'GetCallerIdentity' }, 'InvalidAction'],
    [
      { Action: 'AssumeRoleWithWebIdentity', RoleArn: 'arn:aws:iam::123456789012:role/p', RoleSessionName: 's' },
      'ValidationError',
    ],
  ])('%j answers a 400 %s', async (form, code) => {
    await withEmulator({}, async (emulator) => {
      const answer = await stsCall(emulator.url, form);
      expect(answer.status).toBe(400);
      expect(answer.body).toContain(`<Code>${code}</Code>`);
      expect(emulator.calls).toEqual([expect.objectContaining({ statusCode: 400, errorType: code })]);
    });
  });
});

describe('ECS stand-ins', () => {
  const ROLE = {
    accessKeyId: 'ASIAECSSTANDIN000001',
    secretAccessKey: 'ecs-secret-not-real',
    sessionToken: 'ecs-session-token',
  };

  it('task metadata v4: the container, and the task whose TaskARN names the Region, on plain HTTP', async () => {
    await withEmulator({ ecs: { region: 'ap-southeast-2' } }, async (emulator) => {
      const ecs = emulator.ecs!;
      expect(ecs.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const metadataUri = ecs.environment.ECS_CONTAINER_METADATA_URI_V4!;
      expect(metadataUri).toBe(ecs.metadataUri);

      const container = (await (await fetch(metadataUri)).json()) as { Labels: Record<string, string> };
      const task = (await (await fetch(`${metadataUri}/task`)).json()) as { TaskARN: string; AvailabilityZone: string };

      expect(task.TaskARN).toMatch(/^arn:aws:ecs:ap-southeast-2:123456789012:task\/emulated-cluster\/[0-9a-f]{32}$/);
      expect(task.TaskARN).toBe(ecs.taskArn);
      expect(container.Labels['com.amazonaws.ecs.task-arn']).toBe(task.TaskARN);
      expect(task.AvailabilityZone).toBe('ap-southeast-2a');
      expect(emulator.calls.map((call) => [call.operation, call.statusCode])).toEqual([
        ['EcsContainerMetadata', 200],
        ['EcsTaskMetadata', 200],
      ]);
    });
  });

  it('container credentials: the role credentials, only with the authorization token when one is set', async () => {
    await withEmulator(
      { roleCredentials: ROLE, ecs: { region: TEST_REGION, authorizationToken: 'agent-token' } },
      async (emulator) => {
        const env = emulator.ecs!.environment;
        expect(env.AWS_CONTAINER_AUTHORIZATION_TOKEN).toBe('agent-token');
        const uri = env.AWS_CONTAINER_CREDENTIALS_FULL_URI!; // not on 169.254.170.2:80, so the full URI

        const refused = await fetch(uri, { headers: { authorization: 'another-token' } });
        const granted = await fetch(uri, { headers: { authorization: 'agent-token' } });

        expect(refused.status).toBe(401);
        expect(await granted.json()).toMatchObject({
          AccessKeyId: ROLE.accessKeyId,
          SecretAccessKey: ROLE.secretAccessKey,
          Token: ROLE.sessionToken,
        });
        expect(emulator.calls.map((call) => [call.operation, call.statusCode])).toEqual([
          ['EcsContainerCredentials', 401],
          ['EcsContainerCredentials', 200],
        ]);
      },
    );
  });

  it('any other path is a 404, recorded; closing the emulator closes the ECS listener too', async () => {
    let ecsUrl = '';
    await withEmulator({ ecs: { region: TEST_REGION } }, async (emulator) => {
      ecsUrl = emulator.ecs!.url;
      expect((await fetch(`${ecsUrl}/v2/credentials/someone-else`)).status).toBe(404);
      expect(emulator.calls).toEqual([
        expect.objectContaining({
          operation: 'EcsUnknownPath',
          statusCode: 404,
          input: { path: '/v2/credentials/someone-else' },
        }),
      ]);
    });
    await expect(fetch(`${ecsUrl}/v4/x/task`)).rejects.toThrow();
  });
});
