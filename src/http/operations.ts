/**
 * The HTTP API, one entry per operation: its path, scope, input schemas, documented responses and
 * handler. The server registers these and the OpenAPI document is built from the same entries.
 */
import { randomUUID } from 'node:crypto';
import type { SNSClient } from '@aws-sdk/client-sns';
import type { RoutedOutcome } from '../inbound/reply-router';
import type { z } from 'zod';
import type { SmsAskClient } from '../client/sms-ask-client';
import type { Settings } from '../config';
import type { InboundReply } from '../domain/inbound-message';
import { normalizeRecipientPhone } from '../domain/phone';
import { askRequestSchema } from '../domain/ask-request';
import type { AskState } from '../workflows/definitions';
import { toAskWorkflowId } from '../workflows/definitions';
import { allows } from './auth';
import type { Caller, Scope } from './auth';
import { HttpError, invalidRequest } from './errors';
import {
  actionBody,
  answerBody,
  askIdParams,
  askStateSchema,
  callerSchema,
  endedListSchema,
  endedQuery,
  extendBody,
  FEED_MAX_WAIT_SECONDS,
  feedQuery,
  feedSchema,
  healthSchema,
  pendingListSchema,
  pendingQuery,
  replyBody,
  replyOutcomeSchema,
  resultQuery,
  smsBody,
  smsSentSchema,
  startedSchema,
  waitingSchema,
} from './schemas';

export const API_PREFIX = '/v1';

export interface OperationContext<P, Q, B> {
  params: P;
  query: Q;
  body: B;
  caller: Caller;
  /** Aborted when the client goes away. */
  signal: AbortSignal;
}

export interface OperationResult {
  status: number;
  body: unknown;
}

export interface ResponseDoc {
  description: string;
  schema?: z.ZodType;
  /** OpenAPI links: operations whose `id` comes from this response's entitlement. */
  links?: string[];
}

export interface Operation<P = unknown, Q = unknown, B = unknown> {
  id: string;
  method: 'GET' | 'POST';
  /** OpenAPI form: /v1/asks/{id}. */
  path: string;
  summary: string;
  description?: string;
  tag: string;
  scope: Scope;
  params?: z.ZodType<P>;
  query?: z.ZodType<Q>;
  body?: z.ZodType<B>;
  /** The body may be left out (an empty object is assumed). Default false. */
  bodyOptional?: boolean;
  /** A valid body, for the OpenAPI document. */
  example?: unknown;
  /** Success responses (errors are added by the server: 400, 401, 403, 404, 413, 415, 429, 503). */
  responses: Record<number, ResponseDoc>;
  /** The operation acts on one ask: a 404 and a 409 are possible. */
  onAsk?: boolean;
  /** The longest a long poll may hold the connection, in milliseconds; Temporal's deadline is extended by it. Default 0. */
  longPollMs?: number;
  handle(ctx: OperationContext<P, Q, B>): Promise<OperationResult>;
}

export interface OperationDeps {
  settings: Settings;
  asks: SmsAskClient;
  sns: SNSClient;
  /** Routes a reply as one from SQS is routed (routeReplyDecided). */
  routeReply: (reply: InboundReply) => Promise<RoutedOutcome>;
}

/** How long an injected reply's answer is looked for in its ask's state before the reply is reported as handed over. */
const INJECTED_ANSWER_CHECK_MS = 5_000;

const define = <P, Q, B>(op: Operation<P, Q, B>) => op as unknown as Operation;

/** The URL of an ask, by entitlement: an ask id holds a slash, so the path uses the entitlement. */
export function askPath(askId: string): string {
  const id = toAskWorkflowId(askId);
  const entitlement = id.slice('ask/'.length);
  // /asks/pending, /asks/ended and /asks/feed are listings; such an entitlement goes by its full id.
  return `${API_PREFIX}/asks/${encodeURIComponent(['pending', 'ended', 'feed'].includes(entitlement) ? id : entitlement)}`;
}

/** The operations on one ask, which a started ask links to. */
const ASK_OPERATIONS = ['getAsk', 'getAskResult', 'answerAsk', 'extendAsk', 'resendAsk', 'cancelAsk'];

const ok = (body: unknown, status = 200): OperationResult => ({ status, body });

/**
 * What the ask made of an injected reply that its recipient routed to it: the phone's answer, or
 * why not (the ask ended first, or the phone had answered already).
 */
