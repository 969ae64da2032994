import { randomUUID } from 'node:crypto';
import {
  ActivityFailure,
  ApplicationFailure,
  WorkflowExecutionAlreadyStartedError,
  WorkflowFailedError,
  WorkflowNotFoundError,
  isGrpcCancelledError,
  isGrpcDeadlineError,
} from '@temporalio/client';
import type { Client, WorkflowExecutionInfo, WorkflowHandle } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import type { CountryCode } from 'libphonenumber-js';
import { DEFAULT_TASK_QUEUE } from '../config';
import { priorityKeyOf } from '../domain/ask-priority';
import { InvalidAskError, normalizeAskRequest } from '../domain/ask-request';
import { WITHOUT_CONTROL_CHARACTERS } from '../domain/input-limits';
import type { AskRequest } from '../domain/ask-request';
import type { WebhookDefaults } from '../domain/callback';
import { duration } from '../domain/duration-schema';
import type { PolicyPresets } from '../domain/policy';
import { hiddenTextProblem } from '../domain/misleading-text';
import { countryProblem, normalizeRecipientPhone } from '../domain/phone';
import { SNS_SMS_MAX_BYTES, segmentCapProblem, utf8ByteLength } from '../domain/sms-text';
import { DEFAULT_SPEND_LIMITS } from '../domain/spend';
import type { SpendLimits } from '../domain/spend';
import { SmsSendError } from '../aws/sns-errors';
import type { SentSms } from '../aws/sms-publisher';
import type { oneWaySmsWorkflow } from '../workflows/one-way-sms';
import type { askWorkflow } from '../workflows/ask';
import {
  answerUpdate,
  askFeedWorkflowId,
  askWorkflowId,
  cancelUpdate,
  entriesAfterQuery,
  extendUpdate,
  resendUpdate,
  statusQuery,
  toAskWorkflowId,
  webhookDeliveryId,
} from '../workflows/definitions';
import type {
  AskAnswer,
  AskEvent,
  AskFeedPage,
  AskMemo,
  AskState,
  AskStatus,
  CancelRequest,
  OperatorAction,
  OptionCode,
  RecipientDelivery,
  WebhookDeliveryReport,
} from '../workflows/definitions';
import type { webhookDeliveryWorkflow } from '../workflows/webhook-delivery';
import { askSearchAttributes, initialAskSearchAttributePairs } from '../workflows/search-attributes';
import { loadPolicyPresets } from './policy-file';
import {
  askDigest,
  decodeEndedCursor,
  decodePendingCursor,
  encodeEndedCursor,
  encodePendingCursor,
} from './list-cursor';

/** Thrown by SmsAskClient.sendSms before anything is sent; each problem names the field. */
export class InvalidSmsError extends InvalidAskError {
  constructor(problems: readonly string[]) {
    super(problems);
    this.name = 'InvalidSmsError';
    this.message = `Invalid SMS: ${problems.join('; ')}`;
  }
}

/** Thrown by SmsAskClient.answer and cancel when the ask has already ended. */
export class AskEndedError extends Error {
  override name = 'AskEndedError';
  constructor(
    readonly askId: string,
    readonly status: AskStatus,
  ) {
    super(`The ask ${askId} has already ended (${status}); nothing was changed.`);
  }
}

export interface SmsAskClientOptions {
  /** Task queue of the sms-ask worker. Default "sms-ask". */
  taskQueue?: string;
  /** Country used for numbers written without a country code. */
  defaultCountry?: CountryCode;
  /** Longest reply code the worker hands out, for the size check before start. Default 8. */
  maxCodeLength?: number;
  /** The deployment's code mode (codeMode); with sequential, asks must accept it. Default random. */
  codeMode?: 'random' | 'sequential';
  /** The policy presets that `start({ preset })` may name. Default: read from `policyFile`. */
  policyPresets?: PolicyPresets;
  /** JSON or YAML file of presets, `{ presets: { name: policy } }` (the policyFile setting). Read once, when first needed. */
  policyFile?: string;
  /** The deployment's webhook settings: the default callback and the secret names a callback may use. Default: none. */
  webhooks?: WebhookDefaults;
  /** Where SMS may go and what they may cost (the spend settings). Default: US and CA, 8 segments an SMS, 200 an ask. */
  spend?: SpendLimits;
}

