/**
 * The policy of an ask as data: timeout, reminders, escalation tiers, the answer on timeout, and
 * who must answer. One schema for inline policies and presets; the checks that span fields run on
 * the merged policy. Deterministic: no I/O, no clock.
 */
import type { CountryCode } from 'libphonenumber-js';
import { z } from 'zod';
import { formatMs } from './duration';
import { duration } from './duration-schema';
import { normalizeRecipientPhone } from './phone';

/** XSOAR's entitlementTTL default, but here the ask always ends. */
export const DEFAULT_TIMEOUT_MS = 24 * 3600 * 1000;
/** Bounds that keep an ask's history small: at most (1 + reminders) question SMS per recipient. */
export const MAX_REMINDERS = 20;
export const MAX_TIERS = 5;
export const MAX_RECIPIENTS = 20;

const phones = z.union([z.string().trim().min(1), z.array(z.string().trim().min(1)).min(1, 'give at least one phone')]);

/** A policy as written (inline or as a preset); every field optional, checked field by field. */
export const policySchema = z
  .object({
    /** How long the ask waits in all. Default 24h. */
    timeout: duration.optional(),
    /** Re-send the question, with the same codes, to whoever has not answered. */
    reminders: z
      .object({ every: duration, max: z.number().int().min(1).max(MAX_REMINDERS) })
      .strict()
      .optional(),
    /** Tiers in order; each `after` is measured from the ask's start and adds its recipients. */
    escalation: z
      .array(
        z
          .object({
            after: duration,
            to: phones,
            /** A line put before the question in this tier's SMS. */
            message: z.string().trim().min(1).max(300).optional(),
          })
          .strict(),
      )
      .max(MAX_TIERS, `at most ${MAX_TIERS} escalation tiers`)
      .optional(),
    /** The answer to use when the timeout fires (an option label). Default: none, the ask ends timed_out. */
    onTimeout: z
      .object({ answer: z.string().trim().min(1).optional() })
      .strict()
      .optional(),
    /** `any`: the first answer decides. `all`: everyone reachable must agree. `{ quorum: N }`: N must agree. */
    responders: z.union([z.enum(['any', 'all']), z.object({ quorum: z.number().int().min(1) }).strict()]).optional(),
    /** Tell recipients the outcome when the ask ends, and earlier tiers when it escalates. Default true, true. */
    notify: z.object({ outcome: z.boolean().optional(), escalation: z.boolean().optional() }).strict().optional(),
    /**
     * Let a bare option label ("Yes") answer when it is the recipient's only pending ask. Default
     * false: only the reply code answers, since a label is easy to forge. For low-risk asks.
     */
    acceptLabels: z.boolean().optional(),
    /**
     * Accept sequential reply codes (1, 2, 3 …) where the deployment hands them out. Default false:
     * anyone who can send an SMS from a spoofed number guesses them at once, so such an ask is refused.
     */
    sequentialCodes: z.boolean().optional(),
    /**
     * When a question never reaches a phone (refused for good, or a delivery event says blocked,
     * unreachable, expired …): `escalate` (the default) counts the recipient out, as an opt-out does:
     * the next tier starts at once, else the ask falls to its default or ends unreachable. `wait`:
     * logged only; the ask keeps to its timers.
     */
    undelivered: z.enum(['escalate', 'wait']).optional(),
  })
  .strict();

export type PolicyInput = z.input<typeof policySchema>;
/** An inline policy over a preset: any field may be left out, and so may either key of `reminders`. */
export type PolicyOverride = Omit<PolicyInput, 'reminders'> & {
  reminders?: Partial<NonNullable<PolicyInput['reminders']>>;
};
export type Responders = 'any' | 'all' | { quorum: number };

/** A complete, checked policy: durations in milliseconds, phones in E.164. */
export interface AskPolicy {
  timeout: number;
  reminders?: { every: number; max: number };
  escalation: { after: number; to: string[]; message?: string }[];
  onTimeout: { answer?: string };
  responders: Responders;
  notify: { outcome: boolean; escalation: boolean };
  acceptLabels: boolean;
  /** Present (true) only when the ask accepts sequential codes. */
  sequentialCodes?: true;
  /** What a question that never reached its phone does. Absent in asks started before it existed: they wait, as they did. */
  undelivered?: 'escalate' | 'wait';
}

/** Named presets, as read from the policy file (`{ presets: { name: policy } }`). */
export type PolicyPresets = Record<string, PolicyInput>;

