import { describe, it, expect } from 'vitest';
import { HELP_KEYWORD, OPT_OUT_KEYWORDS, interpretReply } from '../../src/domain/reply-grammar';
import type { PendingAskView } from '../../src/domain/reply-grammar';

const isolate: PendingAskView = {
  askId: 'isolate',
  options: ['Yes', 'No'],
  codes: [
    { code: '4821', optionIndex: 0 },
    { code: '7302', optionIndex: 1 },
  ],
};

const reboot: PendingAskView = {
  askId: 'reboot',
  options: ['Reboot now', 'Wait', 'Never'],
  codes: [
    { code: '1150', optionIndex: 0 },
    { code: '2260', optionIndex: 1 },
    { code: '3370', optionIndex: 2 },
  ],
};

describe('interpretReply: codes', () => {
  it.each(['4821', '4821 thanks', 'ok, 4821.', '  4821\n', '#4821!', 'Yes 4821'])(
    'routes %j to the ask and option that hold code 4821',
    (body) => {
      expect(interpretReply(body, [isolate, reboot])).toEqual({
        kind: 'answer',
        askId: 'isolate',
        optionIndex: 0,
        code: '4821',
      });
    },
  );

  it('routes a code to the right one of several pending asks', () => {
    expect(interpretReply('2260', [isolate, reboot])).toEqual({
      kind: 'answer',
      askId: 'reboot',
      optionIndex: 1,
      code: '2260',
    });
  });

  it('accepts the same code written twice', () => {
    expect(interpretReply('4821 4821', [isolate])).toMatchObject({ kind: 'answer', code: '4821' });
  });

  it('refuses to choose between two different active codes', () => {
    expect(interpretReply('4821 or 7302', [isolate])).toEqual({
      kind: 'unmatched',
      reason: 'several_numbers',
      numberTokens: ['4821', '7302'],
    });
  });

  it('refuses two codes even when they belong to different asks', () => {
    expect(interpretReply('4821, 1150', [isolate, reboot])).toMatchObject({
      kind: 'unmatched',
      reason: 'several_numbers',
    });
  });

  it('never answers a spray of numbers, even with the right code among them', () => {
    const spray = Array.from({ length: 300 }, (_, i) => String(1000 + i * 13))
      .concat('4821')
      .join(' ');
    expect(interpretReply(spray, [isolate])).toMatchObject({ kind: 'unmatched', reason: 'several_numbers' });
  });

  it('counts a number in another script, or a code next to a stray number, as several numbers', () => {
    expect(interpretReply('4821 ٧', [isolate])).toMatchObject({ kind: 'unmatched', reason: 'several_numbers' });
    expect(interpretReply('4821 at 10 pm', [isolate])).toMatchObject({ kind: 'unmatched', reason: 'several_numbers' });
  });

  it('reads full-width digits as the code they spell', () => {
    expect(interpretReply('４８２１', [isolate])).toMatchObject({ kind: 'answer', code: '4821' });
  });

  it('refuses a code that two pending asks hold, rather than guessing', () => {
    const clash: PendingAskView = { askId: 'clash', options: ['A', 'B'], codes: [{ code: '4821', optionIndex: 1 }] };
    expect(interpretReply('4821', [isolate, clash])).toMatchObject({ kind: 'unmatched', reason: 'ambiguous' });
  });

  it('prefers an active code over a label match', () => {
    expect(interpretReply('No 4821', [isolate])).toMatchObject({ kind: 'answer', optionIndex: 0, code: '4821' });
  });

  it('does not find a code glued to other digits', () => {
    expect(interpretReply('48210', [isolate])).toEqual({
      kind: 'unmatched',
      reason: 'unknown_code',
      numberTokens: ['48210'],
    });
  });

  it('never routes to an ask that is not pending for this sender', () => {
    expect(interpretReply('1150', [isolate])).toEqual({
      kind: 'unmatched',
      reason: 'unknown_code',
      numberTokens: ['1150'],
    });
  });
});

