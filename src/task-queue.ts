/** The task queue that every sms-ask entrypoint uses unless configured otherwise. */
export const DEFAULT_TASK_QUEUE = 'sms-ask';
