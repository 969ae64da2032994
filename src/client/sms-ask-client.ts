import { randomUUID } from 'node:crypto';
import { WorkflowNotFoundError } from '@temporalio/client';
import type { Client, WorkflowHandle } from '@temporalio/client';
import type { CountryCode } from 'libphonenumber-js';
import { DEFAULT_TASK_QUEUE } from '../config';
import { normalizeAskRequest } from '../domain/ask-request';
import type { AskRequest } from '../domain/ask-request';
import type { askWorkflow } from '../workflows/ask';
import { answerUpdate, askWorkflowId, cancelUpdate, statusQuery, toAskWorkflowId } from '../workflows/definitions';
import type { AskMemo, AskState, AskStatus, OptionCode } from '../workflows/definitions';

/** Thrown by SmsAskClient.answer and cancel when the ask has already ended. */
export class AskEndedError extends Error {
  override name = 'AskEndedError';
  constructor(
    readonly askId: string,
    readonly status: AskStatus,
  ) {
    super(`The ask ${askId} has already ended (${status}); nothing was changed.`);
  }
}

export interface SmsAskClientOptions {
  /** Task queue of the sms-ask worker. Default "sms-ask". */
  taskQueue?: string;
  /** Country used for numbers written without a country code. */
  defaultCountry?: CountryCode;
  /** Longest reply code the worker hands out, for the size check before start. Default 8. */
  maxCodeLength?: number;
}

export interface StartedAsk {
  askId: string;
  entitlement: string;
}

export interface PendingAsk {
  askId: string;
  entitlement: string;
  question: string;
  recipients: string[];
  codes: Record<string, OptionCode[]>;
  startedAt: string;
  deadline: string;
  context: Record<string, unknown>;
}

/** What a playbook needs: start an ask, read its status or result, list what is pending, answer, cancel. */
export class SmsAskClient {
  private readonly taskQueue: string;

  constructor(
    private readonly client: Client,
    private readonly options: SmsAskClientOptions = {},
  ) {
    this.taskQueue = options.taskQueue ?? DEFAULT_TASK_QUEUE;
  }

  /** Validates the request (throws InvalidAskError with every problem) and starts the ask. */
  async start(request: AskRequest): Promise<StartedAsk> {
    const input = normalizeAskRequest(request, {
      defaultCountry: this.options.defaultCountry,
      maxCodeLength: this.options.maxCodeLength,
      newEntitlement: randomUUID,
    });
    const askId = askWorkflowId(input.entitlement);
    await this.client.workflow.start<typeof askWorkflow>('askWorkflow', {
      workflowId: askId,
      taskQueue: this.taskQueue,
      args: [
        {
          to: input.recipients,
          question: input.question,
          options: input.options,
          timeout: input.timeoutMs,
          defaultAnswer: input.defaultAnswer,
          entitlement: input.entitlement,
          context: input.context,
        },
      ],
    });
    return { askId, entitlement: input.entitlement };
  }

  /** Waits for the ask to end and returns its final state. */
  result(askId: string): Promise<AskState> {
    return this.handle(askId).result();
  }

  /** The live state, event log included. */
  status(askId: string): Promise<AskState> {
    return this.handle(askId).query(statusQuery);
  }

  /** An operator's answer: an option label or its 1-based number. Rejected once the ask has ended. */
  answer(askId: string, option: string, by: string, reason?: string): Promise<AskState> {
    return this.whileOpen(askId, (handle) => handle.executeUpdate(answerUpdate, { args: [{ option, by, reason }] }));
  }

  /** Ends the ask as cancelled. Rejected once the ask has ended. */
  cancel(askId: string, by?: string, reason?: string): Promise<AskState> {
    return this.whileOpen(askId, (handle) => handle.executeUpdate(cancelUpdate, { args: [{ by, reason }] }));
  }

  /** Temporal reports an update to a closed workflow as "not found"; say what really happened. */
  private async whileOpen<T>(askId: string, update: (handle: WorkflowHandle<typeof askWorkflow>) => Promise<T>): Promise<T> {
    const handle = this.handle(askId);
    try {
      return await update(handle);
    } catch (err) {
      if (!(err instanceof WorkflowNotFoundError)) throw err;
      const final = await handle.query(statusQuery).catch(() => undefined);
      if (final) throw new AskEndedError(handle.workflowId, final.status);
      throw err;
    }
  }

  /** Running asks on this task queue, soonest deadline first (from Temporal visibility). */
  async listPending(filter: { recipient?: string } = {}): Promise<PendingAsk[]> {
    const rows: PendingAsk[] = [];
    const query = `WorkflowType = 'askWorkflow' AND ExecutionStatus = 'Running' AND TaskQueue = '${this.taskQueue}'`;
    for await (const execution of this.client.workflow.list({ query })) {
      const memo = execution.memo?.ask as AskMemo | undefined;
      if (!memo) continue; // registered in a moment; the next listing shows it
      if (filter.recipient && !memo.recipients.includes(filter.recipient)) continue;
      rows.push({
        askId: execution.workflowId,
        entitlement: memo.entitlement,
        question: memo.question,
        recipients: memo.recipients,
        codes: memo.codes,
        startedAt: execution.startTime.toISOString(),
        deadline: memo.deadline,
        context: memo.context,
      });
    }
    return rows.sort((a, b) => a.deadline.localeCompare(b.deadline));
  }

  /** Accepts an ask ID or a bare entitlement. */
  handle(askIdOrEntitlement: string): WorkflowHandle<typeof askWorkflow> {
    return this.client.workflow.getHandle<typeof askWorkflow>(toAskWorkflowId(askIdOrEntitlement));
  }
}
