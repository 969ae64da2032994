/**
 * A phone's recipient workflow that is gone (terminated by an operator, or failed) while asks still
 * list the phone: its replies must not be dropped. The asks' own state holds the codes they sent,
 * so a new run is started and each waiting ask's codes are registered with it again.
 */
import { WithStartWorkflowOperation, WorkflowNotFoundError } from '@temporalio/client';
import type { Client } from '@temporalio/client';
import { pendingAsksVisibilityQuery } from '../client/sms-ask-client';
import type { Settings } from '../config';
import { replyRulesFrom } from '../config';
import { RECIPIENT_PRIORITY_KEY } from '../domain/ask-priority';
import { recipientWorkflowsRestored } from '../observability/metrics';
import { recipientWorkflowId, registerUpdate, statusQuery } from '../workflows/definitions';
import type { AskWorkflow } from '../workflows/definitions';

/** Asks looked at per phone; a phone with more pending asks than this is unusual. */
const MAX_ASKS_PER_PHONE = 100;

/** The waiting asks (by visibility, so possibly a moment behind) that list this phone. */
export async function pendingAskIdsFor(
  client: Client,
  taskQueue: string,
  phone: string,
  limit = MAX_ASKS_PER_PHONE,
): Promise<string[]> {
  const ids: string[] = [];
  for await (const execution of client.workflow.list({
    query: pendingAsksVisibilityQuery(taskQueue, { recipient: phone }, new Date()),
  })) {
    ids.push(execution.workflowId);
    if (ids.length >= limit) break;
  }
  return ids;
}

/** Whether the phone's recipient workflow runs. */
export async function recipientRuns(client: Client, taskQueue: string, phone: string): Promise<boolean> {
  try {
    const described = await client.workflow.getHandle(recipientWorkflowId(taskQueue, phone)).describe();
    return described.status.name === 'RUNNING';
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return false;
    throw err;
  }
}

export interface RestoreResult {
  /** Asks whose codes the new run holds. */
  restored: string[];
  /** Asks that had nothing to restore (ended meanwhile, or this phone not yet asked). */
  skipped: string[];
}

/**
 * Starts the phone's recipient workflow again (if it is not running) and registers with it the
 * codes each of `askIds` sent the phone. Idempotent: an ask already registered keeps its codes.
 */
export async function restoreRecipient(
  client: Client,
  settings: Pick<Settings, 'codeMode' | 'codeLength'> & Partial<Settings>,
  taskQueue: string,
  phone: string,
  askIds: readonly string[],
): Promise<RestoreResult> {
  const result: RestoreResult = { restored: [], skipped: [] };
  const rules =
    'replyGuessLimit' in settings && settings.replyGuessLimit !== undefined
      ? replyRulesFrom(settings as Settings)
      : undefined;
  for (const askId of askIds) {
    let state;
    try {
      state = await client.workflow.getHandle<AskWorkflow>(askId).query(statusQuery);
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) {
        result.skipped.push(askId);
        continue;
      }
      throw err;
    }
    const codes = state.recipients.find((r) => r.phone === phone)?.codes ?? [];
    if (state.status !== 'waiting' || codes.length === 0) {
      result.skipped.push(askId);
      continue;
    }
    await client.workflow.executeUpdateWithStart(registerUpdate, {
      args: [
        {
          askId,
          question: state.question,
          options: state.options,
          codeMode: settings.codeMode,
          codeLength: settings.codeLength,
          ...(rules && { rules }),
          ...(state.policy.acceptLabels && { acceptLabels: true }),
          ...(state.policy.responders === 'any' && { endsOnAnswer: true }),
          codes,
          // The reply that found the workflow gone was sent after the ask, not after this restore.
          askedAt: state.startedAt,
        },
      ],
      startWorkflowOperation: new WithStartWorkflowOperation('recipientWorkflow', {
        workflowId: recipientWorkflowId(taskQueue, phone),
        taskQueue,
        args: [{ phone, wakeTimer: 'kept' }],
        workflowIdConflictPolicy: 'USE_EXISTING',
        priority: { priorityKey: RECIPIENT_PRIORITY_KEY },
      }),
    });
    result.restored.push(askId);
  }
  if (result.restored.length > 0) recipientWorkflowsRestored.inc();
  return result;
}
