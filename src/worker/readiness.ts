/**
 * What /readyz checks: Temporal answers, the inbound queue answers, and the queue's poll activity
 * is alive (its heartbeat, as the Temporal server saw it, is fresh). The poller runs in one worker
 * of the fleet, so every worker reads its heartbeat from Temporal, as `sms-ask doctor` does.
 */
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { WorkflowNotFoundError } from '@temporalio/client';
import type { Client } from '@temporalio/client';
import { tsToMs } from '@temporalio/common/lib/time';
import { temporal } from '@temporalio/proto';
import type { Settings } from '../config';
import { inboundQueueMessages } from '../observability/metrics';
import { inboundPollerWorkflowId } from '../workflows/definitions';

export interface ProbeResult {
  ok: boolean;
  detail: string;
}

export interface Readiness {
  ready: boolean;
  checks: { temporal: ProbeResult; queue: ProbeResult; poller: ProbeResult };
}

const PROBE_TIMEOUT_MS = 5_000;
/**
 * The poll activity heartbeats every 5 s, but the SDK passes a heartbeat on to the server at most
 * every 24 s (0.8 × its 30 s heartbeat timeout); older than this, nobody is polling.
 */
export const POLLER_HEARTBEAT_STALE_MS = 40_000;

const { PendingActivityState } = temporal.api.enums.v1;
type PendingActivity = temporal.api.workflow.v1.IPendingActivityInfo;

const errorText = (err: unknown) => (err instanceof Error ? err.message : String(err));
const seconds = (ms: number) => `${Math.round(ms / 1000)} s`;

/**
 * Judges the queue's poller from its workflow's status and pending poll activity: fresh while the
 * activity is started and heartbeating, or scheduled (between leases, or retrying) only briefly.
 */
export function judgePoller(
  workflowStatus: string,
  activities: readonly PendingActivity[],
  nowMs: number,
): ProbeResult {
  if (workflowStatus !== 'RUNNING') return { ok: false, detail: `the poller workflow is ${workflowStatus}` };
  const activity = activities.find((a) => a.activityType?.name === 'pollInbound') ?? activities[0];
  if (!activity) return { ok: true, detail: 'the poller is between leases' };
  const attempt = `attempt ${activity.attempt ?? 1}`;
  if (
    activity.state === PendingActivityState.PENDING_ACTIVITY_STATE_PAUSED ||
    activity.state === PendingActivityState.PENDING_ACTIVITY_STATE_PAUSE_REQUESTED
  ) {
    return { ok: false, detail: `the poll activity is paused (${attempt})` };
  }
  const times = [
    activity.lastHeartbeatTime,
    activity.lastStartedTime,
    activity.lastAttemptCompleteTime,
    activity.scheduledTime,
  ]
    .filter((t): t is NonNullable<typeof t> => t != null)
    .map((t) => tsToMs(t));
  const sinceMs = times.length > 0 ? nowMs - Math.max(...times) : Infinity;
  const started = activity.state === PendingActivityState.PENDING_ACTIVITY_STATE_STARTED;
  const what = started
    ? activity.lastHeartbeatTime
      ? 'last heartbeat'
      : 'started, no heartbeat yet,'
    : 'waiting for a worker since';
  if (sinceMs > POLLER_HEARTBEAT_STALE_MS) {
    const failure = activity.lastFailure?.message ? `; last failure: ${activity.lastFailure.message}` : '';
    return {
      ok: false,
      detail: `no heartbeat from the poll activity: ${what} ${seconds(sinceMs)} ago (${attempt}${failure})`,
    };
  }
  return { ok: true, detail: `${what} ${seconds(sinceMs)} ago (${attempt})` };
}

export interface ReadinessDeps {
  client: Client;
  sqs: SQSClient;
  settings: Pick<Settings, 'taskQueue' | 'queueUrl'>;
}

async function probe(run: () => Promise<string>): Promise<ProbeResult> {
  try {
    return { ok: true, detail: await run() };
  } catch (err) {
    return { ok: false, detail: errorText(err) };
  }
}

/** Runs the three checks at once, each bounded by PROBE_TIMEOUT_MS; never throws. */
export async function checkReadiness({ client, sqs, settings }: ReadinessDeps): Promise<Readiness> {
  const deadline = () => Date.now() + PROBE_TIMEOUT_MS;
  const [temporalCheck, queue, poller] = await Promise.all([
    probe(async () => {
      await client.connection.withDeadline(deadline(), () => client.connection.workflowService.getSystemInfo({}));
      return 'reachable';
    }),
    probe(async () => {
      if (!settings.queueUrl) throw new Error('SMS_ASK_QUEUE_URL is not set');
      const { Attributes = {} } = await sqs.send(
        new GetQueueAttributesCommand({
          QueueUrl: settings.queueUrl,
          AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
        }),
        { abortSignal: AbortSignal.timeout(PROBE_TIMEOUT_MS) },
      );
      const waiting = Number(Attributes.ApproximateNumberOfMessages ?? 0);
      const inFlight = Number(Attributes.ApproximateNumberOfMessagesNotVisible ?? 0);
      inboundQueueMessages.set({ state: 'waiting' }, waiting);
      inboundQueueMessages.set({ state: 'in_flight' }, inFlight);
      return `reachable: ${waiting} waiting, ${inFlight} in flight`;
    }),
    (async (): Promise<ProbeResult> => {
      if (!settings.queueUrl) return { ok: false, detail: 'SMS_ASK_QUEUE_URL is not set' };
      try {
        const description = await client.connection.withDeadline(deadline(), () =>
          client.workflow.getHandle(inboundPollerWorkflowId(settings.taskQueue, settings.queueUrl!)).describe(),
        );
        return judgePoller(description.status.name, description.raw.pendingActivities ?? [], Date.now());
      } catch (err) {
        if (err instanceof WorkflowNotFoundError)
          return { ok: false, detail: 'no poller workflow has run for this queue' };
        return { ok: false, detail: `cannot describe the poller workflow: ${errorText(err)}` };
      }
    })(),
  ]);
  return { ready: temporalCheck.ok && queue.ok && poller.ok, checks: { temporal: temporalCheck, queue, poller } };
}