/** Which running asks `listPending` returns; every filter given must match. */
export interface PendingFilter {
  /** Sent to this phone (E.164), in any tier. */
  recipient?: string;
  entitlement?: string;
  incident?: string;
  /** Past the deadline and still running: the worker is behind or down. */
  overdue?: boolean;
  /** Escalated at least one tier. */
  escalated?: boolean;
  /** Its policy's name: a preset, "custom" or "default". */
  policy?: string;
}

/** Which page of a listing: at most `limit` rows, after the row a page's `next` names. */
export interface PageOptions {
  limit?: number;
  /** The `next` of the page before; absent for the first page. */
  after?: string;
}

/** One page of a listing; `next` is there when more rows follow. */
export interface AskPage<T> {
  asks: T[];
  next?: string;
}

/** Moves an ask's deadline later, by a duration (e.g. "2h") from the current one, or to a time. */
export interface ExtendOptions extends OperatorAction {
  extendBy?: string | number;
  until?: string | Date;
}

export interface StartedAsk {
  askId: string;
  entitlement: string;
}

/** What startOnce did: started the ask now, or found the ask already started with that entitlement. */
export interface StartedOnce extends StartedAsk {
  created: boolean;
}

/** An ask that has ended, for listings of recent outcomes. */
export interface EndedAsk {
  askId: string;
  entitlement: string;
  incident?: string;
  question: string;
  /** The ask's status; `failed` if the workflow itself failed (e.g. no SMS could be sent). */
  status: Exclude<AskStatus, 'waiting'> | 'failed';
  answer?: AskAnswer;
  startedAt: string;
  endedAt: string;
  /** From the start to the answer, for answered asks. */
  timeToAnswerMs?: number;
  policy: string;
}

export interface PendingAsk {
  askId: string;
  entitlement: string;
  incident?: string;
  question: string;
  recipients: string[];
  /** Recipients whose question never reached the phone (refused at send, or its delivery failed), from the listing. */
  undelivered: string[];
  /** Each recipient's reply codes; only with `withCodes`, read from the ask itself (they are not in the listing). */
  codes?: Record<string, OptionCode[]>;
  /**
   * Each recipient's question delivery, as its End User Messaging events said (recipients with no
   * event yet, or sent through SNS, have none); only with `withCodes`, read in the same query as the codes.
   */
  delivery?: Record<string, RecipientDelivery>;
  startedAt: string;
  deadline: string;
  /** Escalation tiers started so far. */
  tier: number;
  remindersSent: number;
  policy: string;
  context: Record<string, unknown>;
}

const STATUS_QUERY_ATTEMPTS = 3;

/** What `feed` reads: entries after a cursor, and how long to wait for one. */
export interface FeedOptions {
  /** The cursor: the `next` of the last page, a decimal string. Default "0" (from the oldest entry kept). */
  after?: string;
  /** At most this many entries (1 to 500). Default 100. */
  limit?: number;
  /** With nothing after the cursor, wait up to this long for an entry (long poll). Default 0. */
  waitMs?: number;
  /** Ends the wait early (the HTTP client went away). */
  signal?: AbortSignal;
}

/** How often a long poll of the feed asks again: an ask's end shows within this. */
const FEED_POLL_MS = 200;

/**
 * The status query, tried again when the server gave up on it. Right after a worker crashes, the
 * server still sends queries for the workflows it had cached to that worker's own queue and, after
 * 10 s, gives up (under load, as "context canceled") before it tries the other workers.
 */
async function queryStatus(handle: WorkflowHandle<typeof askWorkflow>): Promise<AskState> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await handle.query(statusQuery);
    } catch (err) {
      if (attempt >= STATUS_QUERY_ATTEMPTS || !(isGrpcCancelledError(err) || isGrpcDeadlineError(err))) throw err;
    }
  }
}

/** A value quoted for a visibility query, so that it cannot change the query. */
const quote = (value: string) => {
  if (!WITHOUT_CONTROL_CHARACTERS.test(value))
    throw new RangeError(`A filter cannot hold control characters: ${JSON.stringify(value)}`);
  return `'${value.replace(/[\\']/g, (c) => `\\${c}`)}'`;
};

