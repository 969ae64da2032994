import {
  ServiceError,
  WorkflowFailedError,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
} from '@temporalio/client';
import { ZodError } from 'zod';

/** One line (or a short list) that says what went wrong and, where we know it, what to do. */
export function describeError(err: unknown): string {
  if (err instanceof WorkflowNotFoundError) {
    return `No ask with id ${err.workflowId}. List the pending ones with \`sms-ask pending\`.`;
  }
  if (err instanceof WorkflowUpdateFailedError || err instanceof WorkflowFailedError) {
    return err.cause?.message ?? err.message;
  }
  if (err instanceof ServiceError && /connect|UNAVAILABLE|ECONNREFUSED/i.test(err.message)) {
    return `Cannot reach Temporal at ${process.env.TEMPORAL_ADDRESS ?? 'localhost:7233'} (${err.message}). Start the local stack (\`sms-ask stack up\`) or set TEMPORAL_ADDRESS.`;
  }
  if (err instanceof ZodError) return err.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
  if (err instanceof Error) {
    if (/ECONNREFUSED|Failed to connect|transport error/i.test(err.message)) {
      return `Cannot reach Temporal at ${process.env.TEMPORAL_ADDRESS ?? 'localhost:7233'} (${err.message}). Start the local stack (\`sms-ask stack up\`) or set TEMPORAL_ADDRESS.`;
    }
    return err.message;
  }
  return String(err);
}
