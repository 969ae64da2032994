// Types of format.mjs, for the tests that run it under Node (the page itself loads the .mjs as is).
export interface AnswerLike {
  option: string;
  via: 'sms' | 'manual' | 'default';
  by: string;
}
export interface OutcomeLike {
  status: string;
  answer?: AnswerLike;
}
export function maskPhone(e164: string): string;
export function maskPhonesIn(text: string): string;
export function formatDuration(ms: number): string;
export function timeLeft(deadline: string, now: number): { text: string; overdue: boolean };
export function outcomeOf(ask: OutcomeLike): { label: string; detail: string; kind: string };
export function describeAnswer(answer: AnswerLike | undefined): string;
export interface DeliveryLike {
  status: 'pending' | 'delivered' | 'undelivered' | 'unknown';
  eventType: string;
  at?: string;
  reason?: string;
}
export function describeDelivery(delivery: DeliveryLike): string;
export function formatUsd(usd: number): string;
export function recipientNote(recipient: {
  optedOut?: boolean;
  sendError?: string;
  delivery?: DeliveryLike;
  costUsd?: number;
}): string;
export function pendingRecipients(ask: { recipients: string[]; undelivered?: string[] }): string;
export function eventLabel(type: string): string;
export function askApiPath(askId: string): string;
export function pendingQuery(
  filters: { to?: string; incident?: string; policy?: string; overdue?: boolean; escalated?: boolean },
  after?: string,
): string;
