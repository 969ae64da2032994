/**
 * The user-facing form of an ask, validated and normalized into the workflow's input. Used by the
 * client before anything starts, and by the ask workflow itself when a user's workflow starts it
 * as a child. Deterministic: no I/O, no clock, no randomness.
 */
import type { CountryCode } from 'libphonenumber-js';
import { z } from 'zod';
import { askPrioritySchema } from './ask-priority';
import { callbackSchema, resolveCallback } from './callback';
import type { NormalizedCallback, WebhookDefaults } from './callback';
import { duration } from './duration-schema';
import { countryProblem, normalizeRecipientPhone } from './phone';
import { formatIssuePath, mergePolicies, resolvePolicy } from './policy';
import type { AskPolicy, PolicyInput, PolicyOverride, PolicyPresets } from './policy';
import { askTextProblems } from './misleading-text';
import { SNS_SMS_MAX_BYTES, composeQuestionSms, segmentCapProblem, utf8ByteLength } from './sms-text';
import { DEFAULT_SPEND_LIMITS } from './spend';
import type { SpendLimits } from './spend';

export const MIN_OPTIONS = 2;
export const MAX_OPTIONS = 9;
/** What a playbook passes to start an ask. */
export const askRequestSchema = z
  .object({
    /** One or more recipients; any format libphonenumber reads, normalized to E.164. */
    to: z.union([z.string(), z.array(z.string()).min(1, 'give at least one recipient')]),
    question: z.string().trim().min(1, 'the question is empty'),
    /** 2 to 9 option labels. Default Yes, No. */
    options: z
      .array(z.string().trim().min(1, 'an option label is empty'))
      .min(MIN_OPTIONS, `give ${MIN_OPTIONS} to ${MAX_OPTIONS} options`)
      .max(MAX_OPTIONS, `give ${MIN_OPTIONS} to ${MAX_OPTIONS} options`)
      .default(['Yes', 'No']),
    /** Shorthand for policy.timeout. Default 24h. */
    timeout: duration.optional(),
    /** Shorthand for policy.onTimeout.answer: an option label to answer with when the timeout fires. */
    defaultAnswer: z.string().trim().min(1).optional(),
    /** A preset from the policy file (SMS_ASK_POLICY_FILE); resolved by the client. */
    preset: z.string().trim().min(1).optional(),
    /** The policy, or the fields that override the preset's; checked once merged with the preset. */
    policy: z
      .custom<PolicyOverride>(
        (value) => typeof value === 'object' && value !== null && !Array.isArray(value),
        'the policy must be an object',
      )
      .optional(),
    /** The policy's name in listings (`pending --policy`). Default: the preset, else "custom" or "default". */
    policyName: z.string().trim().min(1).max(100).optional(),
    entitlement: z.string().trim().min(1).max(400).optional(),
    context: z.record(z.string(), z.unknown()).default({}),
    /** Where to POST the outcome (a signed webhook). Default: the deployment's webhookUrl, if set. */
    callback: callbackSchema.optional(),
    /**
     * The ask's task queue priority, set when the client starts it; default normal. An ask started
     * as a child workflow takes the priority of the child's start options instead.
     */
    priority: askPrioritySchema.optional(),
    /** Append the ask's end (any outcome, without codes) to the ended-asks feed (GET /v1/asks/feed). Default false. */
    feed: z.boolean().optional(),
  })
  .strict();

export type AskRequest = z.input<typeof askRequestSchema>;

/** Thrown by normalizeAskRequest when a request cannot be sent; each problem names the field. */
export class InvalidAskError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`Invalid ask: ${problems.join('; ')}`);
    this.name = 'InvalidAskError';
  }
}

export interface NormalizeOptions {
  /** Used to read numbers without a country code. */
  defaultCountry?: CountryCode;
  /** Reply codes are at most this long; used to check the SMS size before codes exist. Default 8. */
  maxCodeLength?: number;
  /** The deployment's code mode: with `sequential`, an ask must accept it (policy.sequentialCodes). Default random. */
  codeMode?: 'random' | 'sequential';
  /** Makes an entitlement when the request has none. */
  newEntitlement: () => string;
  /** The presets a request may name; read from the policy file by the client. */
  presets?: PolicyPresets;
  /** The deployment's webhook settings: the default callback, and the secret names a callback may use. */
  webhooks?: WebhookDefaults;
  /** Where SMS may go and what they may cost. Default: US and CA, 8 segments an SMS, 200 an ask. */
  spend?: SpendLimits;
}

/** What the ask may spend, in SMS segments; the ask workflow keeps the count. */
export interface AskSpend {
  /** Segments over the ask's life. */
  askSegmentBudget: number;
  /** Segments of one SMS: what a feedback SMS, rendered by the worker, may take. */
  maxSmsSegments: number;
}

export interface NormalizedAsk {
  entitlement: string;
  recipients: string[];
  question: string;
  options: string[];
  policy: AskPolicy;
  policyName: string;
  context: Record<string, unknown>;
  /** Where the outcome is POSTed; absent: no webhook. */
  callback?: NormalizedCallback;
  /** Absent in asks started before budgets: the defaults apply. */
  spend?: AskSpend;
  /** The ask's end goes to the ended-asks feed; absent (never false), so asks without it keep their old input. */
  feed?: true;
  /**
   * Its last notices (success, outcome) go out within the workflow task that ends it, as a local
   * activity; absent in asks started before, which replay with the SMS queue's activity.
   */
  noticesInTask?: true;
}

