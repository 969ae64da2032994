/**
 * sms-ask's own Prometheus metrics (prom-client), one registry per process. The worker serves
 * them, with the Temporal SDK's worker metrics, on /metrics (src/worker/monitor-server.ts); the
 * README lists each one with the alert to set. Counting is cheap and always on.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export const metricsRegistry = new Registry();

const registers = [metricsRegistry];

export const repliesReceived = new Counter({
  name: 'sms_ask_replies_received_total',
  help: 'Messages received from the inbound SQS queue.',
  registers,
});

export const repliesRouted = new Counter({
  name: 'sms_ask_replies_routed_total',
  help: "Replies handed to their phone's recipient workflow.",
  registers,
});

export const repliesNotRouted = new Counter({
  name: 'sms_ask_replies_not_routed_total',
  help: "Parsed replies not handed on: no_asks (no ask was sent to the phone; deleted), signal_failed (Temporal did not take the reply or its answer; left on the queue for a retry), recipient_gone (the phone's recipient workflow is gone while asks list the phone; left on the queue until it is back).",
  labelNames: ['reason'] as const,
  registers,
});

export const recipientWorkflowsRestored = new Counter({
  name: 'sms_ask_recipient_workflows_restored_total',
  help: "Times a phone's recipient workflow was gone (terminated or failed) while asks listed the phone, and was started again with those asks' codes.",
  registers,
});

export const repliesDuplicate = new Counter({
  name: 'sms_ask_replies_duplicate_total',
  help: 'Replies delivered again (same inbound message id) and dropped by the recipient workflow.',
  registers,
});

export const replyGuessLimitReached = new Counter({
  name: 'sms_ask_reply_guess_limit_reached_total',
  help: 'Asks whose reply codes stopped working for one phone because it sent too many wrong codes (someone may be guessing; alert on any).',
  registers,
});

export const payloadsRefused = new Counter({
  name: 'sms_ask_payloads_refused_total',
  help: 'Temporal payloads refused for not being encrypted (payloadRequireEncryption): someone wrote to the namespace without the codec.',
  registers,
});

export const repliesBad = new Counter({
  name: 'sms_ask_replies_bad_total',
  help: 'Inbound messages that do not parse as a reply; left on the queue for the redrive policy to move to the DLQ.',
  registers,
});

export const asksStarted = new Counter({
  name: 'sms_ask_asks_started_total',
  help: 'Asks started (run by this worker).',
  registers,
});

export const asksEnded = new Counter({
  name: 'sms_ask_asks_ended_total',
  help: 'Asks ended, by outcome: answered, timed_out, cancelled, unreachable, undecided, failed.',
  labelNames: ['outcome'] as const,
  registers,
});

export const smsSent = new Counter({
  name: 'sms_ask_sms_sent_total',
  help: 'SMS accepted by SNS, by kind: question (also reminders and re-sends) or the feedback kind.',
  labelNames: ['kind'] as const,
  registers,
});

export const smsFailed = new Counter({
  name: 'sms_ask_sms_failed_total',
  help: 'SMS publish attempts that failed, by kind; permanent="true" when SNS refused for good (no retry).',
  labelNames: ['kind', 'permanent'] as const,
  registers,
});

export const smsRefused = new Counter({
  name: 'sms_ask_sms_refused_total',
  help: "SMS not sent by the worker's spend rules, by reason: country, segments (over the cap) or daily_budget.",
  labelNames: ['reason'] as const,
  registers,
});

export const segmentsLeased = new Counter({
  name: 'sms_ask_segments_leased_total',
  help: "SMS segments this worker took from the day's budget (in blocks).",
  registers,
});

export const smsDeliveryEvents = new Counter({
  name: 'sms_ask_sms_delivery_events_total',
  help: 'End User Messaging delivery events routed, by status (delivered, undelivered, pending, unknown) and AWS event type (the reason).',
  labelNames: ['status', 'event_type'] as const,
  registers,
});

export const smsSendToDeliverySeconds = new Histogram({
  name: 'sms_ask_sms_send_to_delivery_seconds',
  help: "From an SMS's send to its delivered event, as AWS stamped both.",
  buckets: [1, 2.5, 5, 10, 30, 60, 300, 900, 3600],
  registers,
});

export const replyToAnswerSeconds = new Histogram({
  name: 'sms_ask_reply_to_answer_seconds',
  help: "From a reply reaching its phone's recipient workflow to the ask recording the answer it gave.",
  buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
  registers,
});

export const pollerReceiveErrors = new Counter({
  name: 'sms_ask_poller_receive_errors_total',
  help: 'SQS ReceiveMessage calls of the inbound poller that failed (after the AWS SDK retries).',
  registers,
});

export const pollerLastReceive = new Gauge({
  name: 'sms_ask_poller_last_receive_timestamp_seconds',
  help: 'Unix time of the inbound poller’s last successful SQS receive in this process (0: none yet).',
  registers,
});

export const inboundQueueMessages = new Gauge({
  name: 'sms_ask_inbound_queue_messages',
  help: 'Messages in the inbound queue (ApproximateNumberOfMessages, state="waiting"; ...NotVisible, state="in_flight"), read at each scrape.',
  labelNames: ['state'] as const,
  registers,
});

let processMetrics = false;

/** Adds Node's process metrics (CPU, memory, event loop lag, GC) to the registry; once, and only where they are served. */
export function collectProcessMetrics(): void {
  if (processMetrics) return;
  processMetrics = true;
  collectDefaultMetrics({ register: metricsRegistry });
}
