import { describe, expect, it } from 'vitest';
import type { InboundReply } from '../../src/domain/inbound-message';
import { parseInboundMessage } from '../../src/domain/inbound-message';
import { DEFAULT_REPLY_RULES } from '../../src/domain/reply-guard';
import { RecipientBook } from '../../src/workflows/recipient-book';
import type { Registration } from '../../src/workflows/definitions';

const at = new Date('2026-11-25T10:00:00Z');
const phone = '+12065550142';
const later = (ms: number) => new Date(at.getTime() + ms);
const registration = (askId: string, options = ['Yes', 'No']): Registration => ({
  askId,
  question: `Q ${askId}?`,
  options,
  codeMode: 'random',
  codeLength: 7,
  rules: DEFAULT_REPLY_RULES,
});
const reply = (body: string, dedupeKey: string, sentAt?: string): InboundReply => ({
  from: phone,
  body,
  dedupeKey,
  format: 'sns-envelope',
  ...(sentAt && { sentAt }),
});

describe("a forger guessing over an ask's whole life", () => {
  it('gets at most replyGuessesPerAsk tries at one ask, however slowly it guesses over 24 h, and the ask hears of it once', () => {
    const book = new RecipientBook();
    const codes = book.register(registration('ask/a'), at).map((c) => c.code);
    const decisions = [];
    // One guess every 4 minutes for 24 h: 360 guesses, never more than the window lock allows.
    for (let i = 0; i < 360; i += 1) {
      const guess = String(1_000_000 + i);
      if (codes.includes(guess)) continue;
      decisions.push(book.route(reply(guess, `g-${i}`), later(i * 4 * 60_000)));
    }
    const reached = decisions.filter(
      (d) => d.kind === 'throttled' && d.notices.some((n) => n.kind === 'guess_limit_reached'),
    );
    expect(reached).toHaveLength(1);
    // Every guess after the limit is ignored, so at most 4 could ever have answered.
    const heard = decisions.findIndex((d) => d === reached[0]);
    expect(heard).toBe(DEFAULT_REPLY_RULES.guessesPerAsk - 1);
    // Even the right code no longer answers this ask from this phone.
    expect(book.route(reply(codes[0]!, 'right'), later(86_400_000))).toMatchObject({
      kind: 'ignore',
      why: expect.stringMatching(/stopped working/),
    });
  });

  it('lets a person who mistypes three times answer with the fourth reply', () => {
    const book = new RecipientBook();
    const [yes] = book.register(registration('ask/a'), at);
    for (const [i, typo] of ['1234567', '7654321', '1111111'].entries()) {
      expect(book.route(reply(typo, `t-${i}`), later(i * 1000))).toMatchObject({
        kind: 'feedback',
        feedback: 'failure',
      });
    }
    expect(book.route(reply(yes!.code, 'ok'), later(5000))).toMatchObject({ kind: 'answer', askId: 'ask/a' });
  });

  it("hands out fresh codes on an operator's re-send after the limit, and those answer", () => {
    const book = new RecipientBook();
    const old = book.register(registration('ask/a'), at);
    for (let i = 0; i < 4; i += 1) book.route(reply(String(2_000_000 + i), `g-${i}`), later(i * 1000));
    const fresh = book.register({ ...registration('ask/a'), renewal: 1 }, later(60_000));
    expect(fresh.map((c) => c.code)).not.toEqual(old.map((c) => c.code));
    expect(book.register({ ...registration('ask/a'), renewal: 1 }, later(61_000))).toEqual(fresh);
    expect(book.route(reply(fresh[1]!.code, 'fresh'), later(120_000))).toMatchObject({
      kind: 'answer',
      askId: 'ask/a',
      reply: { optionIndex: 1 },
    });
  });

  it('keeps the chance of a forged answer at the defaults under 1 in 10,000 (simulated)', () => {
    // 9 options (the schema's maximum), 7-digit codes: each try hits with probability 9/9,000,000.
    let hits = 0;
    const asks = 2_000;
    let seed = 7;
    const random = () => (seed = (seed * 48_271) % 2_147_483_647) / 2_147_483_647;
    for (let n = 0; n < asks; n += 1) {
      const book = new RecipientBook();
      const original = Math.random;
      Math.random = random;
      const codes = new Set(
        book.register(registration(`ask/${n}`, ['A', 'B', 'C', 'D', 'E', 'F', 'G', 'H', 'I']), at).map((c) => c.code),
      );
      for (let i = 0; i < 50; i += 1) {
        const guess = String(1_000_000 + Math.floor(random() * 9_000_000));
        const d = book.route(reply(guess, `s-${n}-${i}`), later(i * 20 * 60_000));
        if (d.kind === 'answer') hits += 1;
        expect(d.kind === 'answer').toBe(codes.has(guess));
      }
      Math.random = original;
    }
    // 2,000 asks × 4 tries × 9/9,000,000 ≈ 0.008 expected hits: none.
    expect(hits).toBe(0);
  });
});

describe('replies typed with digits of another script', () => {
  it.each([
    ['Arabic-Indic', '٠١٢٣٤٥٦٧٨٩'],
    ['Eastern Arabic-Indic', '۰۱۲۳۴۵۶۷۸۹'],
    ['Devanagari', '०१२३४५६७८९'],
    ['fullwidth', '０１２３４５６７８９'],
    ['Bengali', '০১২৩৪৫৬৭৮৯'],
  ])('reads %s digits as the code', (_script, digits) => {
    const book = new RecipientBook();
    const [yes] = book.register(registration('ask/a'), at);
    const typed = [...yes!.code].map((d) => [...digits][Number(d)]).join('');
    expect(book.route(reply(`${typed} ok`, 'd'), later(1000))).toMatchObject({
      kind: 'answer',
      askId: 'ask/a',
      reply: { optionIndex: 0 },
    });
  });
});

describe('old replies', () => {
  it('never lets a reply sent before the phone was asked answer, even with a code the phone holds now', () => {
    const book = new RecipientBook();
    const [yes] = book.register(registration('ask/new'), later(3 * 86_400_000));
    const old = book.route(reply(yes!.code, 'redriven', at.toISOString()), later(3 * 86_400_000 + 1000));
    expect(old).toMatchObject({ kind: 'ignore', why: expect.stringMatching(/before this phone was asked/) });
    expect(
      book.route(reply(yes!.code, 'new', later(3 * 86_400_000 + 500).toISOString()), later(3 * 86_400_000 + 2000)),
    ).toMatchObject({ kind: 'answer' });
  });

  it('reads when a reply was sent from the SNS envelope and SQS, the earliest of the two', () => {
    const body = JSON.stringify({
      Type: 'Notification',
      MessageId: 'm-1',
      Timestamp: '2026-11-20T08:00:00.000Z',
      Message: JSON.stringify({
        originationNumber: phone,
        destinationNumber: '+18885550100',
        messageBody: '1234567',
        inboundMessageId: 'in-1',
      }),
    });
    const parsed = parseInboundMessage(
      body,
      'sqs-1',
      {},
      { sqsSentTimestamp: String(Date.parse('2026-11-25T08:00:00Z')) },
    );
    expect(parsed).toMatchObject({ ok: true, reply: { sentAt: '2026-11-20T08:00:00.000Z' } });
  });
});
