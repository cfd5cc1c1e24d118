/**
 * A stand-in for AWS STS's AssumeRoleWithWebIdentity, the call IRSA makes (the SDK exchanges the pod's projected
 * service-account token, `AWS_WEB_IDENTITY_TOKEN_FILE`, for the role `AWS_ROLE_ARN`). Query protocol: a form-encoded
 * POST with `Action=...`, answered in XML. The call is unsigned, as on AWS. It hands out the emulator's role
 * credentials, so the Metering and License Manager calls signed with them can be checked.
 *
 * @example
 * const answer = answerStsQuery(
 *   'Action=AssumeRoleWithWebIdentity&RoleArn=...&RoleSessionName=s&WebIdentityToken=t',
 *   role,
 *   new Date(),
 *   id
 * );
 * answer.statusCode; // 200
 */
import type { RoleCredentials } from './types.js';

/** Whether a request is an STS query-protocol call rather than an AWS JSON 1.1 call (which carries `X-Amz-Target`). */
export function isStsQuery(contentType: string | undefined, target: string | undefined): boolean {
  return !target && (contentType ?? '').toLowerCase().startsWith('application/x-www-form-urlencoded');
}

/** The answer to one STS call: what to record, and what to send. */
export interface StsAnswer {
  operation: string;
  input: Record<string, string>;
  statusCode: number;
  errorType?: string;
  body: string;
}

/** How long handed-out role credentials last, as STS's default session duration. */
const SESSION_MS = 60 * 60 * 1000;

/** Answers an STS query-protocol form body: AssumeRoleWithWebIdentity with `credentials`, anything else an error. */
export function answerStsQuery(form: string, credentials: RoleCredentials, now: Date, requestId: string): StsAnswer {
  const input = Object.fromEntries(new URLSearchParams(form));
  const operation = input.Action ?? '';
  const error = (statusCode: number, code: string, message: string): StsAnswer => ({
    operation,
    input,
    statusCode,
    errorType: code,
    body:
      '<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">' +
      `<Error><Type>Sender</Type><Code>${code}</Code><Message>${xml(message)}</Message></Error>` +
      `<RequestId>${requestId}</RequestId></ErrorResponse>`,
  });
  if (operation !== 'AssumeRoleWithWebIdentity')
    return error(
      400,
      'InvalidAction',
      `The emulator's STS answers AssumeRoleWithWebIdentity only, not ${JSON.stringify(operation)}.`,
    );
  const missing = ['RoleArn', 'RoleSessionName', 'WebIdentityToken'].find((field) => !input[field]);
  if (missing) return error(400, 'ValidationError', `${missing} is required.`);
  const session = input.RoleSessionName!;
  const expiration = new Date(now.getTime() + SESSION_MS).toISOString();
  return {
    operation,
    input,
    statusCode: 200,
    body:
      '<AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">' +
      '<AssumeRoleWithWebIdentityResult>' +
      '<SubjectFromWebIdentityToken>system:serviceaccount:default:product</SubjectFromWebIdentityToken>' +
      '<Audience>sts.amazonaws.com</Audience>' +
      `<AssumedRoleUser><Arn>${xml(`${input.RoleArn}/${session}`)}</Arn>` +
      `<AssumedRoleId>AROAEMULATOR:${xml(session)}</AssumedRoleId></AssumedRoleUser>` +
      `<Credentials><AccessKeyId>${xml(credentials.accessKeyId)}</AccessKeyId>` +
      `<SecretAccessKey>${xml(credentials.secretAccessKey)}</SecretAccessKey>` +
      `<SessionToken>${xml(credentials.sessionToken)}</SessionToken>` +
      `<Expiration>${expiration}</Expiration></Credentials>` +
      '</AssumeRoleWithWebIdentityResult>' +
      `<ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></AssumeRoleWithWebIdentityResponse>`,
  };
}

function xml(text: string): string {
  return text.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);
}
