import { describe, expect, it } from 'vitest';
import type { InboundReply } from '../../src/domain/inbound-message';
import { CodeSpaceExhaustedError } from '../../src/domain/reply-codes';
import { DEFAULT_REPLY_RULES } from '../../src/domain/reply-guard';
import { RecipientBook } from '../../src/workflows/recipient-book';
import type { Registration } from '../../src/workflows/definitions';

const at = new Date('2026-11-25T10:00:00Z');
const phone = '+12065550142';
const registration = (askId: string): Registration => ({
  askId,
  question: `Q ${askId}?`,
  options: ['Yes', 'No'],
  codeMode: 'sequential',
  codeLength: 4,
});
const reply = (body: string, dedupeKey: string): InboundReply => ({ from: phone, body, dedupeKey, format: 'raw' });

describe('RecipientBook', () => {
  it('gives a retried registration the same codes instead of new ones', () => {
    const book = new RecipientBook();
    const first = book.register(registration('ask/a'));
    expect(book.register(registration('ask/a'))).toEqual(first);
    expect(book.pending()).toHaveLength(1);
  });

  it('keeps codes, pending asks and seen replies across continue-as-new', () => {
    const before = new RecipientBook();
    const codes = before.register(registration('ask/a'));
    expect(before.route(reply('hello', 'dup-1'), at)).toMatchObject({ kind: 'feedback', feedback: 'failure' });
    before.register(registration('ask/b'));
    before.end('ask/b', at);

    const after = new RecipientBook(JSON.parse(JSON.stringify(before.snapshot())));
    expect(after.route(reply('hello', 'dup-1'), at)).toEqual({ kind: 'duplicate' });
    expect(after.route(reply(codes[1]!.code, 'r-2'), at)).toMatchObject({
      kind: 'answer',
      askId: 'ask/a',
      reply: { optionIndex: 1 },
    });
    // The sequential counter carried over: no code of a pending or recently ended ask is handed out again.
    const next = after.register(registration('ask/c')).map((c) => c.code);
    expect(next).toEqual(['5', '6']);
  });

  it('hands a redelivered answer over again, also after continue-as-new, until it is reported undelivered', () => {
    const before = new RecipientBook();
    const [yes] = before.register({ ...registration('ask/a'), endsOnAnswer: true });
    const decision = before.route(reply(yes!.code, 'r-1'), at);
    if (decision.kind !== 'answer') throw new Error(`not an answer: ${decision.kind}`);
    const delivery = { askId: decision.askId, reply: decision.reply };
    before.handOver(delivery, at);
    // Its codes are freed at once: the first answer ends this ask.
    expect(before.pending()).toHaveLength(0);

    const after = new RecipientBook(JSON.parse(JSON.stringify(before.snapshot())));
    expect(after.route(reply(yes!.code, 'r-1'), at)).toEqual({ kind: 'duplicate', delivery });
    expect(after.undelivered('ask/a', 'r-2', at)).toBeUndefined(); // not a reply it handed over
    expect(after.undelivered('ask/a', 'r-1', at)).toBe('Q ask/a?');
    expect(after.undelivered('ask/a', 'r-1', at)).toBeUndefined(); // "expired" once
    expect(after.route(reply(yes!.code, 'r-1'), at)).toEqual({ kind: 'duplicate' });
  });

  it('frees the codes of an ask that ends with its first answer once an answer reached it, and keeps the others', () => {
    const book = new RecipientBook();
    const [anyYes] = book.register({ ...registration('ask/any'), endsOnAnswer: true });
    const [quorumYes] = book.register(registration('ask/quorum'));
    book.answered('ask/any', at);
    book.answered('ask/quorum', at);
    expect(book.pending().map((p) => p.askId)).toEqual(['ask/quorum']);
    // A second reply with the freed code is a late one, not a second answer.
    expect(book.route(reply(anyYes!.code, 'r-1'), at)).toEqual({
      kind: 'feedback',
      feedback: 'expired',
      values: { question: 'Q ask/any?' },
    });
    expect(book.route(reply(quorumYes!.code, 'r-2'), at)).toMatchObject({ kind: 'answer', askId: 'ask/quorum' });
  });

  it('answers a reply with an ended ask\'s code with "expired", naming its question', () => {
    const book = new RecipientBook();
    const [yes] = book.register(registration('ask/a'));
    book.end('ask/a', at);
    expect(book.route(reply(yes!.code, 'r-1'), at)).toEqual({
      kind: 'feedback',
      feedback: 'expired',
      values: { question: 'Q ask/a?' },
    });
  });

  it('stays silent to a phone with no asks, pending or recent', () => {
    expect(new RecipientBook().route(reply('1234', 'r-1'), at)).toMatchObject({ kind: 'ignore' });
  });

  it("has a STOP confirmed with SNS before it tells any ask, checking again for the rules' window", () => {
    const book = new RecipientBook();
    book.register({ ...registration('ask/a'), rules: { ...DEFAULT_REPLY_RULES, optOutConfirmMs: 60_000 } });
    book.register(registration('ask/b'));
    expect(book.route(reply('STOP', 'r-1'), at)).toEqual({
      kind: 'confirm_opt_out',
      keyword: 'STOP',
      checkDelaysMs: [0, 5_000, 10_000, 20_000, 25_000],
    });
    expect(book.confirmOptOut()).toEqual(['ask/a', 'ask/b']);
  });

  it('answers a bare label only for an ask whose policy accepts labels', () => {
    const strict = new RecipientBook();
    strict.register(registration('ask/a'));
    expect(strict.route(reply('Yes', 'r-1'), at)).toMatchObject({ kind: 'feedback', feedback: 'failure' });
    const lenient = new RecipientBook();
    lenient.register({ ...registration('ask/a'), acceptLabels: true });
    expect(lenient.route(reply('Yes', 'r-1'), at)).toMatchObject({
      kind: 'answer',
      askId: 'ask/a',
      reply: { optionIndex: 0 },
    });
  });

  it('keeps only the first 160 characters of a reply body in what it routes', () => {
    const book = new RecipientBook();
    const [yes] = book.register(registration('ask/a'));
    const decision = book.route(reply(`${yes!.code} ${'x'.repeat(1_000)}`, 'r-1'), at);
    expect(decision.kind === 'answer' && decision.reply.body.length).toBe(161); // 160 and "…"
  });

  it('refuses a reply over the input limits that reached it some other way than the parser, and does not remember its key', () => {
    const book = new RecipientBook();
    const [yes] = book.register(registration('ask/a'));
    expect(book.route(reply(yes!.code, 'k'.repeat(129)), at)).toMatchObject({
      kind: 'ignore',
      why: 'the reply is over the input limits',
    });
    expect(book.route(reply(`${yes!.code} ${'x'.repeat(70_000)}`, 'r-1'), at)).toMatchObject({ kind: 'ignore' });
    expect(book.snapshot().recentDedupeKeys).toEqual([]);
  });

  it('rejects, in the validator, a registration for which no code is left', () => {
    const book = new RecipientBook();
    const random = (askId: string): Registration => ({
      ...registration(askId),
      codeMode: 'random',
      codeLength: 1,
      options: ['A', 'B', 'C'],
    });
    book.register(random('ask/a'));
    book.register(random('ask/b'));
    book.register(random('ask/c'));
    expect(() => book.checkRegistration(random('ask/d'))).toThrow(CodeSpaceExhaustedError);
    // A retried registration of a pending ask is still fine: it gets its codes back.
    expect(() => book.checkRegistration(random('ask/a'))).not.toThrow();
  });
});