export function normalizeAskRequest(request: unknown, options: NormalizeOptions): NormalizedAsk {
  const parsed = askRequestSchema.safeParse(request);
  if (!parsed.success) {
    throw new InvalidAskError(
      parsed.error.issues.map((issue) => `${formatIssuePath(issue.path) || 'request'}: ${issue.message}`),
    );
  }
  const req = parsed.data;
  const problems: string[] = [];

  const recipients: string[] = [];
  for (const [i, raw] of (Array.isArray(req.to) ? req.to : [req.to]).entries()) {
    try {
      const phone = normalizeRecipientPhone(raw, options.defaultCountry);
      if (recipients.includes(phone)) problems.push(`to[${i}]: ${phone} is listed twice`);
      else recipients.push(phone);
    } catch (err) {
      problems.push(`to[${i}]: ${(err as Error).message}`);
    }
  }

  const spend = options.spend ?? DEFAULT_SPEND_LIMITS;
  recipients.forEach((phone, i) => {
    const refused = countryProblem(phone, spend.smsCountries);
    if (refused) problems.push(`to[${i}]: ${refused}`);
  });

  const policy = resolvePolicy(
    mergePolicies(presetOf(req.preset, options.presets, problems), inlinePolicy(req, problems)),
    { options: req.options, recipients, defaultCountry: options.defaultCountry },
    problems,
  );
  problems.push(...askTextProblems({ question: req.question, options: req.options, escalation: policy?.escalation }));
  policy?.escalation.forEach((tier, t) =>
    tier.to.forEach((phone, i) => {
      const refused = countryProblem(phone, spend.smsCountries);
      if (refused) problems.push(`policy.escalation[${t}].to[${i}]: ${refused}`);
    }),
  );

  if (policy && options.codeMode === 'sequential' && !policy.sequentialCodes) {
    problems.push(
      'policy.sequentialCodes: this deployment hands out sequential reply codes (1, 2, 3 …), which anyone who can send an SMS from ' +
        "the recipient's number guesses at once; set policy.sequentialCodes to true to accept that for this ask, or use random codes (SMS_ASK_CODE_MODE=random)",
    );
  }

  const worstCode = '9'.repeat(options.maxCodeLength ?? 8);
  const worstCodes = req.options.map((label) => ({ label, code: worstCode }));
  const worstTexts = [undefined, ...(policy?.escalation ?? []).map((tier) => tier.message)].map((lead) =>
    composeQuestionSms(req.question, worstCodes, { lead, reminder: true }),
  );
  const bytes = Math.max(...worstTexts.map((text) => utf8ByteLength(text)));
  if (bytes > SNS_SMS_MAX_BYTES) {
    problems.push(
      `question: the SMS would be up to ${bytes} bytes; SNS accepts at most ${SNS_SMS_MAX_BYTES}. Shorten the question, the option labels or the escalation messages`,
    );
  } else {
    const parts: Record<string, string> = { 'the question': req.question };
    req.options.forEach((label, i) => (parts[`options[${i}]`] = label));
    policy?.escalation.forEach(
      (tier, i) => tier.message !== undefined && (parts[`policy.escalation[${i}].message`] = tier.message),
    );
    const tooMany = worstTexts
      .map((text) => segmentCapProblem(text, spend.maxSmsSegments, parts))
      .find((p) => p !== undefined);
    if (tooMany)
      problems.push(
        `question: ${tooMany}. Shorten the question, the option labels or the escalation messages${tooMany.includes('GSM-7 cannot carry') ? ', or replace that character' : ''}`,
      );
  }

  const callback = resolveCallback(req.callback, options.webhooks, problems);

  if (problems.length || !policy) throw new InvalidAskError(problems);
  return {
    entitlement: req.entitlement ?? options.newEntitlement(),
    recipients,
    question: req.question,
    options: req.options,
    policy,
    policyName: req.policyName ?? req.preset ?? (req.policy || req.timeout || req.defaultAnswer ? 'custom' : 'default'),
    context: req.context,
    ...(callback && { callback }),
    spend: { askSegmentBudget: spend.askSegmentBudget, maxSmsSegments: spend.maxSmsSegments },
    ...(req.feed === true && { feed: true as const }),
    noticesInTask: true,
  };
}

function presetOf(name: string | undefined, presets: PolicyPresets | undefined, problems: string[]): PolicyInput {
  if (name === undefined) return {};
  const preset = presets?.[name];
  if (preset) return preset;
  const known = Object.keys(presets ?? {});
  problems.push(
    `preset: unknown preset "${name}"; ${known.length ? `the policy file defines ${known.join(', ')}` : 'no policy file with presets is configured (SMS_ASK_POLICY_FILE)'}`,
  );
  return {};
}

/** The request's policy with its shorthands folded in; a field given both ways is refused. */
function inlinePolicy(req: z.output<typeof askRequestSchema>, problems: string[]): PolicyOverride {
  const policy: PolicyOverride = { ...req.policy };
  if (req.timeout !== undefined) {
    if (policy.timeout !== undefined) problems.push('timeout: give timeout or policy.timeout, not both');
    policy.timeout = req.timeout;
  }
  if (req.defaultAnswer !== undefined) {
    if (policy.onTimeout?.answer !== undefined)
      problems.push('defaultAnswer: give defaultAnswer or policy.onTimeout.answer, not both');
    policy.onTimeout = { ...policy.onTimeout, answer: req.defaultAnswer };
  }
  return policy;
}
