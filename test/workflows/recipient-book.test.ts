import { describe, expect, it } from 'vitest';
import type { InboundReply } from '../../src/domain/inbound-message';
import { RecipientBook } from '../../src/workflows/recipient-book';
import type { Registration } from '../../src/workflows/definitions';

const at = new Date('2026-11-25T10:00:00Z');
const phone = '+12065550142';
const registration = (askId: string): Registration => ({ askId, question: `Q ${askId}?`, options: ['Yes', 'No'], codeMode: 'sequential', codeLength: 4 });
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
    expect(after.route(reply(codes[1]!.code, 'r-2'), at)).toMatchObject({ kind: 'answer', askId: 'ask/a', reply: { optionIndex: 1 } });
    // The sequential counter carried over: no code of a pending or recently ended ask is handed out again.
    const next = after.register(registration('ask/c')).map((c) => c.code);
    expect(next).toEqual(['5', '6']);
  });

  it('answers a reply with an ended ask\'s code with "expired", naming its question', () => {
    const book = new RecipientBook();
    const [yes] = book.register(registration('ask/a'));
    book.end('ask/a', at);
    expect(book.route(reply(yes!.code, 'r-1'), at)).toEqual({ kind: 'feedback', feedback: 'expired', values: { question: 'Q ask/a?' } });
  });

  it('stays silent to a phone with no asks, pending or recent', () => {
    expect(new RecipientBook().route(reply('1234', 'r-1'), at)).toEqual({ kind: 'ignore' });
  });

  it('sends an opt-out to every pending ask of the phone', () => {
    const book = new RecipientBook();
    book.register(registration('ask/a'));
    book.register(registration('ask/b'));
    expect(book.route(reply('STOP', 'r-1'), at)).toEqual({ kind: 'opt_out', askIds: ['ask/a', 'ask/b'] });
  });
});
