/**
 * Local stand-ins for the two ways production gets AWS credentials: the ECS task role endpoint
 * (`AWS_CONTAINER_CREDENTIALS_FULL_URI`) and STS AssumeRoleWithWebIdentity for IRSA (`AWS_ENDPOINT_URL_STS`).
 * Each hands out `credentials` and records what it was asked.
 *
 * @example
 * const ecs = await startEcsCredentialsServer(HANDED_OUT, 'auth-token');
 * env.AWS_CONTAINER_CREDENTIALS_FULL_URI = ecs.credentialsUri;
 */
import { randomUUID } from 'node:crypto';
import { startStubServer, type StubServer } from './metadata-servers.js';

export interface HandedOutCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
}

const inAnHour = () => new Date(Date.now() + 3_600_000).toISOString();

/** The ECS agent's task-role endpoint: `GET credentialsUri` with `Authorization: authorizationToken`. */
export async function startEcsCredentialsServer(
  credentials: HandedOutCredentials,
  authorizationToken: string,
): Promise<StubServer & { credentialsUri: string }> {
  const path = '/v2/credentials/task-role';
  const server = await startStubServer({
    [`GET ${path}`]: ({ headers }) =>
      headers.authorization === authorizationToken
        ? {
            status: 200,
            body: {
              AccessKeyId: credentials.accessKeyId,
              SecretAccessKey: credentials.secretAccessKey,
              Token: credentials.sessionToken,
              Expiration: inAnHour(),
              RoleArn: 'arn:aws:iam::123456789012:role/task-role',
            },
          }
        : { status: 401, body: { code: 'Unauthorized', message: 'wrong authorization token' } },
  });
  return { ...server, credentialsUri: `${server.url}${path}` };
}

/** STS (query protocol, XML answers): AssumeRoleWithWebIdentity hands out `credentials`; anything else is a 400. */
export function startStsStandIn(credentials: HandedOutCredentials): Promise<StubServer> {
  const xml = (body: string) => ({ status: 200, contentType: 'text/xml', body });
  return startStubServer({
    'POST /': ({ body }) => {
      const form = new URLSearchParams(body);
      if (form.get('Action') !== 'AssumeRoleWithWebIdentity') {
        return { status: 400, contentType: 'text/xml', body: `<ErrorResponse><Error><Code>InvalidAction</Code></Error></ErrorResponse>` };
      }
      return xml(
        `<AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleWithWebIdentityResult>` +
          `<SubjectFromWebIdentityToken>system:serviceaccount:default:product</SubjectFromWebIdentityToken><Audience>sts.amazonaws.com</Audience>` +
          `<AssumedRoleUser><Arn>${form.get('RoleArn')}/${form.get('RoleSessionName')}</Arn><AssumedRoleId>AROAEXAMPLE:${form.get('RoleSessionName')}</AssumedRoleId></AssumedRoleUser>` +
          `<Credentials><AccessKeyId>${credentials.accessKeyId}</AccessKeyId><SecretAccessKey>${credentials.secretAccessKey}</SecretAccessKey>` +
          `<SessionToken>${credentials.sessionToken}</SessionToken><Expiration>${inAnHour()}</Expiration></Credentials>` +
          `</AssumeRoleWithWebIdentityResult><ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata></AssumeRoleWithWebIdentityResponse>`,
      );
    },
  });
}
