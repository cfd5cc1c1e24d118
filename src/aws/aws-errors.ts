/**
 * What a failed AWS call means for us, whichever service answered: retry it, or end with which typed error.
 *
 * Each service describes itself ({@link AwsService}: src/metering/errors.ts, src/license/errors.ts): its name as
 * operators know it, its modelled errors and the advice for the rest. What every AWS service shares is judged here:
 * a server not trusted as AWS (final), throttling, timeouts, network failures, 5xx and unparseable 2xx or 5xx answers
 * (retried), an error AWS did not model answered with a 4xx (final, with the service's advice on IAM), a 4xx whose
 * body is not JSON (final: something else answered), no credentials, and a client that failed before sending
 * anything (final: a bug or a misuse, never AWS's answer).
 *
 * @example
 * const verdict = classifyAwsError(err, LICENSE_MANAGER, { operation: 'CheckoutLicense' });
 * if (!verdict.retryable) throw verdict.error;
 */
import { ConfigurationError, EntitlementError, UntrustedServerError } from '../common/errors.js';
import { certificateFailure } from './tls-roots.js';

/** The verdict on one failure: worth another attempt, or final with the typed error to throw. */
export type ErrorVerdict = { retryable: true } | { retryable: false; error: EntitlementError };

/**
 * AWS exception name -> our typed error. The mapper gets AWS's message (trailing dots trimmed) and the SDK's error,
 * for modelled fields beyond the message (RedirectException's `Location`).
 */
export type ErrorTable = Record<string, (message: string, err?: unknown) => EntitlementError>;

/** One AWS service as the shared call layer sees it. */
export interface AwsService {
  /** The service's name as operators know it ("AWS License Manager"): every message about its calls names it. */
  name: string;
  /** Modelled errors that end a call of any of its operations (an operation's own table comes first). */
  errors: ErrorTable;
  /** Modelled errors retried whatever their HTTP status (some services send throttling as a 400). */
  retryable: ReadonlySet<string>;
  /**
   * What to fix when AWS refuses a call with an error the tables do not name, or no credentials load: the role the
   * container runs with and this service's IAM actions.
   */
  accessAdvice: string;
  /** The warning logged when the credentials come from EKS Pod Identity: what AWS says about them for this service. */
  podIdentityAdvice: string;
}

/** Throttling and timeout names the AWS SDKs retry for every service. */
const RETRYABLE_NAMES: ReadonlySet<string> = new Set(['ThrottlingException', 'TimeoutError', 'RequestTimeout']);

/** Errors a JavaScript client throws for bad input or a bug, before any request. */
const PROGRAMMING_ERRORS: ReadonlySet<string> = new Set(['TypeError', 'RangeError', 'ReferenceError']);

/** What {@link classifyAwsError} knows of the call: its name, and the operation's own modelled errors. */
export interface FailedCall {
  /** The operation's name as AWS spells it (`CheckoutLicense`); default "the call". */
  operation?: string;
  /** The operation's own modelled errors, looked up before the service's. */
  errors?: ErrorTable;
}

/**
 * The verdict on a failure of a call to `service`.
 *
 * @example
 * const verdict = classifyAwsError(err, METERING, { operation: 'MeterUsage', errors: METER_USAGE_ERRORS });
 */
export function classifyAwsError(err: unknown, service: AwsService, call: FailedCall = {}): ErrorVerdict {
  if (err instanceof EntitlementError) return { retryable: false, error: err };
  const operation = call.operation ?? 'the call';
  const untrusted = untrustedServer(err, operation);
  if (untrusted) return untrusted;
  const e = (err ?? {}) as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
  const name = e.name ?? 'Error';
  const message = (e.message ?? String(err)).replace(/\.+$/, '');
  const mapper = call.errors?.[name] ?? service.errors[name];
  if (mapper) return { retryable: false, error: mapper(message, err) };
  if (name === 'CredentialsProviderError') {
    return {
      retryable: false,
      error: new ConfigurationError(
        'NO_CREDENTIALS',
        `No AWS credentials were found for ${service.name} (${message}). ${service.accessAdvice}`,
        {
          cause: err,
        },
      ),
    };
  }
  if (RETRYABLE_NAMES.has(name) || service.retryable.has(name)) return { retryable: true };
  const status = e.$metadata?.httpStatusCode;
  const clientError = status !== undefined && status >= 400 && status < 500 && status !== 429;
  if (clientError && name === 'SyntaxError') {
    // The SDK could not read the body: not AWS's JSON, so neither AWS's refusal nor a question of IAM.
    return {
      retryable: false,
      error: new ConfigurationError(
        'UNEXPECTED_ANSWER',
        `The answer to ${operation} (HTTP ${status}) is not ${service.name}'s: ${message}. Something between this ` +
          'container and AWS answered instead (an egress proxy or firewall, or an endpoint that is neither AWS nor ' +
          'the emulator): check the endpoint and let the AWS endpoints through untouched.',
        { cause: err },
      ),
    };
  }
  if (clientError) {
    return {
      retryable: false,
      error: new ConfigurationError(
        'AWS_CLIENT_ERROR',
        `${service.name} refused ${operation}: ${name}: ${message}. ${service.accessAdvice}`,
        {
          cause: err,
        },
      ),
    };
  }
  if (PROGRAMMING_ERRORS.has(name) && e.$metadata === undefined) {
    // A bug or a misuse of the SDK (not an answer from AWS): retrying for 30 minutes would only hide it.
    return {
      retryable: false,
      error: new ConfigurationError(
        'CLIENT_FAILURE',
        `The ${service.name} client failed before reaching AWS (${operation}): ${name}: ${message}.`,
        {
          cause: err,
        },
      ),
    };
  }
  return { retryable: true };
}

/**
 * A server whose certificate does not verify is final for every service: a proxy that intercepts TLS, or a trust
 * anchor added to the pod, will still be there in 30 minutes. A reset or timeout during the handshake is not this.
 */
function untrustedServer(err: unknown, operation: string): ErrorVerdict | undefined {
  const reason = certificateFailure(err);
  if (reason === undefined) return undefined;
  return {
    retryable: false,
    error: new UntrustedServerError(
      reason,
      `The server that answered ${operation} is not trusted as AWS (${reason}): its certificate does not chain to ` +
        "the trusted roots (by default Amazon's own) or names another host. Likely a TLS-intercepting egress proxy, " +
        'or a CA added to the container (NODE_EXTRA_CA_CERTS is not used for AWS calls). Let the AWS endpoints ' +
        'through the proxy untouched (a CONNECT tunnel or a VPC endpoint), or, if the seller allows it, choose other ' +
        'roots with tlsRoots / --tls-roots.' +
        (reason === 'CERT_NOT_YET_VALID' || reason === 'CERT_HAS_EXPIRED'
          ? " Or this machine's clock is wrong: check it is synchronised."
          : ''),
      { cause: err },
    ),
  };
}
