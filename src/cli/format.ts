/** Human-readable renderings for the CLI; --json prints the objects themselves. */
import type { PendingAsk } from '../client/sms-ask-client';
import { describeDelivery, formatUsd } from '../domain/delivery-event';
import { formatMs } from '../domain/duration';
import type { AskPolicy } from '../domain/policy';
import type { AskState, RecipientState } from '../workflows/definitions';

export function formatDuration(ms: number): string {
  const abs = Math.abs(ms);
  const s = Math.round(abs / 1000);
  const text =
    s < 90
      ? `${s}s`
      : s < 5400
        ? `${Math.round(s / 60)}m`
        : s < 172_800
          ? `${Math.round(s / 3600)}h`
          : `${Math.round(s / 86_400)}d`;
  return ms < 0 ? `-${text}` : text;
}

function codesOf(codes: { option: string; code: string }[]): string {
  return codes.map((c) => `${c.option}=${c.code}`).join(' ');
}

/**
 * A recipient's delivery in the pending table: from the ask itself when its codes were read, else
 * what the listing holds, which names only the undelivered ("-": nothing known to have gone wrong).
 */
function pendingDelivery(row: PendingAsk, phone: string): string {
  const delivery = row.delivery?.[phone];
  if (delivery)
    return delivery.status === 'undelivered' ? `not delivered: ${delivery.eventType}` : describeDelivery(delivery);
  return row.undelivered.includes(phone) ? 'not delivered' : '-';
}

export function formatPending(rows: PendingAsk[], now = Date.now()): string {
  if (rows.length === 0) return 'No pending asks.';
  const lines = rows.flatMap((row) =>
    row.recipients.map((phone) => [
      row.entitlement,
      phone,
      row.codes ? codesOf(row.codes[phone] ?? []) : '-',
      pendingDelivery(row, phone),
      formatDuration(now - Date.parse(row.startedAt)),
      formatDuration(Date.parse(row.deadline) - now),
      String(row.tier),
      String(row.remindersSent),
      row.policy,
      row.question.length > 40 ? `${row.question.slice(0, 39)}…` : row.question,
    ]),
  );
  return table(
    ['ENTITLEMENT', 'RECIPIENT', 'CODES', 'DELIVERY', 'AGE', 'TIME LEFT', 'TIER', 'REMINDERS', 'POLICY', 'QUESTION'],
    lines,
  );
}

/** One line: "timeout 1h, reminders every 10m (max 3), tiers at 15m and 45m, any answer". */
export function describePolicy(policy: AskPolicy): string {
  const { responders } = policy;
  return [
    `timeout ${formatMs(policy.timeout)}`,
    policy.reminders && `reminders every ${formatMs(policy.reminders.every)} (max ${policy.reminders.max})`,
    policy.escalation.length > 0 && `tiers at ${policy.escalation.map((tier) => formatMs(tier.after)).join(', ')}`,
    policy.onTimeout.answer && `on timeout ${policy.onTimeout.answer}`,
    responders === 'any'
      ? 'first answer wins'
      : responders === 'all'
        ? 'all must agree'
        : `quorum of ${responders.quorum}`,
  ]
    .filter(Boolean)
    .join(', ');
}

function recipientLine(r: RecipientState): string {
  const notes = [
    r.answer && `answered ${r.answer.option}`,
    r.optedOut && 'opted out',
    r.sendError && `not sent: ${r.sendError}`,
    r.delivery && describeDelivery(r.delivery),
    r.costUsd !== undefined && formatUsd(r.costUsd),
  ].filter(Boolean);
  return `  ${r.phone}  tier ${r.tier}  ${codesOf(r.codes)}${notes.length ? `  (${notes.join('; ')})` : ''}`;
}

/** Live state, then the event log as a timeline: offset from the start, event, who, detail. */
export function formatStatus(state: AskState): string {
  const answer = state.answer
    ? `${state.answer.option} (via ${state.answer.via}${state.answer.via === 'default' ? '' : `, by ${state.answer.by}`}, at ${state.answer.at})`
    : '-';
  const head = [
    `ask:       ${state.askId}`,
    `question:  ${state.question}`,
    `status:    ${state.status}`,
    `answer:    ${answer}`,
    `policy:    ${state.policyName}: ${describePolicy(state.policy)}`,
    `progress:  tier ${state.tier} of ${state.policy.escalation.length}, reminders ${state.remindersSent} of ${state.policy.reminders?.max ?? 0}`,
    `deadline:  ${state.deadline}`,
    ...(state.costUsd !== undefined
      ? [`cost:      ${formatUsd(state.costUsd)} (as the delivery events priced its SMS)`]
      : []),
    'recipients:',
    ...state.recipients.map(recipientLine),
    'timeline:',
  ];
  const start = Date.parse(state.startedAt);
  const events = table(
    ['  AFTER', 'EVENT', 'WHO', 'DETAIL'],
    state.events.map((e) => [
      `  +${formatMs(Date.parse(e.at) - start)}`,
      e.type,
      e.phone ?? e.by ?? '',
      e.detail ?? '',
    ]),
  );
  return [...head, events].join('\n');
}

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}
