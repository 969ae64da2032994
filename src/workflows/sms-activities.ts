import { proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { ActivityOptions } from '@temporalio/workflow';
import type { SmsActivities } from './definitions';
import { SMS_ATTEMPT_HEARTBEAT_TIMEOUT_MS, SMS_ATTEMPT_START_TO_CLOSE_MS } from './sms-attempt';
import { smsTaskQueue } from '../temporal/task-queue';

// Set for every SMS activity here, so no caller can pick a timeout that a slow AWS call outlasts.
const SMS_ATTEMPT_TIMEOUTS = {
  startToCloseTimeout: SMS_ATTEMPT_START_TO_CLOSE_MS,
  heartbeatTimeout: SMS_ATTEMPT_HEARTBEAT_TIMEOUT_MS,
};

/** The SMS-publishing activities, on the rate-limited SMS task queue that belongs to this workflow's queue. */
export function smsActivities(
  options: Omit<ActivityOptions, 'taskQueue' | 'startToCloseTimeout' | 'heartbeatTimeout'>,
) {
  return proxyActivities<SmsActivities>({
    ...options,
    ...SMS_ATTEMPT_TIMEOUTS,
    taskQueue: smsTaskQueue(workflowInfo().taskQueue),
  });
}
