/**
 * Counts asks as they start and end, and times reply to answer, from outside the ask workflow's
 * own code: a workflow interceptor, bundled with the workflows (src/worker/workflow-bundle.ts).
 */
import { ContinueAsNew, isCancellation, workflowInfo } from '@temporalio/workflow';
import type {
  Next,
  SignalInput,
  WorkflowExecuteInput,
  WorkflowInboundCallsInterceptor,
  WorkflowInterceptorsFactory,
} from '@temporalio/workflow';
import { replySignal } from './definitions';
import type { AskState, RoutedReply } from './definitions';
import { workflowMetrics } from './metrics-sink';

class AskMetricsInterceptor implements WorkflowInboundCallsInterceptor {
  /** When each phone's latest reply reached its recipient workflow (ms, workflow time). */
  private readonly replyReceivedAt = new Map<string, number>();

  async execute(input: WorkflowExecuteInput, next: Next<WorkflowInboundCallsInterceptor, 'execute'>): Promise<unknown> {
    if (!workflowInfo().continuedFromExecutionRunId) workflowMetrics.askStarted();
    let state: AskState;
    try {
      state = (await next(input)) as AskState;
    } catch (err) {
      if (!(err instanceof ContinueAsNew)) workflowMetrics.askEnded(isCancellation(err) ? 'cancelled' : 'failed');
      throw err;
    }
    workflowMetrics.askEnded(state.status);
    const answer = state.answer;
    const receivedAt = answer?.via === 'sms' ? this.replyReceivedAt.get(answer.by) : undefined;
    if (answer && receivedAt !== undefined)
      workflowMetrics.replyToAnswer(Math.max(0, Date.parse(answer.at) - receivedAt) / 1000);
    return state;
  }

  async handleSignal(input: SignalInput, next: Next<WorkflowInboundCallsInterceptor, 'handleSignal'>): Promise<void> {
    if (input.signalName === replySignal.name) {
      const reply = input.args[0] as Partial<RoutedReply> | undefined;
      const at = Date.parse(reply?.receivedAt ?? '');
      if (reply?.phone && Number.isFinite(at)) this.replyReceivedAt.set(reply.phone, at);
    }
    return next(input);
  }
}

export const interceptors: WorkflowInterceptorsFactory = () =>
  workflowInfo().workflowType === 'askWorkflow' ? { inbound: [new AskMetricsInterceptor()] } : {};
