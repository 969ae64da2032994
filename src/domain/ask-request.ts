/**
 * The user-facing form of an ask, validated and normalized into the workflow's input. Used by the
 * client before anything starts, and by the ask workflow itself when a user's workflow starts it
 * as a child. Deterministic: no I/O, no clock, no randomness.
 */
import { msToNumber } from '@temporalio/common';
import type { CountryCode } from 'libphonenumber-js';
import { z } from 'zod';
import { normalizeRecipientPhone } from './phone';
import { SNS_SMS_MAX_BYTES, composeAskSms, utf8ByteLength } from './sms-text';

export const MIN_OPTIONS = 2;
export const MAX_OPTIONS = 9;
/** XSOAR's entitlementTTL default, but here the ask always ends. */
export const DEFAULT_TIMEOUT = '24h';
const MAX_TIMEOUT_MS = 366 * 24 * 3600 * 1000;

const duration = z.union([z.number(), z.string()]).transform((value, ctx) => {
  try {
    const ms = typeof value === 'number' ? value : msToNumber(value as Parameters<typeof msToNumber>[0]);
    if (!Number.isFinite(ms) || ms < 1000 || ms > MAX_TIMEOUT_MS) throw new Error('out of range');
    return ms;
  } catch {
    ctx.addIssue({
      code: 'custom',
      message: `"${value}" is not a duration between 1s and 366d; use e.g. 90s, 15m, 4h or 2d`,
    });
    return z.NEVER;
  }
});

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
    /** How long to wait. Default 24h. */
    timeout: duration.default(msToNumber(DEFAULT_TIMEOUT)),
    /** An option label to answer with when the timeout fires. */
    defaultAnswer: z.string().trim().min(1).optional(),
    entitlement: z.string().trim().min(1).max(400).optional(),
    context: z.record(z.string(), z.unknown()).default({}),
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
  /** Makes an entitlement when the request has none. */
  newEntitlement: () => string;
}

export interface NormalizedAsk {
  entitlement: string;
  recipients: string[];
  question: string;
  options: string[];
  timeoutMs: number;
  defaultAnswer?: string;
  context: Record<string, unknown>;
}

export function normalizeAskRequest(request: unknown, options: NormalizeOptions): NormalizedAsk {
  const parsed = askRequestSchema.safeParse(request);
  if (!parsed.success) {
    throw new InvalidAskError(
      parsed.error.issues.map((issue) => `${issue.path.join('.') || 'request'}: ${issue.message}`),
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

  let defaultAnswer: string | undefined;
  if (req.defaultAnswer !== undefined) {
    const wanted = req.defaultAnswer.toLowerCase();
    defaultAnswer = req.options.find((o) => o.toLowerCase() === wanted);
    if (!defaultAnswer) {
      problems.push(`defaultAnswer: "${req.defaultAnswer}" is not one of the options (${req.options.join(', ')})`);
    }
  }

  const worstCode = '9'.repeat(options.maxCodeLength ?? 8);
  const worstSms = composeAskSms(req.question, req.options.map((label) => ({ label, code: worstCode })));
  const bytes = utf8ByteLength(worstSms);
  if (bytes > SNS_SMS_MAX_BYTES) {
    problems.push(
      `question: the SMS would be up to ${bytes} bytes; SNS accepts at most ${SNS_SMS_MAX_BYTES}. Shorten the question or the option labels`,
    );
  }

  if (problems.length) throw new InvalidAskError(problems);
  return {
    entitlement: req.entitlement ?? options.newEntitlement(),
    recipients,
    question: req.question,
    options: req.options,
    timeoutMs: req.timeout,
    defaultAnswer,
    context: req.context,
  };
}
