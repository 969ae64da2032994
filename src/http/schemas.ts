/**
 * The HTTP API's shapes, as zod schemas: the handlers validate with them and the OpenAPI document
 * is generated from them, so the two cannot drift. The ask request itself is the client API's
 * schema (domain/ask-request.ts), unchanged.
 */
import { z } from 'zod';
import { decodeEndedCursor, decodePendingCursor } from '../client/list-cursor';
import { duration } from '../domain/duration-schema';
import { WITHOUT_CONTROL_CHARACTERS } from '../domain/input-limits';
import { SNS_SMS_MAX_BYTES, utf8ByteLength } from '../domain/sms-text';

const REASON_MAX = 500;
const reason = z.string().trim().min(1).max(REASON_MAX).optional().describe('Why, for the event log');

/** `ask/<entitlement>` or the bare entitlement (URL-encoded in the path). */
export const askIdParams = z
  .object({ id: z.string().min(1).max(404).describe('The ask id (ask/<entitlement>) or the bare entitlement') })
  .strict();

const queryBoolean = z.enum(['true', 'false']).transform((v) => v === 'true');

/**
 * A whole number in a query string, digits only: coercion alone would read `wait=` or `wait=%20`
 * as 0 and `0x10` as 16. Documented as the integer it is.
 */
const queryInteger = (min: number, max: number) =>
  z
    .string()
    .refine((raw) => /^\d{1,9}$/.test(raw), 'a whole number, in digits')
    .transform(Number)
    .pipe(z.number().int().min(min).max(max))
    .meta({ type: 'integer', minimum: min, maximum: max });

/** A listing filter: it goes into a visibility query. */
const filterText = (max: number) =>
  z.string().min(1).max(max).regex(WITHOUT_CONTROL_CHARACTERS, 'must not contain control characters');

/** A page's `next`, checked here so that a bad one is a 400 naming the field. */
const cursorOf = (decode: (cursor: string) => unknown) =>
  z
    .string()
    .max(8000)
    .regex(/^[\w-]+$/, 'a cursor: letters, digits, - and _')
    .superRefine((cursor, ctx) => {
      try {
        decode(cursor);
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: (err as Error).message });
      }
    })
    .describe('The `next` of the page before, for the page after it');

const pageLimit = (max: number, fallback: number) =>
  queryInteger(1, max)
    .optional()
    .describe(`At most this many a page; default ${fallback}. \`next\` is given when more follow`);

export const pendingQuery = z
  .object({
    to: filterText(40).optional().describe('Only asks sent to this phone, in any tier'),
    entitlement: filterText(400).optional(),
    incident: filterText(200).optional(),
    overdue: queryBoolean.optional().describe('Only asks past their deadline (the worker is behind or down)'),
    escalated: queryBoolean.optional().describe('Only asks that escalated at least one tier'),
    policy: filterText(100).optional().describe('A preset name, custom or default'),
    codes: queryBoolean
      .optional()
      .describe(
        "Also each recipient's reply codes and delivery state, read from each ask of the page (one query per ask; the listing itself holds no codes, and of delivery only `undelivered`)",
      ),
    limit: pageLimit(500, 100),
    after: cursorOf(decodePendingCursor).optional(),
  })
  .strict();

export const endedQuery = z
  .object({
    since: duration.optional().describe('How far back, e.g. 24h (the default) or 7d'),
    limit: pageLimit(200, 50),
    after: cursorOf(decodeEndedCursor).optional(),
  })
  .strict();

export function resultQuery(maxWaitSeconds: number) {
  return z
    .object({
      wait: queryInteger(0, maxWaitSeconds)
        .optional()
        .describe(
          `Seconds to wait for the ask to end before answering 202 (long poll); default 0, at most ${maxWaitSeconds}`,
        ),
    })
    .strict();
}

export const FEED_MAX_WAIT_SECONDS = 20;

export const feedQuery = z
  .object({
    after: z
      .string()
      .regex(/^\d{1,15}$/, 'a cursor: the `next` of the last page')
      .optional()
      .describe('Entries strictly after this cursor; default 0 (from the oldest entry kept)'),
    limit: queryInteger(1, 500).optional().describe('At most this many entries; default 100'),
    wait: queryInteger(0, FEED_MAX_WAIT_SECONDS)
      .optional()
      .describe(
        `With nothing after the cursor, seconds to wait for an entry (long poll); default 0, at most ${FEED_MAX_WAIT_SECONDS}`,
      ),
  })
  .strict();

