/**
 * What an ask and a reply cost Temporal, counted from the histories of every workflow involved (the
 * asks and their phones' recipient workflows): workflow tasks, history events, and Temporal Cloud
 * billable actions.
 */
import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { recipientWorkflowId } from '../../src/workflows/definitions';
import type { PendingAsk } from '../fleet';
import { mapConcurrently } from '../pool';

export interface WorkCost {
  workflowTasks: number;
  historyEvents: number;
  /** Temporal Cloud billable actions, as far as a history shows them (see `actionsOf`). */
  actions: number;
}

const EventType = temporal.api.enums.v1.EventType;
type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

/**
 * Billable actions that leave a history event: a workflow started (or continued as new), a signal
 * received, an update accepted, an activity scheduled and each of its retries, a timer, a child
 * workflow started, a search-attribute or memo upsert, a marker (local activities, at most one per
 * workflow task). Queries, rejected updates and activity heartbeats are actions too, but leave no
 * event; no scenario counted here uses them on the measured path.
 */
export function actionsOf(events: readonly HistoryEvent[]): number {
  let actions = 0;
  let markerInTask = false;
  for (const event of events) {
    switch (event.eventType) {
      case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED:
      case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED:
      case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED:
      case EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
      case EventType.EVENT_TYPE_TIMER_STARTED:
      case EventType.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED:
      case EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES:
      case EventType.EVENT_TYPE_WORKFLOW_PROPERTIES_MODIFIED:
        actions++;
        break;
      case EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED:
        actions += Math.max((event.activityTaskStartedEventAttributes?.attempt ?? 1) - 1, 0);
        break;
      case EventType.EVENT_TYPE_MARKER_RECORDED:
        if (!markerInTask) actions++;
        markerInTask = true;
        break;
      case EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
        markerInTask = false;
        break;
    }
  }
  return actions;
}

export function costOf(events: readonly HistoryEvent[]): WorkCost {
  return {
    workflowTasks: events.filter((e) => e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED).length,
    historyEvents: events.length,
    actions: actionsOf(events),
  };
}

/** The summed cost, so far, of the given asks and of their phones' recipient workflows (each phone has one ask here). */
export async function costSoFar(client: Client, taskQueue: string, asks: readonly PendingAsk[]): Promise<WorkCost> {
  const ids = asks.flatMap((ask) => [ask.askId, recipientWorkflowId(taskQueue, ask.phone)]);
  const costs = await mapConcurrently(ids, 16, async (workflowId) =>
    costOf((await client.workflow.getHandle(workflowId).fetchHistory()).events ?? []),
  );
  return costs.reduce(add, { workflowTasks: 0, historyEvents: 0, actions: 0 });
}

export function add(a: WorkCost, b: WorkCost): WorkCost {
  return {
    workflowTasks: a.workflowTasks + b.workflowTasks,
    historyEvents: a.historyEvents + b.historyEvents,
    actions: a.actions + b.actions,
  };
}

export function per(
  cost: WorkCost,
  count: number,
  minus: WorkCost = { workflowTasks: 0, historyEvents: 0, actions: 0 },
): WorkCost {
  const round = (n: number) => Math.round((n / count) * 100) / 100;
  return {
    workflowTasks: round(cost.workflowTasks - minus.workflowTasks),
    historyEvents: round(cost.historyEvents - minus.historyEvents),
    actions: round(cost.actions - minus.actions),
  };
}
