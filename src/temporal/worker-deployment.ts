/**
 * The worker deployment as an operator rolls it out: its versions (one per build), which one new
 * asks start on, the asks still pinned to each, which versions have workers polling, and which
 * have nothing left so their workers can stop. Read and changed through the WorkflowService API
 * (DescribeWorkerDeployment, SetWorkerDeploymentCurrentVersion, SetWorkerDeploymentRampingVersion).
 */
import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';

const { WorkerDeploymentVersionStatus: VersionStatus, VersionDrainageStatus } = temporal.api.enums.v1;

export type VersionState = 'current' | 'ramping' | 'draining' | 'drained' | 'inactive';

/** One version of the deployment, as the report shows it. */
export interface VersionReport {
  buildId: string;
  state: VersionState;
  /** For the ramping version: the share of new asks (and of the long-lived workflows) sent to it. */
  rampPercentage?: number;
  /** Open asks of this task queue pinned to this version. */
  pendingAsks: number;
  /** Open pinned workflows of any type (asks, webhook deliveries, one-way SMS…) on this version. */
  pinnedWorkflows: number;
  /** A worker of this version polled the task queue lately. */
  polled: boolean;
  /** Once current or ramping, now neither, and nothing pinned to it is open: its workers can stop. */
  canStop: boolean;
  createdAt?: string;
}

export interface DeploymentReport {
  deploymentName: string;
  /** False until a versioned worker has polled: the server knows no deployment of that name. */
  exists: boolean;
  currentBuildId?: string;
  rampingBuildId?: string;
  versions: VersionReport[];
  /** Open asks on no version (started before versioning, or while no version was current). */
  unversionedPendingAsks: number;
}

/** What the server says of one version, before the counts are added. */
export interface ServerVersion {
  buildId: string;
  state: VersionState;
  rampPercentage?: number;
  /** The server's drainage check: 'draining' while pinned workflows are open (refreshed every few minutes). */
  drainage?: 'draining' | 'drained';
  createdAt?: string;
  /** When it last stopped being current or ramping. */
  deactivatedAt?: string;
}

export interface VersionCounts {
  pendingAsks: number;
  pinnedWorkflows: number;
  polled: boolean;
}

/**
 * How long after a version stops taking new asks its count of pinned workflows is trusted: an ask
 * started just before may not be visible yet (visibility is eventually consistent). The server's
 * own drainage check waits as long by default.
 */
export const DRAINAGE_GRACE_MS = 3 * 60 * 1000;

/**
 * The report from the server's view and the counts. A version can stop when it takes no new
 * workflows, nothing pinned to it is open, and either the server's drainage check says drained
 * or the grace period since it stopped taking them has passed.
 */
export function buildDeploymentReport(params: {
  deploymentName: string;
  exists: boolean;
  versions: readonly ServerVersion[];
  counts: ReadonlyMap<string, VersionCounts>;
  unversionedPendingAsks: number;
  now: Date;
  /** Default DRAINAGE_GRACE_MS. */
  graceMs?: number;
}): DeploymentReport {
  const graceMs = params.graceMs ?? DRAINAGE_GRACE_MS;
  const versions = params.versions.map((version): VersionReport => {
    const counts = params.counts.get(version.buildId) ?? { pendingAsks: 0, pinnedWorkflows: 0, polled: false };
    const routed = version.state === 'current' || version.state === 'ramping';
    // A version never made current is one waiting to be rolled out, not one to stop.
    const settled =
      version.drainage === 'drained' ||
      (version.deactivatedAt !== undefined && params.now.getTime() - Date.parse(version.deactivatedAt) >= graceMs);
    return {
      buildId: version.buildId,
      state: version.state,
      ...(version.rampPercentage !== undefined && { rampPercentage: version.rampPercentage }),
      ...counts,
      canStop: !routed && counts.pinnedWorkflows === 0 && settled,
      ...(version.createdAt && { createdAt: version.createdAt }),
    };
  });
  return {
    deploymentName: params.deploymentName,
    exists: params.exists,
    currentBuildId: params.versions.find((v) => v.state === 'current')?.buildId,
    rampingBuildId: params.versions.find((v) => v.state === 'ramping')?.buildId,
    versions,
    unversionedPendingAsks: params.unversionedPendingAsks,
  };
}