export const answerBody = z
  .object({
    option: z.string().trim().min(1).max(200).describe('An option label (any case) or its 1-based number'),
    reason,
  })
  .strict();
export const actionBody = z.object({ reason }).strict();
export const extendBody = z
  .object({
    by: duration.optional().describe('Add this to the current deadline, e.g. 2h'),
    until: z.iso.datetime({ offset: true }).optional().describe('The new deadline, ISO 8601'),
    reason,
  })
  .strict()
  .refine((b) => (b.by === undefined) !== (b.until === undefined), {
    message: 'give either by or until',
    path: ['by'],
  });

export const smsBody = z
  .object({
    to: z.string().min(1).max(40).describe('The phone, E.164 or as the default country writes it'),
    message: z
      .string()
      .min(1)
      .max(SNS_SMS_MAX_BYTES)
      .refine((m) => utf8ByteLength(m) <= SNS_SMS_MAX_BYTES, `at most ${SNS_SMS_MAX_BYTES} bytes (SNS's limit)`),
  })
  .strict();

export const replyBody = z
  .object({
    from: z
      .string()
      .min(1)
      .max(40)
      .describe('The phone the reply is taken as from, E.164 or as the default country writes it'),
    text: z.string().min(1).max(1600).describe('The reply as the person would text it, e.g. 1418'),
  })
  .strict();

// ---- responses ----------------------------------------------------------------------------------

export const problemSchema = z.object({ field: z.string(), message: z.string() });
export const errorSchema = z
  .object({
    error: z
      .string()
      .describe(
        'A stable code: invalid_request, unauthorized, forbidden, not_found, ask_ended, rejected, rate_limited …',
      ),
    message: z.string(),
    problems: z.array(problemSchema).optional().describe('Every problem with the request, by field'),
  })
  .describe('An error');

export const startedSchema = z.object({
  askId: z.string(),
  entitlement: z.string(),
  created: z.boolean().describe('false: an ask with this entitlement was already started, and nothing was sent again'),
  links: z.object({ self: z.string(), result: z.string() }),
});

const optionCode = z.object({ option: z.string(), code: z.string() });
const answerSchema = z.object({
  option: z.string(),
  optionIndex: z.number().int(),
  via: z.enum(['sms', 'manual', 'default']),
  by: z.string(),
  at: z.string(),
  code: z.string().optional(),
  injectedBy: z.string().optional().describe("An SMS answer injected through POST /v1/replies: the API key's name"),
});
const eventSchema = z.object({
  at: z.string(),
  type: z
    .string()
    .describe('sent, delivered, undelivered, reply_received, answered, extended, cancelled, webhook_delivered …'),
  phone: z.string().optional(),
  by: z.string().optional().describe('The operator (the API key name) for answer, cancel, extend, resend'),
  detail: z.string().optional(),
});
/** A question SMS's delivery, from its End User Messaging delivery events. */
const deliverySchema = z.object({
  status: z
    .enum(['pending', 'delivered', 'undelivered', 'unknown'])
    .describe('undelivered: it never will be (blocked, unreachable, expired …); unknown: no final word in 72 hours'),
  eventType: z.string().describe("AWS's event type: TEXT_DELIVERED, TEXT_BLOCKED …"),
  at: z.string(),
  reason: z.string().optional().describe("AWS's words for the status"),
});
const askStatus = z.enum(['waiting', 'answered', 'timed_out', 'cancelled', 'unreachable', 'undecided']);

