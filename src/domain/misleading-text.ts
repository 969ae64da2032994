/**
 * Text that would show the person something other than what sms-ask means: invisible, format and
 * control characters, and labels that look alike. Deterministic and free of Node built-ins: the
 * client, the HTTP API and the ask workflow all check with it.
 *
 * The look-alike check follows Unicode's skeleton approach (UTS #39, section 4): NFKC, drop the
 * default-ignorable characters, map confusable letters to one prototype, fold case. The mapping is
 * a small table of the Cyrillic and Greek letters that render like Latin ones, plus 0/O and 1/l/I,
 * rather than the whole confusables.txt: option labels are short words that a person reads on a
 * phone, and a false "looks alike" costs only a renamed option.
 */

/** Characters that never belong in an SMS a person must read: each with why, for the error. */
const HIDDEN: ReadonlyArray<{ test: RegExp; what: string }> = [
  {
    test: /[\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]/u,
    what: 'a bidi control, which reorders the text the person sees',
  },
  { test: /[\u200b-\u200d\u2060\ufeff]/u, what: 'a zero-width character, which the person cannot see' },
  {
    test: /[\ufe00-\ufe0f\u{e0100}-\u{e01ef}]/u,
    what: 'a variation selector, which changes how the character before it looks',
  },
  { test: /[\u{e0000}-\u{e007f}]/u, what: 'a tag character, which the person cannot see' },
  { test: /[\u2028\u2029]/u, what: 'a line or paragraph separator' },
  { test: /[\u0000-\u001f\u007f-\u009f]/u, what: 'a control character' },
  { test: /\p{Cf}/u, what: 'an invisible format character' },
  { test: /\p{Default_Ignorable_Code_Point}/u, what: 'an invisible character' },
  { test: /\p{Co}/u, what: 'a private-use character, which phones show as they like' },
  { test: /\p{Cs}/u, what: 'half of a surrogate pair, which is not a character' },
];

function codePointName(char: string): string {
  return `U+${(char.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}`;
}

/**
 * Why `text` may not go into an SMS, naming `field` and the first offending character and its
 * position, or undefined when it may. A newline is allowed only where `newlines` says so.
 */
export function hiddenTextProblem(
  field: string,
  text: string,
  { newlines = false }: { newlines?: boolean } = {},
): string | undefined {
  let position = 0;
  for (const char of text) {
    position += 1;
    if (char === '\n' && newlines) continue;
    if (char === '\n') return `${field}: holds a line break at character ${position}; write it on one line`;
    const hit = HIDDEN.find(({ test }) => test.test(char));
    if (hit) return `${field}: holds ${codePointName(char)} at character ${position}, ${hit.what}; remove it`;
  }
  return undefined;
}

/** Cyrillic and Greek letters that render like a Latin letter, by that letter. */
const LOOK_ALIKES: Readonly<Record<string, string>> = {
  a: 'аα',
  b: 'Ьь',
  c: 'сϲ',
  d: 'ԁ',
  e: 'её',
  h: 'һ',
  i: 'іιї',
  j: 'ј',
  k: 'кκ',
  l: 'ӏ',
  m: 'м',
  n: 'п',
  o: 'оο0',
  p: 'рρ',
  q: 'ԛ',
  s: 'ѕ',
  t: 'т',
  u: 'υ',
  v: 'ѵν',
  w: 'ԝ',
  x: 'хχ',
  y: 'у',
  A: 'АΑ',
  B: 'ВΒ',
  C: 'СϹ',
  E: 'ЕЁΕ',
  H: 'НΗ',
  I: 'ІΙЇӀ1|',
  J: 'Ј',
  K: 'КΚ',
  M: 'МΜ',
  N: 'Ν',
  O: 'ОΟ',
  P: 'РΡ',
  S: 'Ѕ',
  T: 'ТΤ',
  X: 'ХΧ',
  Y: 'ҮΥ',
  Z: 'Ζ',
};
const PROTOTYPE = new Map<string, string>(
  Object.entries(LOOK_ALIKES).flatMap(([latin, others]) => [...others].map((c): [string, string] => [c, latin])),
);

/**
 * What a label looks like, as one string: two labels with the same skeleton read the same on a
 * phone ("Keep", "KEEP", "Keep ", full-width "Ｋｅｅｐ", Cyrillic "Кеер").
 */
export function confusableSkeleton(text: string): string {
  const mapped = [...text.normalize('NFKC').replace(/\p{Default_Ignorable_Code_Point}/gu, '')]
    .map((c) => PROTOTYPE.get(c) ?? c)
    .join('');
  // After folding, a capital I and a small l are one shape, as they are in most phone fonts.
  return mapped.toLowerCase().replace(/l/g, 'i').replace(/\s+/gu, ' ').trim();
}

/** One problem per option that looks like an earlier one, naming both. */
export function lookAlikeOptionProblems(options: readonly string[]): string[] {
  const seen = new Map<string, number>();
  const problems: string[] = [];
  options.forEach((label, i) => {
    const skeleton = confusableSkeleton(label);
    const first = seen.get(skeleton);
    if (first === undefined) {
      seen.set(skeleton, i);
      return;
    }
    const same = options[first]!.toLowerCase() === label.toLowerCase();
    problems.push(
      same
        ? `options[${i}]: "${label}" is listed twice`
        : `options[${i}]: "${label}" looks the same as options[${first}] "${options[first]}" on a phone (they differ only in case, spacing, width, invisible characters or look-alike letters of another script); make the labels differ visibly`,
    );
  });
  return problems;
}

/**
 * Every problem of an ask's SMS text: the question, the options, the escalation messages. The
 * question and messages may hold line breaks; an option label may not.
 */
export function askTextProblems(ask: {
  question: string;
  options: readonly string[];
  escalation?: ReadonlyArray<{ message?: string }>;
}): string[] {
  const problems = [
    hiddenTextProblem('question', ask.question, { newlines: true }),
    ...ask.options.map((label, i) => hiddenTextProblem(`options[${i}]`, label)),
    ...(ask.escalation ?? []).map((tier, i) =>
      tier.message === undefined
        ? undefined
        : hiddenTextProblem(`policy.escalation[${i}].message`, tier.message, { newlines: true }),
    ),
  ].filter((p): p is string => p !== undefined);
  return [...problems, ...lookAlikeOptionProblems(ask.options)];
}
