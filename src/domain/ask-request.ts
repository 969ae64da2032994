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
import { normalizeRecipientPhone } from './phone';
import { formatIssuePath, mergePolicies, resolvePolicy } from './policy';
import type { AskPolicy, PolicyInput, PolicyOverride, PolicyPresets } from './policy';
import { SNS_SMS_MAX_BYTES, composeQuestionSms, utf8ByteLength } from './sms-text';

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
      .custom<PolicyOverride>((value) => typeof value === 'object' && value !== null && !Array.isArray(value), 'the policy must be an object')
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

  const folded = req.options.map((o) => o.toLowerCase());
  folded.forEach((label, i) => {
    if (folded.indexOf(label) !== i) problems.push(`options[${i}]: "${req.options[i]}" is listed twice`);
  });

  const policy = resolvePolicy(
    mergePolicies(presetOf(req.preset, options.presets, problems), inlinePolicy(req, problems)),
    { options: req.options, recipients, defaultCountry: options.defaultCountry },
    problems,
  );

  if (policy && options.codeMode === 'sequential' && !policy.sequentialCodes) {
    problems.push(
      'policy.sequentialCodes: this deployment hands out sequential reply codes (1, 2, 3 …), which anyone who can send an SMS from ' +
        "the recipient's number guesses at once; set policy.sequentialCodes to true to accept that for this ask, or use random codes (SMS_ASK_CODE_MODE=random)",
    );
  }

  const worstCode = '9'.repeat(options.maxCodeLength ?? 8);
  const worstCodes = req.options.map((label) => ({ label, code: worstCode }));
  const bytes = Math.max(
    ...[undefined, ...(policy?.escalation ?? []).map((tier) => tier.message)].map((lead) =>
      utf8ByteLength(composeQuestionSms(req.question, worstCodes, { lead, reminder: true })),
    ),
  );
  if (bytes > SNS_SMS_MAX_BYTES) {
    problems.push(
      `question: the SMS would be up to ${bytes} bytes; SNS accepts at most ${SNS_SMS_MAX_BYTES}. Shorten the question, the option labels or the escalation messages`,
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
    if (policy.onTimeout?.answer !== undefined) problems.push('defaultAnswer: give defaultAnswer or policy.onTimeout.answer, not both');
    policy.onTimeout = { ...policy.onTimeout, answer: req.defaultAnswer };
  }
  return policy;
}
