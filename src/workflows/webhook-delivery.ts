/**
 * Delivery of one outcome webhook, as a workflow of its own: the ask starts it and does not wait,
 * so a slow or failing receiver never holds up the ask's answer or result. Its report (delivered,
 * or given up with the last status) is what the ask's event log shows for it.
 */
import { ActivityFailure, ApplicationFailure, proxyActivities, setWorkflowOptions } from '@temporalio/workflow';
import { versioningBehavior } from './versioning-behavior';
import { webhookTarget } from './definitions';
import type { MainActivities, WebhookDeliveryInput, WebhookDeliveryReport } from './definitions';

export async function webhookDeliveryWorkflow(input: WebhookDeliveryInput): Promise<WebhookDeliveryReport> {
  // Retried with backoff until the window closes: bounded, so that a receiver that is gone is given up.
  const { deliverWebhook } = proxyActivities<MainActivities>({
    startToCloseTimeout: Math.min(120_000, input.retryForMs),
    scheduleToCloseTimeout: input.retryForMs,
    retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '5m' },
  });
  const report = { deliveryId: input.deliveryId, type: input.type, target: webhookTarget(input.url) };
  try {
    const { status, attempt } = await deliverWebhook(input);
    return {
      ...report,
      outcome: 'delivered',
      attempts: attempt,
      lastStatus: `HTTP ${status}`,
      at: new Date().toISOString(),
    };
  } catch (err) {
    const last = lastAttemptFailure(err);
    const details = last?.details?.[0] as { attempt?: number } | undefined;
    return {
      ...report,
      outcome: 'gave_up',
      attempts: details?.attempt,
      lastStatus: last?.message ?? describe(err),
      at: new Date().toISOString(),
    };
  }
}

// Worker Versioning: a delivery ends on the build it started on, as its ask does.
setWorkflowOptions(versioningBehavior('PINNED'), webhookDeliveryWorkflow);

/** The failure of the last attempt, however deep the server nested it (retry window, timeout). */
function lastAttemptFailure(err: unknown): ApplicationFailure | undefined {
  for (let e: unknown = err; e instanceof Error; e = (e as Error & { cause?: unknown }).cause) {
    if (e instanceof ApplicationFailure) return e;
  }
  return undefined;
}

function describe(err: unknown): string {
  if (err instanceof ActivityFailure) return err.cause?.message ?? err.message;
  return err instanceof Error ? err.message : String(err);
}
