/** The task queue that every sms-ask entrypoint uses unless configured otherwise. */
export const DEFAULT_TASK_QUEUE = 'sms-ask';

/**
 * The task queue of the activities that publish SMS. It is separate so that the server can hold
 * every worker together to the account's SNS publish rate without slowing reply routing.
 */
export function smsTaskQueue(taskQueue: string): string {
  return `${taskQueue}/sms`;
}
