// What the console shows, as plain functions of the API's data: no DOM, so a unit test runs them.

/** Last 4 digits only, as in SMS and logs (src/domain/phone-mask.ts): a screen is shared, screenshotted, pasted into tickets. */
export function maskPhone(e164) {
  return `…${String(e164).replace(/\D/g, '').slice(-4)}`;
}

/** Anything in free text that looks like a full international number, masked the same way. */
export function maskPhonesIn(text) {
  return String(text).replace(/\+[1-9]\d{6,14}(?!\d)/g, (number) => maskPhone(number));
}

/** 45s, 4m 05s, 3h 07m, 2d 4h: two units at most, as a person reads a countdown. */
export function formatDuration(ms) {
  const s = Math.floor(Math.abs(ms) / 1000);
  const pad = (n) => String(n).padStart(2, '0');
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${pad(s % 60)}s`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h ${pad(Math.floor((s % 3600) / 60))}m`;
  return `${Math.floor(s / 86_400)}d ${Math.floor((s % 86_400) / 3600)}h`;
}

/** The time left before a deadline; overdue once it has passed (the worker is behind or down). */
export function timeLeft(deadline, now) {
  const ms = Date.parse(deadline) - now;
  return ms >= 0
    ? { text: formatDuration(ms), overdue: false }
    : { text: `overdue ${formatDuration(ms)}`, overdue: true };
}

const STATUS_LABELS = {
  waiting: 'waiting',
  answered: 'answered',
  timed_out: 'timed out',
  cancelled: 'cancelled',
  unreachable: 'unreachable',
  undecided: 'undecided',
  failed: 'failed',
};

/** An ended ask's outcome: "default" when the policy's default answer was taken (on a timeout, no one reachable, a split vote). */
export function outcomeOf(ask) {
  if (ask.answer && ask.answer.via === 'default')
    return { label: 'default', detail: STATUS_LABELS[ask.status] ?? ask.status, kind: 'default' };
  return { label: STATUS_LABELS[ask.status] ?? ask.status, detail: '', kind: ask.status };
}

/** "Yes, by SMS from …0142", "No, by soar-playbook (console)", "No (default)". */
export function describeAnswer(answer) {
  if (!answer) return '';
  if (answer.via === 'sms') return `${answer.option}, by SMS from ${maskPhone(answer.by)}`;
  if (answer.via === 'manual') return `${answer.option}, by ${answer.by}`;
  return `${answer.option} (default)`;
}

/** A question's delivery, worded as `sms-ask status` words it (src/domain/delivery-event.ts describeDelivery). */
export function describeDelivery(delivery) {
  if (delivery.status === 'delivered') return 'delivered';
  if (delivery.status === 'pending') return 'delivery pending';
  if (delivery.status === 'unknown') return 'delivery unknown';
  return `not delivered: ${delivery.eventType}${delivery.reason ? ` (${delivery.reason})` : ''}`;
}

/** A price in USD, to five decimals at most, as `sms-ask status` shows it. */
export function formatUsd(usd) {
  return `$${Number(usd)
    .toFixed(5)
    .replace(/(\.\d\d\d*?)0+$/, '$1')}`;
}

/** The pending list's recipients, masked, each whose question never reached the phone marked so. */
export function pendingRecipients(ask) {
  const undelivered = new Set(ask.undelivered ?? []);
  return ask.recipients
    .map((phone) => `${maskPhone(phone)}${undelivered.has(phone) ? ' (not delivered)' : ''}`)
    .join(', ');
}

/** The recipient table's Note: opted out, the send's refusal, the question's delivery and its cost; numbers masked. */
export function recipientNote(recipient) {
  const notes = [
    recipient.optedOut && 'opted out',
    recipient.sendError && maskPhonesIn(recipient.sendError),
    recipient.delivery && maskPhonesIn(describeDelivery(recipient.delivery)),
    recipient.costUsd !== undefined && formatUsd(recipient.costUsd),
  ];
  return notes.filter(Boolean).join(' · ');
}

export function eventLabel(type) {
  return String(type).replace(/_/g, ' ');
}

/** The API's path of an ask: its id URL-encoded, which every ask id allows. */
export function askApiPath(askId) {
  return `/v1/asks/${encodeURIComponent(askId)}`;
}

/** The pending list's query from the filter form's values: only what is set. */
export function pendingQuery(filters, after) {
  const query = new URLSearchParams();
  for (const name of ['to', 'incident', 'policy']) {
    const value = (filters[name] ?? '').trim();
    if (value) query.set(name, value);
  }
  if (filters.overdue) query.set('overdue', 'true');
  if (filters.escalated) query.set('escalated', 'true');
  if (after) query.set('after', after);
  const text = query.toString();
  return text ? `?${text}` : '';
}
