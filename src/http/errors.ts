import {
  ServiceError,
  WorkflowFailedError,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  WorkflowUpdateRPCTimeoutOrCancelledError,
} from '@temporalio/client';
import type { ZodError } from 'zod';
import { AskEndedError } from '../client/sms-ask-client';
import { InvalidAskError } from '../domain/ask-request';
import { InvalidPhoneNumberError } from '../domain/phone';
import { formatIssuePath } from '../domain/policy';
import { SmsSendError } from '../aws/sns-errors';

export interface Problem {
  field: string;
  message: string;
}

/** An HTTP error with its JSON body; thrown by handlers, written by the server's error handler. */
export class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    readonly problems?: Problem[],
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'HttpError';
  }

  body() {
    return { error: this.code, message: this.message, ...(this.problems && { problems: this.problems }) };
  }
}

/** A 400 that lists every problem by field. */
export function invalidRequest(problems: Problem[]): HttpError {
  const summary = problems.map((p) => `${p.field}: ${p.message}`).join('; ');
  return new HttpError(400, 'invalid_request', `Invalid request: ${summary}`, problems);
}

/** Each issue by its field (`to[0]`, `wait`); `where` (body, query, path) names an issue about the whole. */
export function problemsOfZod(error: ZodError, where: string): Problem[] {
  return error.issues.map((issue) => ({ field: formatIssuePath(issue.path) || where, message: issue.message }));
}

/** "to[0]: message" → { field: "to[0]", message }; the domain reports problems in that form. */
function problemOfLine(line: string): Problem {
  const at = line.indexOf(': ');
  return at > 0 ? { field: line.slice(0, at), message: line.slice(at + 2) } : { field: 'request', message: line };
}

function isTemporalUnavailable(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  if (err instanceof WorkflowUpdateRPCTimeoutOrCancelledError) return true;
  return (
    /Failed to connect before the deadline/i.test(err.message) ||
    (err instanceof ServiceError &&
      /UNAVAILABLE|DEADLINE_EXCEEDED|connect|ECONNREFUSED|no poller|timed? ?out/i.test(
        `${err.message} ${String(err.cause)}`,
      ))
  );
}

/** What the API answers for an error from the client, the domain or Temporal; undefined: a bug (500). */
export function toHttpError(err: unknown): HttpError | undefined {
  if (err instanceof HttpError) return err;
  if (err instanceof InvalidAskError) return invalidRequest(err.problems.map(problemOfLine));
  if (err instanceof InvalidPhoneNumberError) return invalidRequest([{ field: 'to', message: err.message }]);
  if (err instanceof WorkflowNotFoundError) return new HttpError(404, 'not_found', `No ask with id ${err.workflowId}.`);
  if (err instanceof AskEndedError) return new HttpError(409, 'ask_ended', err.message);
  if (err instanceof WorkflowUpdateFailedError)
    return new HttpError(409, 'rejected', err.cause?.message ?? err.message);
  if (err instanceof WorkflowFailedError)
    return new HttpError(409, 'ask_failed', `The ask failed: ${err.cause?.message ?? err.message}`);
  if (err instanceof SmsSendError && err.code === 'DailyBudgetSpent')
    return new HttpError(429, 'budget_spent', err.message);
  if (err instanceof SmsSendError && (err.code === 'SmsRefused' || err.code === 'SmsCountryRefused'))
    return new HttpError(400, 'sms_refused', err.message);
  if (err instanceof SmsSendError) {
    if (err.permanent && /Invalid|Validation|OptedOut/.test(err.code))
      return new HttpError(400, 'sms_refused', err.message);
    return new HttpError(502, 'sms_not_sent', err.message);
  }
  if (isTemporalUnavailable(err)) {
    return new HttpError(
      503,
      'unavailable',
      'Temporal (or the worker) did not answer in time; try again shortly.',
      undefined,
      { 'retry-after': '5' },
    );
  }
  return undefined;
}
