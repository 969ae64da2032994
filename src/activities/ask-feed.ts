import type { AskFeedInput, EndedAskRecord } from '../workflows/definitions';
import { askEndedRecordSignal, askFeedWorkflowId } from '../workflows/definitions';
import type { ActivityDeps } from './deps';

/** The feed workflow's signature, by name: activities do not import workflow code. */
type AskFeedWorkflow = (input?: AskFeedInput) => Promise<void>;

export function createAskFeedActivities({ client, logger }: Pick<ActivityDeps, 'client' | 'logger'>) {
  return {
    /**
     * Appends an ended ask to its task queue's feed, starting the feed workflow if it is not running.
     * Retried until it lands; the feed drops a repeat by ask id.
     */
    async recordAskEnded({ taskQueue, record }: { taskQueue: string; record: EndedAskRecord }): Promise<void> {
      await client.workflow.signalWithStart<AskFeedWorkflow, [EndedAskRecord]>('askFeedWorkflow', {
        workflowId: askFeedWorkflowId(taskQueue),
        taskQueue,
        args: [{}],
        signal: askEndedRecordSignal,
        signalArgs: [record],
      });
      logger.info({ askId: record.askId, status: record.status }, 'ended ask recorded in the feed');
    },
  };
}
