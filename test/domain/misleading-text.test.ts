import { describe, expect, it } from 'vitest';
import { InvalidAskError, normalizeAskRequest } from '../../src/domain/ask-request';
import type { AskRequest } from '../../src/domain/ask-request';
import { confusableSkeleton, hiddenTextProblem } from '../../src/domain/misleading-text';
import { DEFAULT_SPEND_LIMITS } from '../../src/domain/spend';
import type { SpendLimits } from '../../src/domain/spend';

function problemsOf(request: Partial<AskRequest>, spend?: SpendLimits): readonly string[] {
  try {
    normalizeAskRequest(
      { to: '+12065550142', question: 'Isolate WS-042?', ...request },
      { newEntitlement: () => 'e-1', spend },
    );
  } catch (err) {
    if (err instanceof InvalidAskError) return err.problems;
    throw err;
  }
  return [];
}

describe('text that would mislead the person', () => {
  it.each([
    ['a right-to-left override', '\u202e', /U\+202E .*bidi control/],
    ['a bidi isolate', '\u2066', /U\+2066 .*bidi control/],
    ['a zero-width space', '\u200b', /U\+200B .*zero-width/],
    ['a zero-width joiner', '\u200d', /U\+200D .*zero-width/],
    ['a byte order mark', '\ufeff', /U\+FEFF .*zero-width/],
    ['a soft hyphen', '\u00ad', /U\+00AD .*invisible format/],
    ['a variation selector', '\ufe0f', /U\+FE0F .*variation selector/],
    ['a tag character', '\u{e0041}', /U\+E0041 .*tag character/],
    ['a Hangul filler', '\u3164', /U\+3164 .*invisible/],
    ['a NUL', '\u0000', /U\+0000 .*control character/],
    ['an escape', '\u001b', /U\+001B .*control character/],
    ['a C1 control', '\u0085', /U\+0085 .*control character/],
    ['a line separator', '\u2028', /U\+2028 .*line or paragraph separator/],
  ])('refuses %s in an option, naming options[1]', (_what, char, why) => {
    const problems = problemsOf({ options: ['Yes', `N${char}o`] });
    expect(problems).toEqual([expect.stringMatching(new RegExp(`^options\\[1\\]: holds ${why.source}`))]);
    expect(problems[0]).toContain('at character 2');
  });

  it('refuses hidden characters in the question and in an escalation message, and a line break in an option, but allows one in the question', () => {
    expect(problemsOf({ question: 'Isolate \u202eWS-042?' })).toEqual([
      expect.stringMatching(/^question: holds U\+202E/),
    ]);
    expect(problemsOf({ question: 'Isolate WS-042?\nIt beacons to 203.0.113.9.' })).toEqual([]);
    expect(problemsOf({ options: ['Yes\nreally', 'No'] })).toEqual([
      expect.stringMatching(/^options\[0\]: holds a line break/),
    ]);
    const escalation = [{ after: '10m', to: '+12065550188', message: 'Escalated\u200b:' }];
    expect(problemsOf({ policy: { escalation } })).toEqual([
      expect.stringMatching(/^policy\.escalation\[0\]\.message: holds U\+200B/),
    ]);
  });

  it.each([
    ['Cyrillic look-alike letters', 'Keep', 'Кеер'],
    ['Greek look-alike letters', 'KEEP', 'ΚΕΕΡ'],
    ['case', 'Keep', 'KEEP'],
    ['a trailing no-break space', 'Keep', 'Keep\u00a0'],
    ['inner spacing', 'Keep it', 'Keep  it'],
    ['full-width letters', 'Keep', 'Ｋｅｅｐ'],
    ['an NFKC ligature', 'Fine', 'ﬁne'],
    ['a digit for a letter', 'Block', 'B1ock'],
    ['a zero for an O', 'OK', '0K'],
  ])('refuses two options that differ only by %s, saying so', (_what, first, second) => {
    const problems = problemsOf({ options: [first, second] }).filter((p) => p.startsWith('options[1]'));
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/looks the same as options\[0\]|is listed twice/);
  });

  it('keeps options that read differently apart', () => {
    expect(problemsOf({ options: ['Keep', 'Kill', 'Isolate', 'Ignore'] })).toEqual([]);
    expect(problemsOf({ options: ['Да', 'Нет'] })).toEqual([]);
    expect(confusableSkeleton('Кеер')).toBe(confusableSkeleton('keep'));
    expect(hiddenTextProblem('x', 'café ✓ 👍')).toBeUndefined();
  });
});

describe('what an SMS may cost, checked before the ask starts', () => {
  it('refuses a question over the segment cap, saying how many segments and which character forced UCS-2', () => {
    const question = `Isolate host WS-042? It’s beaconing. ${'Details follow. '.repeat(40)}`;
    const [problem] = problemsOf({ question });
    expect(problem).toMatch(
      /^question: the SMS would be \d+ segments \(UCS-2 .* because of "’" \(U\+2019\) at character 24 of the question, which GSM-7 cannot carry\); this deployment allows at most 8 per SMS/,
    );
    // The same text with a straight apostrophe is GSM-7, 3 segments: accepted.
    expect(problemsOf({ question: question.replace('’', "'") })).toEqual([]);
  });

  it('refuses recipients outside the country allowlist, in to and in escalation tiers, naming the number and its country', () => {
    expect(
      problemsOf({ to: ['+12065550142', '+33612345678'] }, { ...DEFAULT_SPEND_LIMITS, smsCountries: ['US'] }),
    ).toEqual([
      expect.stringMatching(
        /^to\[1\]: \+33612345678 is in FR, and this deployment sends SMS only to US \(smsCountries, SMS_ASK_SMS_COUNTRIES\)/,
      ),
    ]);
    // Jamaica shares +1 with the US but is its own country (and a known toll-fraud destination).
    const escalation = [{ after: '10m', to: '+18765550123' }];
    expect(problemsOf({ policy: { escalation } })).toEqual([
      expect.stringMatching(/^policy\.escalation\[0\]\.to\[0\]: \+18765550123 is in JM/),
    ]);
    expect(problemsOf({ to: '+33612345678' }, { ...DEFAULT_SPEND_LIMITS, smsCountries: '*' })).toEqual([]);
  });
});