const STATE_WORDS: Record<VersionState, string> = {
  current: 'current',
  ramping: 'ramping',
  draining: 'draining',
  drained: 'drained',
  inactive: 'not current yet',
};

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** The report as text: a line per version, then what to do next. */
export function formatDeploymentReport(report: DeploymentReport): string {
  if (!report.exists)
    return [
      `deployment ${report.deploymentName}: no version yet (no versioned worker has polled)`,
      'start workers with SMS_ASK_WORKER_VERSIONING=true, then make their version current',
    ].join('\n');
  const lines = [
    `deployment ${report.deploymentName}: current ${report.currentBuildId ?? 'none'}` +
      (report.rampingBuildId ? `, ramping ${report.rampingBuildId}` : ''),
  ];
  for (const v of report.versions) {
    const state = v.state === 'ramping' ? `ramping ${v.rampPercentage ?? 0}%` : STATE_WORDS[v.state];
    const others = v.pinnedWorkflows - v.pendingAsks;
    const pinned =
      `${plural(v.pendingAsks, 'pending ask')}` + (others > 0 ? ` (+${plural(others, 'other pinned workflow')})` : '');
    const workers = v.polled ? 'workers polling' : 'no worker polling';
    const verdict = v.canStop
      ? v.polled
        ? '; nothing left: its workers can stop'
        : '; nothing left'
      : v.state === 'draining' && v.pinnedWorkflows === 0
        ? '; none open, waiting for visibility to catch up (a few minutes) before its workers can stop'
        : '';
    lines.push(`  ${v.buildId}  ${state}, ${pinned}, ${workers}${verdict}`);
  }
  if (report.unversionedPendingAsks > 0)
    lines.push(`  (unversioned)  ${plural(report.unversionedPendingAsks, 'pending ask')}`);
  if (!report.currentBuildId)
    lines.push('no current version: new asks wait for an unversioned worker; run `sms-ask deploy current`');
  for (const v of report.versions)
    if (!v.polled && v.pinnedWorkflows > 0)
      lines.push(`warning: ${plural(v.pinnedWorkflows, 'workflow')} pinned to ${v.buildId}, but no worker of it polls`);
  return lines.join('\n');
}

interface Timestamp {
  seconds?: { toNumber(): number } | number | null;
}

function isoOf(ts: Timestamp | null | undefined): string | undefined {
  if (!ts?.seconds) return undefined;
  const seconds = typeof ts.seconds === 'number' ? ts.seconds : ts.seconds.toNumber();
  return new Date(seconds * 1000).toISOString();
}

function stateOf(status: number | null | undefined, drainage: number | null | undefined): VersionState {
  switch (status) {
    case VersionStatus.WORKER_DEPLOYMENT_VERSION_STATUS_CURRENT:
      return 'current';
    case VersionStatus.WORKER_DEPLOYMENT_VERSION_STATUS_RAMPING:
      return 'ramping';
    case VersionStatus.WORKER_DEPLOYMENT_VERSION_STATUS_DRAINING:
      return 'draining';
    case VersionStatus.WORKER_DEPLOYMENT_VERSION_STATUS_DRAINED:
      return 'drained';
    default:
      if (drainage === VersionDrainageStatus.VERSION_DRAINAGE_STATUS_DRAINING) return 'draining';
      if (drainage === VersionDrainageStatus.VERSION_DRAINAGE_STATUS_DRAINED) return 'drained';
      return 'inactive';
  }
}

const GRPC_NOT_FOUND = 5;

/** The server's view of the deployment: its versions, newest first; exists false when it has none. */
export async function describeDeployment(
  client: Client,
  deploymentName: string,
): Promise<{ exists: boolean; versions: ServerVersion[]; conflictToken?: Uint8Array }> {
  let response: temporal.api.workflowservice.v1.IDescribeWorkerDeploymentResponse;
  try {
    response = await client.workflowService.describeWorkerDeployment({
      namespace: client.options.namespace,
      deploymentName,
    });
  } catch (err) {
    if ((err as { code?: number }).code === GRPC_NOT_FOUND) return { exists: false, versions: [] };
    throw err;
  }
  const info = response.workerDeploymentInfo;
  const routing = info?.routingConfig;
  const rampingBuildId = routing?.rampingDeploymentVersion?.buildId;
  const versions = (info?.versionSummaries ?? []).map((summary): ServerVersion => {
    const buildId = summary.deploymentVersion?.buildId ?? '';
    const drainage = summary.drainageInfo?.status ?? summary.drainageStatus;
    const state = stateOf(summary.status, drainage);
    return {
      buildId,
      state,
      ...(state === 'ramping' &&
        buildId === rampingBuildId && { rampPercentage: routing?.rampingVersionPercentage ?? 0 }),
      ...(drainage === VersionDrainageStatus.VERSION_DRAINAGE_STATUS_DRAINING && { drainage: 'draining' as const }),
      ...(drainage === VersionDrainageStatus.VERSION_DRAINAGE_STATUS_DRAINED && { drainage: 'drained' as const }),
      ...(isoOf(summary.createTime) && { createdAt: isoOf(summary.createTime) }),
      ...(isoOf(summary.lastDeactivationTime) && { deactivatedAt: isoOf(summary.lastDeactivationTime) }),
    };
  });
  versions.sort((a, b) => (b.createdAt ?? '').localeCompare(a.createdAt ?? ''));
  return { exists: true, versions, ...(response.conflictToken && { conflictToken: response.conflictToken }) };
}

