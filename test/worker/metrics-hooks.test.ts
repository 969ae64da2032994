import type { WorkflowInfo } from '@temporalio/workflow';
import { describe, expect, it } from 'vitest';
import { asksEnded } from '../../src/observability/metrics';
import { metricsSinks } from '../../src/worker/metrics-hooks';

const ended = async (outcome: string) =>
  (await asksEnded.get()).values.find((v) => v.labels.outcome === outcome)?.value ?? 0;

describe("the workflows' metrics sink", () => {
  it('counts an ask that ends once, even when the task that ended it ran again (its completion refused)', async () => {
    const before = await ended('answered');
    const info = { workflowId: 'ask/e-1', runId: 'run-1' } as WorkflowInfo;
    void metricsSinks.smsAskMetrics.askEnded.fn(info, 'answered');
    void metricsSinks.smsAskMetrics.askEnded.fn(info, 'answered');
    void metricsSinks.smsAskMetrics.askEnded.fn({ ...info, runId: 'run-2' }, 'answered');
    expect((await ended('answered')) - before).toBe(2);
  });
});
