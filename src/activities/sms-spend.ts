import {
  ApplicationFailure,
  WithStartWorkflowOperation,
  WorkflowExecutionAlreadyStartedError,
} from '@temporalio/client';
import type { Client } from '@temporalio/client';
import type { Logger } from 'pino';
import type { Settings } from '../config';
import { spendLimits } from '../config';
import { DAILY_SPEND_PRIORITY_KEY } from '../domain/ask-priority';
import { maskPhone } from '../domain/phone-mask';
import { countryProblem } from '../domain/phone';
import { segmentCapProblem, smsSegmentInfo } from '../domain/sms-text';
import { segmentsLeased, smsRefused } from '../observability/metrics';
import { dailySpendWorkflowId, leaseSegmentsUpdate } from '../workflows/definitions';

/** Segments a worker takes from the day at once: one update per block instead of a workflow task per SMS. */
export const DAILY_LEASE_BLOCK = 50;

/**
 * The worker's share of the day's segment budget. Charges come out of a block leased from the
 * day's workflow; only when the block runs short is a new one asked for, one request at a time.
 */
export class DailySegmentLease {
  private day = '';
  private left = 0;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly client: Client,
    private readonly settings: Pick<Settings, 'taskQueue' | 'dailySegmentBudget'>,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** Takes `segments` for one SMS; false when the day's budget cannot pay for them. */
  charge(segments: number): Promise<boolean> {
    const next = this.queue.then(() => this.chargeNow(segments));
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async chargeNow(segments: number): Promise<boolean> {
    const day = this.now().toISOString().slice(0, 10);
    if (day !== this.day) {
      this.day = day;
      this.left = 0;
    }
    if (this.left < segments) {
      const lease = await this.lease(day, Math.max(segments - this.left, DAILY_LEASE_BLOCK));
      this.left += lease;
      segmentsLeased.inc(lease);
    }
    if (this.left < segments) return false;
    this.left -= segments;
    return true;
  }

  private async lease(day: string, segments: number): Promise<number> {
    try {
      const lease = await this.client.workflow.executeUpdateWithStart(leaseSegmentsUpdate, {
        args: [{ segments, budget: this.settings.dailySegmentBudget }],
        startWorkflowOperation: new WithStartWorkflowOperation('dailySpendWorkflow', {
          workflowId: dailySpendWorkflowId(this.settings.taskQueue, day),
          taskQueue: this.settings.taskQueue,
          args: [{ day }],
          workflowIdConflictPolicy: 'USE_EXISTING',
          // A day that has closed stays spent: never a second budget for it.
          workflowIdReusePolicy: 'REJECT_DUPLICATE',
          priority: { priorityKey: DAILY_SPEND_PRIORITY_KEY },
        }),
      });
      return lease.granted;
    } catch (err) {
      if (err instanceof WorkflowExecutionAlreadyStartedError) return 0; // the day is over and closed
      throw err;
    }
  }
}

export interface SmsSpendGuard {
  /** Throws a non-retryable failure unless `text` may go to `to`; returns its segments, charged to the day. */
  admit(to: string, text: string): Promise<number>;
}

/**
 * The checks every SMS passes on the SMS queue, whatever path it came by (an ask, a re-send, a
 * feedback, a one-way SMS, a workflow started straight from Temporal): the country allowlist, the
 * segment cap and the day's budget. A refusal is permanent: no retry would change it.
 */
export function createSmsSpendGuard({
  client,
  settings,
  logger,
}: {
  client: Client;
  settings: Settings;
  logger: Logger;
}): SmsSpendGuard {
  const limits = spendLimits(settings);
  const lease = new DailySegmentLease(client, settings);
  const refuse = (reason: 'country' | 'segments' | 'daily_budget', to: string, message: string): never => {
    smsRefused.inc({ reason });
    logger.warn({ to: maskPhone(to), reason }, `SMS not sent: ${message}`);
    const type = { country: 'SmsCountryRefused', segments: 'SmsRefused', daily_budget: 'DailyBudgetSpent' }[reason];
    throw ApplicationFailure.nonRetryable(message, type);
  };
  return {
    async admit(to: string, text: string): Promise<number> {
      const country = countryProblem(to, limits.smsCountries);
      if (country) refuse('country', to, country);
      const tooLong = segmentCapProblem(text, limits.maxSmsSegments);
      if (tooLong) refuse('segments', to, tooLong);
      const { segments } = smsSegmentInfo(text);
      if (!(await lease.charge(segments))) {
        refuse(
          'daily_budget',
          to,
          `the deployment's SMS budget for today (${settings.dailySegmentBudget} segments, dailySegmentBudget, SMS_ASK_DAILY_SEGMENT_BUDGET) is spent`,
        );
      }
      return segments;
    },
  };
}