/** `escalation.1.after` → `escalation[1].after`, the way people write paths. */
export function formatIssuePath(path: readonly PropertyKey[]): string {
  return path.map((key, i) => (typeof key === 'number' ? `[${key}]` : `${i ? '.' : ''}${String(key)}`)).join('');
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The inline policy over the preset, field by field: a nested object (reminders, onTimeout,
 * notify) merges key by key; a list (escalation) or a value replaces the preset's.
 */
export function mergePolicies(preset: PolicyInput, inline: PolicyOverride): PolicyInput {
  const merged: Record<string, unknown> = { ...preset };
  for (const [key, value] of Object.entries(inline)) {
    if (value === undefined) continue;
    const base = merged[key];
    merged[key] = isPlainObject(base) && isPlainObject(value) ? { ...base, ...value } : value;
  }
  return merged as PolicyInput;
}

export interface PolicyContext {
  /** The ask's option labels, for onTimeout.answer. */
  options: readonly string[];
  /** The first recipients (`to`), already in E.164. */
  recipients: readonly string[];
  defaultCountry?: CountryCode;
}

/**
 * Checks a merged policy and fills in its defaults. Problems are pushed as `policy.<path>: reason`,
 * so that the caller can report them together with the rest of the request.
 */
export function resolvePolicy(input: unknown, context: PolicyContext, problems: string[]): AskPolicy | undefined {
  const parsed = policySchema.safeParse(input ?? {});
  if (!parsed.success) {
    problems.push(
      ...parsed.error.issues.map((issue) => `${formatIssuePath(['policy', ...issue.path])}: ${issue.message}`),
    );
    return undefined;
  }
  const raw = parsed.data;
  const before = problems.length;
  const timeout = raw.timeout ?? DEFAULT_TIMEOUT_MS;

  if (raw.reminders && raw.reminders.every >= timeout) {
    problems.push(
      `policy.reminders.every: ${formatMs(raw.reminders.every)} is not shorter than the timeout (${formatMs(timeout)}), so no reminder would go out`,
    );
  }

  const seen = new Map(context.recipients.map((phone, i) => [phone, `to[${i}]`]));
  const escalation = (raw.escalation ?? []).map((tier, t) => {
    const at = `policy.escalation[${t}]`;
    const previous = raw.escalation?.[t - 1];
    if (previous && tier.after <= previous.after) {
      problems.push(
        `${at}.after: ${formatMs(tier.after)} is not later than escalation[${t - 1}].after (${formatMs(previous.after)}); list the tiers in order`,
      );
    }
    if (tier.after >= timeout) {
      problems.push(
        `${at}.after: ${formatMs(tier.after)} is not before the timeout (${formatMs(timeout)}), so this tier would never be reached`,
      );
    }
    const to: string[] = [];
    for (const [j, given] of (Array.isArray(tier.to) ? tier.to : [tier.to]).entries()) {
      const where = `${at}.to[${j}]`;
      try {
        const phone = normalizeRecipientPhone(given, context.defaultCountry);
        const already = seen.get(phone);
        if (already) problems.push(`${where}: ${phone} is already a recipient (${already})`);
        else {
          seen.set(phone, where.slice('policy.'.length));
          to.push(phone);
        }
      } catch (err) {
        problems.push(`${where}: ${(err as Error).message}`);
      }
    }
    return { after: tier.after, to, ...(tier.message && { message: tier.message }) };
  });

  const total = seen.size;
  if (total > MAX_RECIPIENTS) {
    problems.push(`policy.escalation: ${total} recipients in all (to and every tier); at most ${MAX_RECIPIENTS}`);
  }
  const responders = raw.responders ?? 'any';
  if (typeof responders === 'object' && responders.quorum > total) {
    problems.push(
      `policy.responders.quorum: ${responders.quorum} is more than the ${total} recipient(s) in to and every escalation tier`,
    );
  }

  let answer: string | undefined;
  if (raw.onTimeout?.answer !== undefined) {
    const wanted = raw.onTimeout.answer.toLowerCase();
    answer = context.options.find((o) => o.toLowerCase() === wanted);
    if (!answer)
      problems.push(
        `policy.onTimeout.answer: "${raw.onTimeout.answer}" is not one of the options (${context.options.join(', ')})`,
      );
  }

  if (problems.length > before) return undefined;
  return {
    timeout,
    ...(raw.reminders && { reminders: raw.reminders }),
    escalation,
    onTimeout: answer === undefined ? {} : { answer },
    responders,
    notify: { outcome: raw.notify?.outcome ?? true, escalation: raw.notify?.escalation ?? true },
    acceptLabels: raw.acceptLabels ?? false,
    ...(raw.sequentialCodes === true && { sequentialCodes: true as const }),
    undelivered: raw.undelivered ?? 'escalate',
  };
}

/** Field-level checks of each preset in a policy file; `presets.<name>.<path>: reason`. */
export function checkPresets(file: unknown): { presets: PolicyPresets; problems: string[] } {
  const shape = z.object({ presets: z.record(z.string(), policySchema) }).safeParse(file);
  if (shape.success) {
    // Keep the presets as written: durations are parsed again, with the inline policy, at each ask.
    return { presets: (file as { presets: PolicyPresets }).presets, problems: [] };
  }
  return {
    presets: {},
    problems: shape.error.issues.map((issue) => `${formatIssuePath(issue.path) || 'presets'}: ${issue.message}`),
  };
}
