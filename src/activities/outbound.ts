import { Context } from '@temporalio/activity';
import { ApplicationFailure, WithStartWorkflowOperation, WorkflowUpdateFailedError } from '@temporalio/client';
import type { FeedbackKind } from '../config';
import { replyRulesFrom } from '../config';
import { publishSms } from '../aws/sms-publisher';
import type { SentSms } from '../aws/sms-publisher';
import { SmsSendError } from '../aws/sns-errors';
import { MessageTooLongError } from '../domain/sms-text';
import { maskPhone } from '../domain/phone-mask';
import { renderTemplate } from '../domain/templates';
import { registerUpdate } from '../workflows/definitions';
import type { OptionCode, Registration } from '../workflows/definitions';
import type { ActivityDeps } from './deps';

export interface RegisterAskInput {
  recipientWorkflowId: string;
  phone: string;
  registration: Omit<Registration, 'codeMode' | 'codeLength' | 'rules'>;
}

export interface FeedbackInput {
  to: string;
  kind: FeedbackKind;
  values: Record<string, string>;
}

/** Well inside the ask workflow's heartbeat timeout for a registration (1 minute). */
const REGISTRATION_HEARTBEAT_MS = 20_000;

function asActivityFailure(err: unknown): unknown {
  if (err instanceof SmsSendError && err.permanent) return ApplicationFailure.nonRetryable(err.message, err.code);
  if (err instanceof MessageTooLongError) return ApplicationFailure.nonRetryable(err.message, 'MessageTooLong');
  return err;
}

export function createRegistrationActivities({ client, settings }: ActivityDeps) {
  return {
    /** Registers an ask with the phone's recipient workflow, starting it if needed; returns the codes. */
    async registerAsk({ recipientWorkflowId, phone, registration }: RegisterAskInput): Promise<OptionCode[]> {
      const ctx = Context.current();
      const { taskQueue } = ctx.info;
      // The wait for the recipient's turn has no timeout; heartbeats, only while it lasts, show that this worker still waits.
      const heartbeat = setInterval(() => ctx.heartbeat(), REGISTRATION_HEARTBEAT_MS);
      try {
        return await client.workflow.executeUpdateWithStart(registerUpdate, {
          args: [{ ...registration, codeMode: settings.codeMode, codeLength: settings.codeLength, rules: replyRulesFrom(settings) }],
          updateId: `register/${registration.askId}`,
          startWorkflowOperation: new WithStartWorkflowOperation('recipientWorkflow', {
            workflowId: recipientWorkflowId,
            taskQueue,
            args: [{ phone }],
            workflowIdConflictPolicy: 'USE_EXISTING',
          }),
        });
      } catch (err) {
        if (err instanceof WorkflowUpdateFailedError) {
          throw ApplicationFailure.nonRetryable(`Recipient ${maskPhone(phone)} refused the ask: ${err.cause?.message ?? err.message}`, 'RegistrationRefused');
        }
        throw err;
      } finally {
        clearInterval(heartbeat);
      }
    },
  };
}

/** Every SNS publish goes through these, on the SMS task queue, where the publish rate limit holds. */
export function createSmsActivities({ sns, settings, logger }: ActivityDeps) {
  return {
    /** Sends the question SMS. Permanent SNS errors fail at once; the rest are retried. */
    async sendSms({ to, message }: { to: string; message: string }): Promise<SentSms> {
      try {
        const sent = await publishSms(sns, settings, to, message, { checkOptOut: true });
        logger.info({ to: maskPhone(to), messageId: sent.messageId, segments: sent.segments }, 'question SMS sent');
        return sent;
      } catch (err) {
        throw asActivityFailure(err);
      }
    },

    /** Sends a feedback SMS from a configured template, unless that kind of feedback is turned off. */
    async sendFeedback({ to, kind, values }: FeedbackInput): Promise<{ sent: boolean; messageId?: string }> {
      const feedback = settings.feedback[kind];
      if (!feedback.enabled) return { sent: false };
      const message = renderTemplate(feedback.template, { phone_number: to, ...values });
      try {
        const { messageId } = await publishSms(sns, settings, to, message);
        logger.info({ to: maskPhone(to), kind, messageId }, 'feedback SMS sent');
        return { sent: true, messageId };
      } catch (err) {
        throw asActivityFailure(err);
      }
    },
  };
}
