/** Human-readable renderings for the CLI; --json prints the objects themselves. */
import type { PendingAsk } from '../client/sms-ask-client';
import type { AskState } from '../workflows/definitions';

export function formatDuration(ms: number): string {
  const abs = Math.abs(ms);
  const s = Math.round(abs / 1000);
  const text =
    s < 90 ? `${s}s` : s < 5400 ? `${Math.round(s / 60)}m` : s < 172_800 ? `${Math.round(s / 3600)}h` : `${Math.round(s / 86_400)}d`;
  return ms < 0 ? `-${text}` : text;
}

function codesOf(codes: { option: string; code: string }[]): string {
  return codes.map((c) => `${c.option}=${c.code}`).join(' ');
}

export function formatPending(rows: PendingAsk[], now = Date.now()): string {
  if (rows.length === 0) return 'No pending asks.';
  const lines = rows.flatMap((row) =>
    row.recipients.map((phone) => [
      row.askId,
      phone,
      codesOf(row.codes[phone] ?? []),
      formatDuration(now - Date.parse(row.startedAt)),
      row.deadline.replace(/\.\d+Z$/, 'Z'),
      formatDuration(Date.parse(row.deadline) - now),
      row.question.length > 40 ? `${row.question.slice(0, 39)}…` : row.question,
    ]),
  );
  return table(['ASK', 'RECIPIENT', 'CODES', 'AGE', 'DEADLINE', 'TIME LEFT', 'QUESTION'], lines);
}

export function formatStatus(state: AskState): string {
  const answer = state.answer
    ? `${state.answer.option} (via ${state.answer.via}${state.answer.via === 'default' ? '' : `, by ${state.answer.by}`}, at ${state.answer.at})`
    : '-';
  const head = [
    `ask:       ${state.askId}`,
    `question:  ${state.question}`,
    `status:    ${state.status}`,
    `answer:    ${answer}`,
    `deadline:  ${state.deadline}`,
    ...state.recipients.map((r) => `recipient: ${r.phone}  ${codesOf(r.codes)}${r.optedOut ? '  (opted out)' : ''}${r.sendError ? `  (not sent: ${r.sendError})` : ''}`),
    'events:',
  ];
  const events = state.events.map((e) => `  ${e.at}  ${e.type.padEnd(14)} ${e.phone ?? ''}${e.detail ? `  ${e.detail}` : ''}`);
  return [...head, ...events].join('\n');
}

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}