describe('interpretReply: option labels', () => {
  const labelled = (ask: PendingAskView): PendingAskView => ({ ...ask, acceptLabels: true });

  it('does not answer with a bare label by default: only the code answers', () => {
    expect(interpretReply('Yes', [isolate])).toEqual({ kind: 'unmatched', reason: 'no_code', numberTokens: [] });
  });

  it.each(['yes', 'YES', ' Yes! ', 'yes.'])(
    'selects the option labelled Yes for %j when the one pending ask accepts labels',
    (body) => {
      expect(interpretReply(body, [labelled(isolate)])).toEqual({ kind: 'answer', askId: 'isolate', optionIndex: 0 });
    },
  );

  it('matches a multi-word label with different spacing and case', () => {
    expect(interpretReply('reboot   NOW', [labelled(reboot)])).toEqual({
      kind: 'answer',
      askId: 'reboot',
      optionIndex: 0,
    });
  });

  it('does not match a label when several asks are pending', () => {
    expect(interpretReply('Yes', [labelled(isolate), labelled(reboot)])).toEqual({
      kind: 'unmatched',
      reason: 'no_code',
      numberTokens: [],
    });
  });

  it('does not match a label that is only part of the body', () => {
    expect(interpretReply('yes please', [labelled(isolate)])).toEqual({
      kind: 'unmatched',
      reason: 'no_code',
      numberTokens: [],
    });
  });

  it('refuses a label that two options share', () => {
    const twice: PendingAskView = { askId: 't', options: ['Go', 'go!'], codes: [], acceptLabels: true };
    expect(interpretReply('GO', [twice])).toMatchObject({ kind: 'unmatched', reason: 'ambiguous' });
  });
});

describe('interpretReply: keywords', () => {
  it.each(OPT_OUT_KEYWORDS)('treats %s as an opt-out', (keyword) => {
    expect(interpretReply(keyword.toLowerCase(), [isolate])).toEqual({ kind: 'opt_out', keyword });
  });

  it('lists exactly the opt-out keywords AWS honours', () => {
    expect([...OPT_OUT_KEYWORDS].sort()).toEqual(
      ['ARRET', 'CANCEL', 'END', 'OPT-OUT', 'OPTOUT', 'QUIT', 'REMOVE', 'STOP', 'TD', 'UNSUBSCRIBE'].sort(),
    );
  });

  it('treats STOP with surrounding punctuation and spaces as an opt-out', () => {
    expect(interpretReply('  Stop!! ', [isolate])).toEqual({ kind: 'opt_out', keyword: 'STOP' });
  });

  it('does not opt out when STOP is only part of the body', () => {
    expect(interpretReply('please stop 4821', [isolate])).toMatchObject({ kind: 'answer', code: '4821' });
    expect(interpretReply("don't stop", [isolate])).toMatchObject({ kind: 'unmatched', reason: 'no_code' });
  });

  it('opts out even when an option is labelled like a keyword, because AWS already has', () => {
    const cancelAsk: PendingAskView = { askId: 'c', options: ['Proceed', 'Cancel'], codes: [] };
    expect(interpretReply('cancel', [cancelAsk])).toEqual({ kind: 'opt_out', keyword: 'CANCEL' });
  });

  it('answers HELP in any case with help', () => {
    expect(HELP_KEYWORD).toBe('HELP');
    expect(interpretReply('help?', [isolate])).toEqual({ kind: 'help' });
    expect(interpretReply('Help', [])).toEqual({ kind: 'help' });
  });
});

describe('interpretReply: failures', () => {
  it.each(['', '   ', '\n'])('calls %j an empty reply', (body) => {
    expect(interpretReply(body, [isolate])).toEqual({ kind: 'unmatched', reason: 'empty', numberTokens: [] });
  });

  it('reports the one number that is no active code, so the caller can check ended asks', () => {
    expect(interpretReply('9999, 9999', [isolate])).toEqual({
      kind: 'unmatched',
      reason: 'unknown_code',
      numberTokens: ['9999'],
    });
  });

  it('reports several numbers that are not active codes as several numbers', () => {
    expect(interpretReply('9999 or 12, 9999', [isolate])).toEqual({
      kind: 'unmatched',
      reason: 'several_numbers',
      numberTokens: ['9999', '12'],
    });
  });

  it('reports unknown codes even with nothing pending', () => {
    expect(interpretReply('4821', [])).toEqual({ kind: 'unmatched', reason: 'unknown_code', numberTokens: ['4821'] });
  });

  it('says no_code when the body has neither a code nor a label', () => {
    expect(interpretReply('what is this?', [isolate])).toEqual({
      kind: 'unmatched',
      reason: 'no_code',
      numberTokens: [],
    });
  });
});
