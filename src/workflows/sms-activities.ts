import { proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { ActivityOptions } from '@temporalio/workflow';
import type { SmsActivities } from '../activities';
import { smsTaskQueue } from '../task-queue';


/** The SMS-publishing activities, on the rate-limited SMS task queue that belongs to this workflow's queue. */
export function smsActivities(options: Omit<ActivityOptions, 'taskQueue'>) {
  return proxyActivities<SmsActivities>({ ...options, taskQueue: smsTaskQueue(workflowInfo().taskQueue) });
}