/** The visibility query behind listPending. Values are quoted, so a filter cannot change the query. */
export function pendingAsksVisibilityQuery(
  taskQueue: string,
  filter: PendingFilter,
  now: Date,
  deadlineFrom?: string,
): string {
  const { recipients, entitlement, incident, deadline, tier, policy } = askSearchAttributes;
  return [
    `WorkflowType = 'askWorkflow'`,
    `ExecutionStatus = 'Running'`,
    `TaskQueue = ${quote(taskQueue)}`,
    filter.recipient && `${recipients.name} = ${quote(filter.recipient)}`,
    filter.entitlement && `${entitlement.name} = ${quote(filter.entitlement)}`,
    filter.incident && `${incident.name} = ${quote(filter.incident)}`,
    filter.policy && `${policy.name} = ${quote(filter.policy)}`,
    filter.overdue && `${deadline.name} < ${quote(now.toISOString())}`,
    filter.escalated && `${tier.name} > 0`,
    deadlineFrom && `${deadline.name} >= ${quote(deadlineFrom)}`,
  ]
    .filter(Boolean)
    .join(' AND ');
}

/** What a playbook needs: start an ask, read its status or result, list what is pending, answer, cancel. */
export class SmsAskClient {
  private readonly taskQueue: string;
  private presets?: PolicyPresets;

  constructor(
    private readonly client: Client,
    private readonly options: SmsAskClientOptions = {},
  ) {
    this.taskQueue = options.taskQueue ?? DEFAULT_TASK_QUEUE;
  }

  /**
   * Validates the request, its policy and preset included (throws InvalidAskError with every
   * problem), and starts the ask. The workflow gets the resolved policy, never a preset name to look up.
   */
  async start(request: AskRequest): Promise<StartedAsk> {
    const { askId, entitlement } = await this.startAsk(request, 'ALLOW_DUPLICATE');
    return { askId, entitlement };
  }

  /**
   * Like start, but idempotent by entitlement: an ask already started with the same entitlement
   * (running or ended) is returned instead of starting a second one, so a retried request sends no
   * second SMS.
   */
  async startOnce(request: AskRequest): Promise<StartedOnce> {
    try {
      return await this.startAsk(request, 'REJECT_DUPLICATE');
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
      const entitlement = err.workflowId.slice(askWorkflowId('').length);
      return { askId: err.workflowId, entitlement, created: false };
    }
  }

  private async startAsk(
    request: AskRequest,
    workflowIdReusePolicy: 'ALLOW_DUPLICATE' | 'REJECT_DUPLICATE',
  ): Promise<StartedOnce> {
    const input = normalizeAskRequest(request, {
      defaultCountry: this.options.defaultCountry,
      maxCodeLength: this.options.maxCodeLength,
      codeMode: this.options.codeMode,
      newEntitlement: randomUUID,
      presets: request.preset === undefined ? undefined : this.policyPresets(),
      webhooks: this.options.webhooks,
      spend: this.options.spend,
    });
    const askId = askWorkflowId(input.entitlement);
    // Listed by `pending` from the start.
    const memo: AskMemo = { question: input.question, context: input.context };
    await this.client.workflow.start<typeof askWorkflow>('askWorkflow', {
      workflowId: askId,
      taskQueue: this.taskQueue,
      memo: { ask: memo },
      typedSearchAttributes: initialAskSearchAttributePairs(input, new Date()),
      args: [{ validated: input }],
      workflowIdReusePolicy,
      // Validated above; inherited by the ask's workflow tasks and activities.
      priority: { priorityKey: priorityKeyOf(request.priority) },
    });
    return { askId, entitlement: input.entitlement, created: true };
  }