export const askStateSchema = z
  .looseObject({
    askId: z.string(),
    entitlement: z.string(),
    question: z.string(),
    options: z.array(z.string()),
    status: askStatus,
    answer: answerSchema.optional(),
    recipients: z.array(
      z.looseObject({
        phone: z.string(),
        tier: z.number().int(),
        codes: z.array(optionCode),
        answer: z.looseObject({ option: z.string(), optionIndex: z.number().int(), at: z.string() }).optional(),
        optedOut: z.boolean().optional(),
        sendError: z.string().optional().describe('The question was refused at send, for good'),
        delivery: deliverySchema.optional().describe('Absent: sent through SNS (no receipts), or no event yet'),
        costUsd: z.number().optional().describe("This recipient's SMS, as their delivery events priced them"),
      }),
    ),
    policy: z.looseObject({}),
    policyName: z.string(),
    tier: z.number().int(),
    remindersSent: z.number().int(),
    startedAt: z.string(),
    deadline: z.string(),
    endedAt: z.string().optional(),
    cancelReason: z.string().optional(),
    context: z.record(z.string(), z.unknown()),
    costUsd: z.number().optional().describe("The ask's SMS so far, in USD, as their delivery events priced them"),
    events: z.array(eventSchema),
  })
  .describe("An ask's state, with its event log");

export const waitingSchema = z.object({ askId: z.string(), status: z.literal('waiting') });

/** What both listings show of an ask. */
const listedAsk = z.object({
  askId: z.string(),
  entitlement: z.string(),
  incident: z.string().optional(),
  question: z.string(),
});

export const pendingListSchema = z.object({
  asks: z.array(
    listedAsk.extend({
      recipients: z.array(z.string()),
      undelivered: z
        .array(z.string())
        .describe('Recipients whose question never reached the phone: refused at send, or its delivery failed'),
      codes: z.record(z.string(), z.array(optionCode)).optional().describe('Only with codes=true'),
      delivery: z
        .record(z.string(), deliverySchema)
        .optional()
        .describe("Only with codes=true: each recipient's delivery that is known, read with the codes"),
      startedAt: z.string(),
      deadline: z.string(),
      tier: z.number().int(),
      remindersSent: z.number().int(),
      policy: z.string(),
      context: z.record(z.string(), z.unknown()),
    }),
  ),
  next: z.string().optional().describe('There are more: pass it as `after` for the next page'),
});

export const endedListSchema = z.object({
  asks: z.array(
    listedAsk.extend({
      status: z.enum(['answered', 'timed_out', 'cancelled', 'unreachable', 'undecided', 'failed']),
      answer: answerSchema.optional(),
      startedAt: z.string(),
      endedAt: z.string(),
      timeToAnswerMs: z.number().optional(),
      policy: z.string(),
    }),
  ),
  next: z.string().optional().describe('There are more: pass it as `after` for the next page'),
});

export const feedSchema = z.object({
  entries: z.array(
    z.object({
      seq: z.number().int().describe("The entry's place in the feed"),
      askId: z.string(),
      entitlement: z.string(),
      status: z.enum(['answered', 'timed_out', 'cancelled', 'unreachable', 'undecided']),
      answer: answerSchema.omit({ code: true }).optional().describe('Absent when nothing answered; never a reply code'),
      question: z.string(),
      options: z.array(z.string()),
      context: z.record(z.string(), z.unknown()),
      endedAt: z.string(),
    }),
  ),
  next: z.string().describe('Pass as `after` next time; equals `after` when there is nothing new'),
  gap: z.boolean().describe('Entries after `after` were dropped (retention) before they were read'),
});

export const replyOutcomeSchema = z.object({
  outcome: z
    .enum(['answered', 'refused'])
    .describe(
      "answered: taken as the phone's answer to the ask; refused: it answers nothing (wrong code, expired, locked, no ask …)",
    ),
  askId: z.string().optional().describe('When the reply matched an ask'),
  entitlement: z.string().optional(),
  option: z.string().optional(),
  optionIndex: z.number().int().optional(),
  message: z.string().describe('What became of the reply, for a person'),
});

export const healthSchema = z.object({
  workerPolling: z.boolean().describe('A worker polled the task queue within the last minute'),
  taskQueue: z.string(),
});

export const smsSentSchema = z.object({
  to: z.string(),
  messageId: z.string(),
  segments: z.number().int(),
  encoding: z.string(),
  smsId: z.string().describe("The one-way SMS workflow's id: its history records who sent what, and when"),
});

export const callerSchema = z.object({
  name: z.string().describe("The key's name: operator actions are recorded under it"),
  scope: z
    .enum(['read', 'operate', 'codes'])
    .describe(
      'read: every listing and ask, without reply codes; operate: also start, answer, extend, resend, cancel, send; codes: also live reply codes',
    ),
});
