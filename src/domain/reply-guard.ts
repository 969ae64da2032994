/**
 * Limits on what one phone can make sms-ask do: wrong codes before its SMS answers are refused for
 * a while (a person mistypes once or twice; a forger guesses), and feedback SMS sent in reply to
 * replies that answered nothing, so a flood cannot spend the account's SMS rate. Pure and
 * deterministic: the caller passes the time; the state is plain data carried across continue-as-new.
 */

/** The rules, from the worker's settings; they travel with each registration to the phone's workflow. */
export interface ReplyRules {
  /**
   * Wrong codes from one phone that one of its asks takes over its whole life; the one that reaches
   * it makes that ask's codes stop working for the phone. Absent in rules sent before it existed.
   */
  guessesPerAsk?: number;
  /** Wrong codes (a number that is no active code, or several numbers) within the window that lock the phone. */
  guessLimit: number;
  guessWindowMs: number;
  /** How long a locked phone's SMS answers are refused. */
  guessCooldownMs: number;
  /** Failure, help and expired feedback SMS per phone within the window; more are not sent. */
  feedbackLimit: number;
  feedbackWindowMs: number;
  /** How long a STOP waits for SNS to list the number as opted out before it is logged as unconfirmed. */
  optOutConfirmMs: number;
}

const MINUTE = 60_000;

/** The settings' defaults; used for a phone whose workflow has not been told the rules yet. */
export const DEFAULT_REPLY_RULES: Readonly<Required<ReplyRules>> = Object.freeze({
  guessesPerAsk: 4,
  guessLimit: 5,
  guessWindowMs: 15 * MINUTE,
  guessCooldownMs: 60 * MINUTE,
  feedbackLimit: 5,
  feedbackWindowMs: 60 * MINUTE,
  optOutConfirmMs: MINUTE,
});

export interface ReplyGuardState {
  /** Times (epoch ms) of the wrong codes still inside the window. */
  wrongGuesses: number[];
  /** Until when (epoch ms) SMS answers are refused. */
  lockedUntil?: number;
  /** Times (epoch ms) of the limited feedback SMS still inside the window. */
  feedbackSent: number[];
}

export function emptyGuardState(): ReplyGuardState {
  return { wrongGuesses: [], feedbackSent: [] };
}

export type GuessVerdict =
  { locked: false; wrongGuesses: number } | { locked: true; until: number; wrongGuesses: number };

export class ReplyGuard {
  constructor(
    private readonly state: ReplyGuardState,
    private readonly rules: () => ReplyRules,
  ) {}

  /** Whether SMS answers from this phone are refused at `at`. */
  lockedAt(at: number): boolean {
    return this.state.lockedUntil !== undefined && at < this.state.lockedUntil;
  }

  lockedUntil(): number | undefined {
    return this.state.lockedUntil;
  }

  /** Counts a wrong code; the one that reaches the limit locks the phone for the cool-down. */
  wrongGuess(at: number): GuessVerdict {
    const { guessLimit, guessWindowMs, guessCooldownMs } = this.rules();
    this.state.wrongGuesses = [...this.state.wrongGuesses.filter((t) => t > at - guessWindowMs), at];
    const wrongGuesses = this.state.wrongGuesses.length;
    if (wrongGuesses < guessLimit) return { locked: false, wrongGuesses };
    this.state.lockedUntil = at + guessCooldownMs;
    this.state.wrongGuesses = [];
    return { locked: true, until: this.state.lockedUntil, wrongGuesses };
  }

  /** Takes one of the phone's feedback SMS for this window, if any is left. */
  takeFeedback(at: number): boolean {
    const { feedbackLimit, feedbackWindowMs } = this.rules();
    const recent = this.state.feedbackSent.filter((t) => t > at - feedbackWindowMs);
    if (recent.length >= feedbackLimit) {
      this.state.feedbackSent = recent;
      return false;
    }
    this.state.feedbackSent = [...recent, at];
    return true;
  }
}

/**
 * When to ask SNS whether a number that texted STOP is opted out: at once, then after 5 s, 10 s,
 * 20 s … until `totalMs` has passed, since AWS adds the number to its list a moment after the STOP.
 */
export function optOutCheckDelays(totalMs: number): number[] {
  const delays = [0];
  let waited = 0;
  for (let next = 5_000; waited < totalMs; next *= 2) {
    const delay = Math.min(next, totalMs - waited);
    delays.push(delay);
    waited += delay;
  }
  return delays;
}