describe('RecipientBook: guessing and feedback limits', () => {
  const rules = {
    ...DEFAULT_REPLY_RULES,
    guessLimit: 3,
    guessWindowMs: 60_000,
    guessCooldownMs: 600_000,
    feedbackLimit: 2,
    feedbackWindowMs: 60_000,
  };
  const later = (ms: number) => new Date(at.getTime() + ms);

  it('locks the phone at the limit of wrong codes, tells its pending asks, and then refuses even the right code', () => {
    const book = new RecipientBook();
    const [yes] = book.register({ ...registration('ask/a'), rules });
    expect(book.route(reply('9001', 'g-1'), later(0))).toMatchObject({ kind: 'feedback', feedback: 'failure' });
    expect(book.route(reply('9002 9003', 'g-2'), later(1_000))).toMatchObject({
      kind: 'feedback',
      feedback: 'failure',
    });
    const locked = book.route(reply('9004', 'g-3'), later(2_000));
    expect(locked).toMatchObject({ kind: 'throttled', notices: [{ kind: 'guessing_throttled', askIds: ['ask/a'] }] });
    const detail = locked.kind === 'throttled' ? locked.notices[0]?.detail : undefined;
    expect(detail).toMatch(
      /…0142 sent 3 wrong codes within 1 min; its SMS answers are refused until 2026-11-25T10:10:02.000Z/,
    );
    expect(detail).not.toContain(phone);

    expect(book.route(reply(yes!.code, 'g-4'), later(3_000))).toMatchObject({
      kind: 'ignore',
      why: expect.stringMatching(/too many wrong codes/),
    });
    // After the cool-down the right code answers again.
    expect(book.route(reply(yes!.code, 'g-5'), later(602_001))).toMatchObject({ kind: 'answer', askId: 'ask/a' });
  });

  it('forgets wrong codes older than the window', () => {
    const book = new RecipientBook();
    book.register({ ...registration('ask/a'), rules });
    book.route(reply('9001', 'g-1'), later(0));
    book.route(reply('9002', 'g-2'), later(1_000));
    expect(book.route(reply('9003', 'g-3'), later(61_000))).not.toMatchObject({ kind: 'throttled' });
  });

  it('does not count words, an expired code or an opt-out as guesses', () => {
    const book = new RecipientBook();
    const [old] = book.register({ ...registration('ask/old'), rules });
    book.end('ask/old', at);
    book.register(registration('ask/a'));
    for (const [i, body] of ['hello', old!.code, 'STOP', 'what?', old!.code].entries()) {
      expect(book.route(reply(body, `w-${i}`), later(i))).not.toMatchObject({ kind: 'throttled' });
    }
  });

  it('sends at most the limit of failure, help and expired feedback per window, then stays silent', () => {
    const book = new RecipientBook();
    book.register({ ...registration('ask/a'), rules });
    expect(book.route(reply('hello', 'f-1'), later(0))).toMatchObject({ kind: 'feedback', feedback: 'failure' });
    expect(book.route(reply('HELP', 'f-2'), later(1))).toMatchObject({ kind: 'feedback', feedback: 'help' });
    expect(book.route(reply('hello again', 'f-3'), later(2))).toMatchObject({
      kind: 'ignore',
      why: expect.stringMatching(/feedback limit/),
    });
    expect(book.route(reply('hello, later', 'f-4'), later(60_001))).toMatchObject({
      kind: 'feedback',
      feedback: 'failure',
    });
  });

  it('keeps the lock and the counts across continue-as-new', () => {
    const before = new RecipientBook();
    const [yes] = before.register({ ...registration('ask/a'), rules });
    for (const i of [1, 2, 3]) before.route(reply(`900${i}`, `c-${i}`), later(i));
    const after = new RecipientBook(JSON.parse(JSON.stringify(before.snapshot())));
    expect(after.route(reply(yes!.code, 'c-4'), later(10))).toMatchObject({ kind: 'ignore' });
  });
});
