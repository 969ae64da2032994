import { setWorkflowOptions } from '@temporalio/workflow';
import { versioningBehavior } from './versioning-behavior';
import { smsActivities } from './sms-activities';
import type { OneWaySmsInput } from './definitions';
import type { SentSms } from '../aws/sms-publisher';

/**
 * A one-way SMS through the same rate-limited SMS queue, country allowlist, segment cap and daily
 * budget as every question; the workflow's history (who, to whom, what, when, its SNS id) is the
 * audit record, listed with `temporal workflow list --query 'WorkflowType="oneWaySmsWorkflow"'`.
 */
export async function oneWaySmsWorkflow(input: OneWaySmsInput): Promise<SentSms> {
  const { sendOneWaySms } = smsActivities({
    retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s', maximumAttempts: 8 },
  });
  return await sendOneWaySms(input);
}

// Worker Versioning: one SMS, on the build it started on.
setWorkflowOptions(versioningBehavior('PINNED'), oneWaySmsWorkflow);