const quote = (value: string) => `'${value.replace(/[\\']/g, (c) => `\\${c}`)}'`;

/** The version as visibility's TemporalWorkerDeploymentVersion holds it. */
export function versionSearchValue(deploymentName: string, buildId: string): string {
  return `${deploymentName}:${buildId}`;
}

/** Visibility queries for the open workflows pinned to a version, and for the asks among them. */
export function pinnedQueries(
  deploymentName: string,
  buildId: string,
  taskQueue: string,
): { pinnedWorkflows: string; pendingAsks: string } {
  const pinned = [
    `ExecutionStatus = 'Running'`,
    `TemporalWorkerDeploymentVersion = ${quote(versionSearchValue(deploymentName, buildId))}`,
    `TemporalWorkflowVersioningBehavior = 'Pinned'`,
  ].join(' AND ');
  return {
    pinnedWorkflows: pinned,
    pendingAsks: `${pinned} AND WorkflowType = 'askWorkflow' AND TaskQueue = ${quote(taskQueue)}`,
  };
}

/** Open asks of the task queue on no version. */
export function unversionedAsksQuery(taskQueue: string): string {
  return `ExecutionStatus = 'Running' AND WorkflowType = 'askWorkflow' AND TaskQueue = ${quote(taskQueue)} AND TemporalWorkerDeploymentVersion IS NULL`;
}

/** How long after its last poll a worker still counts as polling: a long poll lasts about a minute. */
const POLLER_FRESH_MS = 3 * 60 * 1000;

/** Build IDs of this deployment whose workers polled the task queue (workflow tasks) lately. */
export async function pollingBuildIds(
  client: Client,
  deploymentName: string,
  taskQueue: string,
  now: Date = new Date(),
): Promise<Set<string>> {
  const response = await client.workflowService.describeTaskQueue({
    namespace: client.options.namespace,
    taskQueue: { name: taskQueue, kind: temporal.api.enums.v1.TaskQueueKind.TASK_QUEUE_KIND_NORMAL },
    taskQueueType: temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
  });
  const polling = new Set<string>();
  for (const poller of response.pollers ?? []) {
    const options = poller.deploymentOptions;
    if (!options?.buildId || options.deploymentName !== deploymentName) continue;
    const lastAccess = isoOf(poller.lastAccessTime);
    if (lastAccess && now.getTime() - Date.parse(lastAccess) > POLLER_FRESH_MS) continue;
    polling.add(options.buildId);
  }
  return polling;
}

/** The deployment's report: the server's view of each version, and the open workflows pinned to it. */
export async function readDeploymentReport(
  client: Client,
  deploymentName: string,
  taskQueue: string,
  options: { graceMs?: number } = {},
): Promise<DeploymentReport> {
  const [{ exists, versions }, polling, unversioned] = await Promise.all([
    describeDeployment(client, deploymentName),
    pollingBuildIds(client, deploymentName, taskQueue),
    client.workflow.count(unversionedAsksQuery(taskQueue)),
  ]);
  const counts = new Map<string, VersionCounts>();
  await Promise.all(
    versions.map(async ({ buildId }) => {
      const queries = pinnedQueries(deploymentName, buildId, taskQueue);
      const [pinned, asks] = await Promise.all([
        client.workflow.count(queries.pinnedWorkflows),
        client.workflow.count(queries.pendingAsks),
      ]);
      counts.set(buildId, { pendingAsks: asks.count, pinnedWorkflows: pinned.count, polled: polling.has(buildId) });
    }),
  );
  return buildDeploymentReport({
    deploymentName,
    exists,
    versions,
    counts,
    unversionedPendingAsks: unversioned.count,
    now: new Date(),
    ...(options.graceMs !== undefined && { graceMs: options.graceMs }),
  });
}

/** Makes the build the current version: new asks start on it, the long-lived workflows move to it. */
export async function setCurrentVersion(
  client: Client,
  deploymentName: string,
  buildId: string,
  options: { allowNoPollers?: boolean } = {},
): Promise<void> {
  await client.workflowService.setWorkerDeploymentCurrentVersion({
    namespace: client.options.namespace,
    deploymentName,
    buildId,
    identity: client.options.identity,
    allowNoPollers: options.allowNoPollers ?? false,
  });
}

/** Ramps the build: this share of new asks (and of the long-lived workflows) go to it; 0 to 100. */
export async function setRampingVersion(
  client: Client,
  deploymentName: string,
  buildId: string,
  percentage: number,
  options: { allowNoPollers?: boolean } = {},
): Promise<void> {
  if (!(percentage >= 0 && percentage <= 100)) throw new RangeError(`a ramp is 0 to 100 percent, not ${percentage}`);
  await client.workflowService.setWorkerDeploymentRampingVersion({
    namespace: client.options.namespace,
    deploymentName,
    buildId,
    percentage,
    identity: client.options.identity,
    allowNoPollers: options.allowNoPollers ?? false,
  });
}