  /**
   * The ended asks of this task queue (those started with `feed: true`), in the order they ended,
   * strictly after the cursor. Before the first such ask has ended there is no feed yet: an empty page.
   */
  async feed({ after = '0', limit = 100, waitMs = 0, signal }: FeedOptions = {}): Promise<AskFeedPage> {
    const handle = this.client.workflow.getHandle(askFeedWorkflowId(this.taskQueue));
    const until = Date.now() + waitMs;
    for (;;) {
      let page: AskFeedPage;
      try {
        page = await handle.query(entriesAfterQuery, after, limit);
      } catch (err) {
        if (!(err instanceof WorkflowNotFoundError)) throw err;
        page = { entries: [], next: after, gap: false };
      }
      const left = until - Date.now();
      if (page.entries.length > 0 || page.gap || left <= 0 || signal?.aborted) return page;
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          signal?.removeEventListener('abort', done);
          resolve();
        };
        const timer = setTimeout(done, Math.min(FEED_POLL_MS, left));
        signal?.addEventListener('abort', done);
      });
    }
  }

  /** Whether a worker polled this task queue for workflow tasks within `withinMs` (Temporal keeps the pollers it saw lately). */
  async workerPolling(withinMs = 60_000): Promise<boolean> {
    const { pollers } = await this.client.workflowService.describeTaskQueue({
      namespace: this.client.options.namespace,
      taskQueue: { name: this.taskQueue, kind: temporal.api.enums.v1.TaskQueueKind.TASK_QUEUE_KIND_NORMAL },
      taskQueueType: temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
    });
    const since = Date.now() - withinMs;
    return (pollers ?? []).some((p) => Number(String(p.lastAccessTime?.seconds ?? 0)) * 1000 >= since);
  }

  /** Waits for the ask to end and returns its final state. */
  result(askId: string): Promise<AskState> {
    return this.handle(askId).result();
  }

  /**
   * The result if the ask ends within `waitMs` (0: only if it has already ended), else undefined.
   * The wait is a long poll that stops at `waitMs` or when `signal` aborts.
   */
  async resultWithin(askId: string, waitMs: number, signal?: AbortSignal): Promise<AskState | undefined> {
    const handle = this.handle(askId);
    const { status } = await handle.describe();
    if (status.name === 'RUNNING' && waitMs <= 0) return undefined;
    const stop = new AbortController();
    const timer = setTimeout(() => stop.abort(), Math.max(waitMs, 0));
    const onAbort = () => stop.abort();
    signal?.addEventListener('abort', onAbort);
    try {
      return await this.client.withAbortSignal(stop.signal, () => handle.result());
    } catch (err) {
      if (stop.signal.aborted) return undefined;
      throw err;
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    }
  }

  /** The live state, event log included, with how its outcome webhooks went. */
  async status(askId: string): Promise<AskState> {
    return this.withWebhookEvents(await queryStatus(this.handle(askId)));
  }

  /**
   * Adds the ask's webhook deliveries to its event log: each runs as a workflow of its own (so that
   * it never holds up the ask), at an id derived from the ask's, and reports delivered or given up.
   */
  private async withWebhookEvents(state: AskState): Promise<AskState> {
    const ids = state.events.flatMap((event, index) =>
      event.type === 'escalated' || event.type === 'opted_out' || event.type === 'guess_limit_reached'
        ? [webhookDeliveryId(state.askId, { type: event.type, index })]
        : [],
    );
    if (state.status !== 'waiting') ids.push(webhookDeliveryId(state.askId, 'ended'));
    const deliveries = (await Promise.all(ids.map((id) => this.webhookEvent(id)))).filter(
      (e): e is AskEvent => e !== undefined,
    );
    if (deliveries.length === 0) return state;
    return { ...state, events: [...state.events, ...deliveries].sort((a, b) => a.at.localeCompare(b.at)) };
  }

  private async webhookEvent(deliveryId: string): Promise<AskEvent | undefined> {
    const handle = this.client.workflow.getHandle<typeof webhookDeliveryWorkflow>(deliveryId);
    let described;
    try {
      described = await handle.describe();
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return undefined; // no webhook for this event
      throw err;
    }
    if (described.status.name === 'COMPLETED') {
      const report: WebhookDeliveryReport = await handle.result();
      const attempts = report.attempts === undefined ? '' : `, ${report.attempts} attempt(s)`;
      return report.outcome === 'delivered'
        ? {
            at: report.at,
            type: 'webhook_delivered',
            detail: `${report.type} to ${report.target}: ${report.lastStatus}${attempts}`,
          }
        : {
            at: report.at,
            type: 'webhook_failed',
            detail: `${report.type} to ${report.target}: gave up${attempts}; last: ${report.lastStatus}`,
          };
    }
    if (described.status.name === 'RUNNING') {
      const pending = described.raw.pendingActivities?.[0];
      const last = pending?.lastFailure?.message;
      return {
        at: described.startTime.toISOString(),
        type: 'webhook_retrying',
        detail: `${deliveryId.split('/').slice(-2).join(' ')}: attempt ${pending?.attempt ?? 1}${last ? `; last: ${last}` : ''}`,
      };
    }
    return {
      at: (described.closeTime ?? described.startTime).toISOString(),
      type: 'webhook_failed',
      detail: `delivery ${described.status.name.toLowerCase()}`,
    };
  }

  /**
   * Asks on this task queue that ended after `since`, most recent first, at most `limit`, with
   * their outcome (read from each ask's result).
   */
  async listEnded({ since, limit = 50 }: { since: Date; limit?: number }): Promise<EndedAsk[]> {
    return (await this.listEndedPage({ since, limit })).asks;
  }

  /**
   * One page of the asks that ended after `since`, most recent first (visibility's own order, so
   * the scan stops at the page's end). `next` names the last close time given and the asks closed
   * in that millisecond, which visibility cannot tell apart by time alone.
   */
  async listEndedPage({ since, limit = 50, after }: { since: Date } & PageOptions): Promise<AskPage<EndedAsk>> {
    const from = after === undefined ? undefined : decodeEndedCursor(after);
    const query = [
      `WorkflowType = 'askWorkflow'`,
      `ExecutionStatus != 'Running'`,
      `TaskQueue = ${quote(this.taskQueue)}`,
      `CloseTime > ${quote(since.toISOString())}`,
      from && `CloseTime < ${quote(new Date(from.closedAtMs + 1).toISOString())}`,
    ]
      .filter(Boolean)
      .join(' AND ');
    const closedAt = (execution: WorkflowExecutionInfo) => (execution.closeTime ?? execution.startTime).getTime();
    const executions: WorkflowExecutionInfo[] = [];
    let more = false;
    for await (const execution of this.client.workflow.list({ query })) {
      if (from && closedAt(execution) === from.closedAtMs && from.askDigests.includes(askDigest(execution.workflowId)))
        continue;
      if (executions.length === limit) {
        more = true;
        break;
      }
      executions.push(execution);
    }
    const last = executions.at(-1);
    const next =
      more && last
        ? encodeEndedCursor({
            closedAtMs: closedAt(last),
            askDigests: [
              ...(from?.closedAtMs === closedAt(last) ? from.askDigests : []),
              ...executions.filter((e) => closedAt(e) === closedAt(last)).map((e) => askDigest(e.workflowId)),
            ],
          })
        : undefined;
    const rows = await Promise.all(
      executions.map(async (execution): Promise<EndedAsk> => {
        const attributes = execution.typedSearchAttributes;
        const memo = execution.memo?.ask as AskMemo | undefined;
        const base = {
          askId: execution.workflowId,
          entitlement: attributes.get(askSearchAttributes.entitlement) ?? '',
          incident: attributes.get(askSearchAttributes.incident),
          question: memo?.question ?? '',
          startedAt: execution.startTime.toISOString(),
          endedAt: (execution.closeTime ?? execution.startTime).toISOString(),
          policy: attributes.get(askSearchAttributes.policy) ?? '',
        };
        if (execution.status.name !== 'COMPLETED')
          return { ...base, status: execution.status.name === 'CANCELLED' ? 'cancelled' : 'failed' };
        const state: AskState = await this.client.workflow
          .getHandle<typeof askWorkflow>(execution.workflowId, execution.runId)
          .result();
        const timeToAnswerMs = state.answer ? Date.parse(state.answer.at) - Date.parse(state.startedAt) : undefined;
        return {
          ...base,
          question: state.question,
          status: state.status === 'waiting' ? 'failed' : state.status,
          ...(state.answer && { answer: state.answer }),
          ...(state.endedAt && { endedAt: state.endedAt }),
          ...(timeToAnswerMs !== undefined && { timeToAnswerMs }),
        };
      }),
    );
    return { asks: rows.sort((a, b) => b.endedAt.localeCompare(a.endedAt)), ...(next !== undefined && { next }) };
  }

  /** An operator's answer: an option label or its 1-based number. Rejected once the ask has ended. */
  answer(askId: string, option: string, by: string, reason?: string): Promise<AskState> {
    return this.whileOpen(askId, (handle) => handle.executeUpdate(answerUpdate, { args: [{ option, by, reason }] }));
  }

  /** Ends the ask as cancelled; its recipients are told. Rejected once the ask has ended. */
  cancel(askId: string, request: CancelRequest = {}): Promise<AskState> {
    return this.whileOpen(askId, (handle) => handle.executeUpdate(cancelUpdate, { args: [request] }));
  }

  /** Moves the deadline later. Rejected with the reason once the ask has ended, or for an earlier time. */
  extend(askId: string, { extendBy, until, by, reason }: ExtendOptions): Promise<AskState> {
    let extendByMs: number | undefined;
    if (extendBy !== undefined) {
      const parsed = duration.safeParse(extendBy);
      if (!parsed.success) throw new Error(`extend by: ${parsed.error.issues[0]?.message}`);
      extendByMs = parsed.data;
    }
    const untilIso = until instanceof Date ? until.toISOString() : until;
    return this.whileOpen(askId, (handle) =>
      handle.executeUpdate(extendUpdate, { args: [{ extendByMs, until: untilIso, by, reason }] }),
    );
  }

  /** Sends the question again now, with the same codes, to everyone who has not answered. */
  resend(askId: string, action: OperatorAction): Promise<AskState> {
    return this.whileOpen(askId, (handle) => handle.executeUpdate(resendUpdate, { args: [action] }));
  }

  /** Temporal reports an update to a closed workflow as "not found"; say what really happened. */
  private async whileOpen<T>(
    askId: string,
    update: (handle: WorkflowHandle<typeof askWorkflow>) => Promise<T>,
  ): Promise<T> {
    const handle = this.handle(askId);
    try {
      return await update(handle);
    } catch (err) {
      if (!(err instanceof WorkflowNotFoundError)) throw err;
      const final = await queryStatus(handle).catch(() => undefined);
      if (final) throw new AskEndedError(handle.workflowId, final.status);
      throw err;
    }
  }

  /**
   * Running asks on this task queue, soonest deadline first, from Temporal visibility: eventually
   * consistent, so an ask shows up (and drops out) within moments, not at once.
   */
  /**
   * A one-way SMS (no reply expected), through the worker's SMS queue like every other SMS: the
   * same rate limit, country allowlist, segment cap and daily budget. Its workflow's history is the
   * audit record of who sent what. Throws InvalidSmsError before anything starts, SmsSendError when
   * the worker or SNS refused it.
   */
  async sendSms({
    to,
    message,
    by,
  }: {
    to: string;
    message: string;
    by: string;
  }): Promise<SentSms & { to: string; smsId: string }> {
    const spend = this.options.spend ?? DEFAULT_SPEND_LIMITS;
    let phone: string | undefined;
    const problems: string[] = [];
    try {
      phone = normalizeRecipientPhone(to, this.options.defaultCountry);
      const refused = countryProblem(phone, spend.smsCountries);
      if (refused) problems.push(`to: ${refused}`);
    } catch (err) {
      problems.push(`to: ${(err as Error).message}`);
    }
    const hidden = hiddenTextProblem('message', message, { newlines: true });
    if (hidden) problems.push(hidden);
    if (utf8ByteLength(message) > SNS_SMS_MAX_BYTES)
      problems.push(`message: at most ${SNS_SMS_MAX_BYTES} bytes (SNS's limit)`);
    else {
      const tooLong = segmentCapProblem(message, spend.maxSmsSegments, { 'the message': message });
      if (tooLong) problems.push(`message: ${tooLong}`);
    }
    if (problems.length || phone === undefined) throw new InvalidSmsError(problems);
    const smsId = `sms/${randomUUID()}`;
    try {
      const sent = await this.client.workflow.execute<typeof oneWaySmsWorkflow>('oneWaySmsWorkflow', {
        workflowId: smsId,
        taskQueue: this.taskQueue,
        args: [{ to: phone, message, by }],
        memo: { sms: { by } },
      });
      return { to: phone, smsId, ...sent };
    } catch (err) {
      const cause =
        err instanceof WorkflowFailedError && err.cause instanceof ActivityFailure ? err.cause.cause : undefined;
      if (cause instanceof ApplicationFailure)
        throw new SmsSendError(cause.message, cause.type ?? 'SmsNotSent', cause.nonRetryable === true, phone, {
          cause: err,
        });
      throw err;
    }
  }

  /** Every pending ask, soonest deadline first. A listing for people should take pages: listPendingPage. */
  async listPending(filter: PendingFilter = {}, options: { withCodes?: boolean } = {}): Promise<PendingAsk[]> {
    const rows = await this.pendingRows(filter);
    if (options.withCodes) await this.addCodes(rows);
    return rows;
  }

  /**
   * One page of pending asks, soonest deadline first (ties by ask id), after the row `after` names;
   * with codes, one status query per ask of the page only. Visibility cannot sort by deadline, so
   * each page reads the asks due from the cursor's deadline on.
   */
  async listPendingPage(
    filter: PendingFilter = {},
    { limit = 100, after, withCodes }: PageOptions & { withCodes?: boolean } = {},
  ): Promise<AskPage<PendingAsk>> {
    const from = after === undefined ? undefined : decodePendingCursor(after);
    const rows = (await this.pendingRows(filter, from?.deadline)).filter(
      (row) => !from || row.deadline > from.deadline || (row.deadline === from.deadline && row.askId > from.askId),
    );
    const page = rows.slice(0, limit);
    if (withCodes) await this.addCodes(page);
    const last = page.at(-1);
    return {
      asks: page,
      ...(rows.length > limit && last && { next: encodePendingCursor({ deadline: last.deadline, askId: last.askId }) }),
    };
  }

  private async pendingRows(filter: PendingFilter, deadlineFrom?: string): Promise<PendingAsk[]> {
    const rows: PendingAsk[] = [];
    const query = pendingAsksVisibilityQuery(this.taskQueue, filter, new Date(), deadlineFrom);
    for await (const execution of this.client.workflow.list({ query })) {
      const memo = execution.memo?.ask as AskMemo | undefined;
      const attributes = execution.typedSearchAttributes;
      const deadline = attributes.get(askSearchAttributes.deadline);
      if (!memo || !deadline) continue; // started a moment ago; the next listing shows it
      rows.push({
        askId: execution.workflowId,
        entitlement: attributes.get(askSearchAttributes.entitlement) ?? '',
        incident: attributes.get(askSearchAttributes.incident),
        question: memo.question,
        recipients: [...(attributes.get(askSearchAttributes.recipients) ?? [])],
        undelivered: [...(attributes.get(askSearchAttributes.undelivered) ?? [])],
        startedAt: execution.startTime.toISOString(),
        deadline: deadline.toISOString(),
        tier: attributes.get(askSearchAttributes.tier) ?? 0,
        remindersSent: attributes.get(askSearchAttributes.remindersSent) ?? 0,
        policy: attributes.get(askSearchAttributes.policy) ?? '',
        context: memo.context,
      });
    }
    return rows.sort(
      (a, b) => a.deadline.localeCompare(b.deadline) || (a.askId < b.askId ? -1 : a.askId > b.askId ? 1 : 0),
    );
  }

  /** One status query per ask, a few at a time (codes and delivery); an ask that ended meanwhile keeps neither. */
  private async addCodes(rows: PendingAsk[]): Promise<void> {
    const queue = [...rows];
    const lane = async () => {
      for (let row = queue.shift(); row; row = queue.shift()) {
        const state = await queryStatus(this.handle(row.askId)).catch(() => undefined);
        row.codes = state ? Object.fromEntries(state.recipients.map((r) => [r.phone, r.codes])) : {};
        row.delivery = Object.fromEntries(
          state?.recipients.flatMap((r) => (r.delivery ? [[r.phone, r.delivery]] : [])) ?? [],
        );
      }
    };
    await Promise.all(Array.from({ length: 8 }, lane));
  }

  private policyPresets(): PolicyPresets | undefined {
    this.presets ??=
      this.options.policyPresets ?? (this.options.policyFile ? loadPolicyPresets(this.options.policyFile) : undefined);
    return this.presets;
  }

  /** Accepts an ask ID or a bare entitlement. */
  handle(askIdOrEntitlement: string): WorkflowHandle<typeof askWorkflow> {
    return this.client.workflow.getHandle<typeof askWorkflow>(toAskWorkflowId(askIdOrEntitlement));
  }
}
