/**
 * A user's own playbook workflow that asks an analyst by SMS and branches on the answer. The ask
 * runs as a child workflow on the sms-ask worker's task queue; this workflow just waits for it.
 * Outside this repository, import from 'sms-ask' instead of '../src/...'.
 */
import { executeChild, workflowInfo } from '@temporalio/workflow';
import { DEFAULT_TASK_QUEUE } from '../src/temporal/task-queue';
import type { askWorkflow } from '../src/workflows/ask';

export interface ContainmentInput {
  host: string;
  incidentId: string;
  /** The on-call analyst's phone, E.164. */
  analyst: string;
  /** The sms-ask worker's task queue. Default "sms-ask". */
  smsAskTaskQueue?: string;
}

export async function ransomwareContainmentPlaybook(input: ContainmentInput): Promise<string> {
  const result = await executeChild<typeof askWorkflow>('askWorkflow', {
    taskQueue: input.smsAskTaskQueue ?? DEFAULT_TASK_QUEUE,
    workflowId: `ask/${workflowInfo().workflowId}/isolate`,
    args: [
      {
        to: input.analyst,
        question: `Ransomware on ${input.host} (incident ${input.incidentId}). Isolate it now?`,
        options: ['Isolate', 'Monitor'],
        timeout: '30m',
        // Nobody answered in 30 minutes: the safe choice for this playbook is to isolate.
        defaultAnswer: 'Isolate',
        context: { incidentId: input.incidentId, host: input.host },
      },
    ],
  });
  const decision = result.answer?.option ?? 'Isolate';
  return decision === 'Isolate' ? `isolated ${input.host}` : `monitoring ${input.host}`;
}
