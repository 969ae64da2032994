/** Sorts SNS failures into the ones a retry can fix and the ones a person must fix. */
import { maskPhone, maskPhonesIn } from '../domain/phone-mask';

/** Thrown by publishSms when SNS refused an SMS; `permanent` says whether a retry could help. The message masks the number; `phone` holds it. */
export class SmsSendError extends Error {
  override name = 'SmsSendError';
  constructor(
    message: string,
    readonly code: string,
    readonly permanent: boolean,
    readonly phone: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

interface AwsErrorShape {
  name?: string;
  message?: string;
  code?: string;
  $fault?: 'client' | 'server';
  $metadata?: { httpStatusCode?: number };
}

const FIXES: Record<string, string> = {
  InvalidParameterException: 'check that the number is in E.164 form (+ and country code) and can receive SMS',
  InvalidParameterValueException: 'check that the number is in E.164 form (+ and country code) and can receive SMS',
  ValidationException: 'check the number and the message attributes (sender ID, origination number, max price)',
  OptedOut:
    'the person texted STOP; they must text START (or be opted in with OptInPhoneNumber) before they can get SMS again',
  AuthorizationErrorException: "give the worker's IAM identity sns:Publish (see the README's IAM section)",
  AccessDenied: "give the worker's IAM identity sns:Publish (see the README's IAM section)",
  AccessDeniedException: "give the worker's IAM identity sns:Publish (see the README's IAM section)",
  InvalidClientTokenId: 'the AWS access key is not valid; check the credentials the worker uses',
  UnrecognizedClientException: 'the AWS access key is not valid; check the credentials the worker uses',
  SignatureDoesNotMatch: 'the AWS secret key does not match the access key; check the credentials',
  KMSAccessDeniedException: "give the worker kms:GenerateDataKey and kms:Decrypt on the topic's key",
};

const TRANSIENT = new Set([
  'ThrottledException',
  'Throttling',
  'ThrottlingException',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'InternalErrorException',
  'InternalFailure',
  'ServiceUnavailable',
  'ExpiredToken',
  'ExpiredTokenException',
  'TimeoutError',
  'RequestTimeout',
]);

export function classifySnsError(err: unknown, phone: string): SmsSendError {
  const e = (err ?? {}) as AwsErrorShape;
  const code = e.name ?? e.code ?? 'Error';
  const status = e.$metadata?.httpStatusCode;
  // Error messages reach Temporal's history and the logs: the number stays masked in them.
  const detail = maskPhonesIn(e.message ?? String(err));
  const to = maskPhone(phone);
  const fix = FIXES[code];
  if (fix)
    return new SmsSendError(`SNS refused the SMS to ${to} (${code}: ${detail}). Fix: ${fix}.`, code, true, phone, {
      cause: err,
    });
  const transient =
    TRANSIENT.has(code) ||
    e.$fault === 'server' ||
    (status !== undefined && (status >= 500 || status === 429)) ||
    status === undefined;
  if (transient)
    return new SmsSendError(
      `SNS could not take the SMS to ${to} yet (${code}: ${detail}); retrying.`,
      code,
      false,
      phone,
      { cause: err },
    );
  return new SmsSendError(`SNS refused the SMS to ${to} (${code}, HTTP ${status}: ${detail}).`, code, true, phone, {
    cause: err,
  });
}