async function injectedAnswer(
  asks: SmsAskClient,
  phone: string,
  askId: string,
  optionIndex: number,
  code: string | undefined,
) {
  const until = Date.now() + INJECTED_ANSWER_CHECK_MS;
  for (;;) {
    const state = await asks.status(askId);
    const option = state.options[optionIndex];
    const matched = { askId, entitlement: state.entitlement, option, optionIndex };
    const answer = state.recipients.find((r) => r.phone === phone)?.answer;
    if (answer && answer.optionIndex === optionIndex && answer.code === code) {
      const more = state.status === 'waiting' ? '; the ask waits for more answers' : '';
      return { outcome: 'answered', ...matched, message: `Answered ${option} for ${askId}, as ${phone}${more}.` };
    }
    if (answer)
      return { outcome: 'refused', ...matched, message: `Refused: ${phone} had already answered ${answer.option}.` };
    if (state.status !== 'waiting')
      return { outcome: 'refused', ...matched, message: `Refused: the ask had already ended (${state.status}).` };
    if (Date.now() >= until)
      return {
        outcome: 'answered',
        ...matched,
        message: `Handed to ${askId} as ${option}; the ask has not recorded it yet.`,
      };
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The state as the caller may see it: live reply codes only for a key with the codes scope (codes are for the phone). */
function shown(state: AskState, caller: Caller): AskState {
  if (allows(caller, 'codes')) return state;
  return { ...state, recipients: state.recipients.map((r) => ({ ...r, codes: [] })) };
}

export function buildOperations({ settings, asks, routeReply }: OperationDeps): Operation[] {
  return [
    define({
      id: 'startAsk',
      method: 'POST',
      path: `${API_PREFIX}/asks`,
      tag: 'asks',
      scope: 'operate',
      summary: 'Start an ask',
      description:
        'Validates everything before anything is sent; a 400 lists every problem by field. Idempotent by entitlement: ' +
        'a second request with the same entitlement returns the first ask (200, created false) and sends nothing.',
      body: askRequestSchema,
      example: {
        to: ['+12065550142'],
        question: 'Isolate host WS-042?',
        options: ['Yes', 'No'],
        timeout: '15m',
        defaultAnswer: 'No',
        context: { incident: '1042' },
      },
      responses: {
        201: { description: 'Started', schema: startedSchema, links: ASK_OPERATIONS },
        200: {
          description: 'An ask with this entitlement already exists; nothing was sent',
          schema: startedSchema,
          links: ASK_OPERATIONS,
        },
      },
      async handle({ body }) {
        const started = await asks.startOnce(body as z.input<typeof askRequestSchema>);
        const self = askPath(started.askId);
        return ok({ ...started, links: { self, result: `${self}/result` } }, started.created ? 201 : 200);
      },
    }),
    define({
      id: 'listPendingAsks',
      method: 'GET',
      path: `${API_PREFIX}/asks/pending`,
      tag: 'asks',
      scope: 'read',
      summary: 'Asks still waiting, soonest deadline first, a page at a time',
      description:
        'From Temporal visibility: an ask shows up (and drops out) within moments. At most `limit` a page (100 by default); `next` is given when more follow.',
      query: pendingQuery,
      responses: { 200: { description: 'The pending asks', schema: pendingListSchema } },
      async handle({ query, caller }) {
        const { to, codes, limit, after, ...filter } = query;
        if (codes === true && !allows(caller, 'codes')) {
          throw new HttpError(
            403,
            'forbidden',
            `The API key "${caller.name}" may not see reply codes; codes=true needs the codes scope.`,
          );
        }
        const recipient = to === undefined ? undefined : normalizeRecipientPhone(to, settings.defaultCountry);
        return ok(
          await asks.listPendingPage(
            { ...filter, recipient },
            { withCodes: codes === true, limit: limit ?? 100, ...(after !== undefined && { after }) },
          ),
        );
      },
    }),
    define({
      id: 'listEndedAsks',
      method: 'GET',
      path: `${API_PREFIX}/asks/ended`,
      tag: 'asks',
      scope: 'read',
      summary: 'Asks that ended recently, most recent first, with their outcome and time to answer, a page at a time',
      query: endedQuery,
      responses: { 200: { description: 'The ended asks', schema: endedListSchema } },
      async handle({ query }) {
        const since = new Date(Date.now() - (query.since ?? 24 * 3600_000));
        return ok(
          await asks.listEndedPage({
            since,
            limit: query.limit ?? 50,
            ...(query.after !== undefined && { after: query.after }),
          }),
        );
      },
    }),
    define({
      id: 'getAskFeed',
      method: 'GET',
      path: `${API_PREFIX}/asks/feed`,
      tag: 'asks',
      scope: 'read',
      summary:
        'Asks started with feed: true, in the order they ended, after a cursor; waits up to `wait` seconds for one (long poll)',
      description:
        "Each entry has a seq; pass the page's `next` as `after` next time. No reply codes. At least the latest 1,000 entries are kept " +
        '(fewer when their contexts are very large); `gap` says entries after the cursor were dropped before they were read.',
      query: feedQuery,
      longPollMs: FEED_MAX_WAIT_SECONDS * 1000,
      responses: {
        200: {
          description: 'The entries after the cursor (none after `wait` seconds: an empty list)',
          schema: feedSchema,
        },
      },
      async handle({ query, signal }) {
        return ok(
          await asks.feed({
            after: query.after ?? '0',
            limit: query.limit ?? 100,
            waitMs: (query.wait ?? 0) * 1000,
            signal,
          }),
        );
      },
    }),
    define({
      id: 'getAsk',
      method: 'GET',
      path: `${API_PREFIX}/asks/{id}`,
      tag: 'asks',
      scope: 'read',
      onAsk: true,
      summary: "An ask's live state: recipients, codes, answers and the event log (webhook deliveries included)",
      params: askIdParams,
      responses: { 200: { description: 'The ask', schema: askStateSchema } },
      async handle({ params, caller }) {
        return ok(shown(await asks.status(params.id), caller));
      },
    }),
    define({
      id: 'getAskResult',
      method: 'GET',
      path: `${API_PREFIX}/asks/{id}/result`,
      tag: 'asks',
      scope: 'read',
      onAsk: true,
      summary: 'The result of an ask, waiting up to `wait` seconds for it to end (long poll)',
      params: askIdParams,
      query: resultQuery(settings.httpMaxWaitSeconds),
      longPollMs: settings.httpMaxWaitSeconds * 1000,
      responses: {
        200: { description: 'The ask has ended: its final state', schema: askStateSchema },
        202: { description: 'Still waiting after `wait` seconds; ask again', schema: waitingSchema },
      },
      async handle({ params, query, signal, caller }) {
        const state = await asks.resultWithin(params.id, (query.wait ?? 0) * 1000, signal);
        return state ? ok(shown(state, caller)) : ok({ askId: toAskWorkflowId(params.id), status: 'waiting' }, 202);
      },
    }),
    define({
      id: 'answerAsk',
      method: 'POST',
      path: `${API_PREFIX}/asks/{id}/answer`,
      tag: 'operators',
      scope: 'operate',
      onAsk: true,
      summary: "An operator's answer, recorded under the API key's name",
      params: askIdParams,
      body: answerBody,
      responses: { 200: { description: 'Answered: the new state', schema: askStateSchema } },
      async handle({ params, body, caller }) {
        return ok(shown(await asks.answer(params.id, body.option, caller.name, body.reason), caller));
      },
    }),
    define({
      id: 'extendAsk',
      method: 'POST',
      path: `${API_PREFIX}/asks/{id}/extend`,
      tag: 'operators',
      scope: 'operate',
      onAsk: true,
      summary: "Moves the deadline later, by a duration or to a time; recorded under the API key's name",
      params: askIdParams,
      body: extendBody,
      responses: { 200: { description: 'Extended: the new state', schema: askStateSchema } },
      async handle({ params, body, caller }) {
        return ok(
          shown(
            await asks.extend(params.id, {
              extendBy: body.by,
              until: body.until,
              by: caller.name,
              reason: body.reason,
            }),
            caller,
          ),
        );
      },
    }),
    define({
      id: 'resendAsk',
      method: 'POST',
      path: `${API_PREFIX}/asks/{id}/resend`,
      tag: 'operators',
      scope: 'operate',
      onAsk: true,
      summary:
        "Sends the question again now, same codes, to everyone who has not answered; recorded under the API key's name",
      params: askIdParams,
      body: actionBody,
      bodyOptional: true,
      responses: { 200: { description: 'Re-sending: the new state', schema: askStateSchema } },
      async handle({ params, body, caller }) {
        return ok(shown(await asks.resend(params.id, { by: caller.name, reason: body.reason }), caller));
      },
    }),
    define({
      id: 'cancelAsk',
      method: 'POST',
      path: `${API_PREFIX}/asks/{id}/cancel`,
      tag: 'operators',
      scope: 'operate',
      onAsk: true,
      summary: "Cancels an ask (its recipients are told); recorded under the API key's name",
      params: askIdParams,
      body: actionBody,
      bodyOptional: true,
      responses: { 200: { description: 'Cancelled: the final state', schema: askStateSchema } },
      async handle({ params, body, caller }): Promise<OperationResult> {
        const state: AskState = await asks.cancel(params.id, { by: caller.name, reason: body.reason });
        return ok(shown(state, caller));
      },
    }),
    define({
      id: 'injectReply',
      method: 'POST',
      path: `${API_PREFIX}/replies`,
      tag: 'operators',
      scope: 'operate',
      summary:
        "A reply taken as if the phone had texted it, routed like an SMS (codes, guess limits, feedback SMS); the ask's log names the API key",
      description: 'Only where SMS_ASK_HTTP_ALLOW_INJECTED_REPLIES=true; elsewhere 403 injected_replies_disabled.',
      body: replyBody,
      example: { from: '+12065550142', text: '1418' },
      responses: {
        200: { description: 'What became of the reply: answered, or refused and why', schema: replyOutcomeSchema },
      },
      async handle({ body, caller }) {
        if (!settings.httpAllowInjectedReplies) {
          throw new HttpError(
            403,
            'injected_replies_disabled',
            'Injected replies are turned off on this deployment; set SMS_ASK_HTTP_ALLOW_INJECTED_REPLIES=true to let operate keys post replies for a phone.',
          );
        }
        let from: string;
        try {
          from = normalizeRecipientPhone(body.from, settings.defaultCountry);
        } catch (err) {
          throw invalidRequest([{ field: 'from', message: (err as Error).message }]);
        }
        const dedupeKey = `api/${randomUUID()}`;
        const routed = await routeReply({ from, body: body.text, dedupeKey, format: 'api', injectedBy: caller.name });
        if (routed.outcome === 'no_asks')
          return ok({ outcome: 'refused', message: `No open ask was sent to ${from}.` });
        if (routed.outcome !== 'routed') {
          throw new HttpError(
            503,
            'unavailable',
            "Temporal did not take the reply (the phone's recipient workflow did not answer); try again shortly.",
            undefined,
            { 'retry-after': '5' },
          );
        }
        const delivery = routed.routing?.deliver;
        if (!delivery)
          return ok({
            outcome: 'refused',
            message: `Refused: ${routed.routing?.refused ?? 'the reply answers no ask'}.`,
          });
        return ok(await injectedAnswer(asks, from, delivery.askId, delivery.reply.optionIndex, delivery.reply.code));
      },
    }),
    define({
      id: 'getHealth',
      method: 'GET',
      path: `${API_PREFIX}/health`,
      tag: 'keys',
      scope: 'read',
      summary:
        'Whether a worker polls the task queue (seen by Temporal within the last minute): asks started now will be carried out',
      responses: { 200: { description: 'The task queue and whether a worker polls it', schema: healthSchema } },
      async handle() {
        return ok({ workerPolling: await asks.workerPolling(), taskQueue: settings.taskQueue });
      },
    }),
    define({
      id: 'getCaller',
      method: 'GET',
      path: `${API_PREFIX}/caller`,
      tag: 'keys',
      scope: 'read',
      summary: "The API key's name and scope, so that a client (the console) offers only what the key may do",
      responses: { 200: { description: 'The key', schema: callerSchema } },
      async handle({ caller }) {
        return ok({ name: caller.name, scope: caller.scope });
      },
    }),
    define({
      id: 'sendSms',
      method: 'POST',
      path: `${API_PREFIX}/sms`,
      tag: 'sms',
      scope: 'operate',
      summary: 'A one-way SMS (no reply expected)',
      body: smsBody,
      responses: {
        201: {
          description: "SNS accepted the SMS (sent through the worker's SMS queue, recorded under the API key's name)",
          schema: smsSentSchema,
        },
      },
      async handle({ body, caller }) {
        const { to, messageId, segments, encoding, smsId } = await asks.sendSms({
          to: body.to,
          message: body.message,
          by: caller.name,
        });
        return ok({ to, messageId, segments, encoding, smsId }, 201);
      },
    }),
  ];
}
