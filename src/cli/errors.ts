import {
  ServiceError,
  WorkflowFailedError,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
} from '@temporalio/client';

/** Temporal's own words for "nothing answers at TEMPORAL_ADDRESS"; AWS connection errors must not match. */
function isTemporalUnreachable(err: Error): boolean {
  return (
    /Failed to connect before the deadline/i.test(err.message) ||
    (err instanceof ServiceError && /UNAVAILABLE|connect|ECONNREFUSED/i.test(err.message))
  );
}

/** One line (or a short list) that says what went wrong and, where we know it, what to do. */
export function describeError(err: unknown): string {
  if (err instanceof WorkflowNotFoundError) {
    return `No ask with id ${err.workflowId}. List the pending ones with \`sms-ask pending\`.`;
  }
  if (err instanceof WorkflowUpdateFailedError || err instanceof WorkflowFailedError) {
    return err.cause?.message ?? err.message;
  }
  if (err instanceof Error && isTemporalUnreachable(err)) {
    return `Cannot reach Temporal at ${process.env.TEMPORAL_ADDRESS ?? 'localhost:7233'} (${err.message}). Start the local stack (\`sms-ask stack up\`) or set TEMPORAL_ADDRESS.`;
  }
  return err instanceof Error ? err.message : String(err);
}
