import { ApplicationFailure, Context } from '@temporalio/activity';
import { HTTP_CALLBACK_REFUSED, webhookHostAllowed, webhookSchemeAllowed } from '../domain/callback';
import { DELIVERY_HEADER, EVENT_HEADER, SIGNATURE_HEADER, webhookSignature } from '../webhooks/signature';
import { webhookTarget } from '../workflows/definitions';
import type { WebhookAttempt, WebhookDeliveryInput } from '../workflows/definitions';
import type { ActivityDeps } from './deps';

/** The JSON body of every webhook. */
export interface WebhookBody {
  id: string;
  type: WebhookDeliveryInput['type'];
  createdAt: string;
  ask: WebhookDeliveryInput['ask'];
}

export function createWebhookActivities({ settings, logger }: Pick<ActivityDeps, 'settings' | 'logger'>) {
  return {
    /** One signed POST. Any 2xx is delivered; anything else is retried by the workflow's policy, except 410 Gone. */
    async deliverWebhook(input: WebhookDeliveryInput): Promise<WebhookAttempt> {
      const ctx = Context.current();
      const { attempt } = ctx.info;
      const failure = (message: string, nonRetryable = false, status?: number) =>
        ApplicationFailure.create({
          message,
          type: 'WebhookNotDelivered',
          nonRetryable,
          details: [{ attempt, status }],
        });
      // Checked again here: an ask can be started straight through Temporal, past the request checks.
      if (!webhookHostAllowed(input.url, settings.webhookAllowedHosts)) {
        throw failure(
          `${webhookTarget(input.url)} is not a webhook host this deployment allows (SMS_ASK_WEBHOOK_ALLOWED_HOSTS)`,
          true,
        );
      }
      if (!webhookSchemeAllowed(input.url, settings.webhookAllowHttpLoopback)) {
        throw failure(`${webhookTarget(input.url)}: ${HTTP_CALLBACK_REFUSED}`, true);
      }
      const secret =
        input.secret ?? (input.secretName === undefined ? undefined : settings.webhookSecrets?.[input.secretName]);
      if (secret === undefined)
        throw failure(
          `no webhook secret named "${input.secretName}" in this worker's settings (SMS_ASK_WEBHOOK_SECRETS)`,
          true,
        );
      // Read here, at delivery: the value never enters workflow history.
      const authorization =
        input.authorizationName === undefined ? undefined : settings.webhookAuthorizations?.[input.authorizationName];
      if (input.authorizationName !== undefined && authorization === undefined) {
        throw failure(
          `no webhook authorization named "${input.authorizationName}" in this worker's settings (SMS_ASK_WEBHOOK_AUTHORIZATIONS)`,
          true,
        );
      }

      const body: WebhookBody = { id: input.deliveryId, type: input.type, createdAt: input.createdAt, ask: input.ask };
      const text = JSON.stringify(body);
      const log = { deliveryId: input.deliveryId, target: webhookTarget(input.url), attempt };
      let status: number;
      try {
        const res = await fetch(input.url, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'user-agent': 'sms-ask-webhook/1',
            [SIGNATURE_HEADER]: webhookSignature(secret, Math.floor(Date.now() / 1000), text),
            [DELIVERY_HEADER]: input.deliveryId,
            [EVENT_HEADER]: input.type,
            ...(authorization !== undefined && { authorization }),
          },
          body: text,
          // A redirect is not a delivery: the secret's receiver is the URL given.
          redirect: 'manual',
          signal: AbortSignal.any([AbortSignal.timeout(settings.webhookTimeoutMs), ctx.cancellationSignal]),
        });
        status = res.status;
        await res.body?.cancel();
      } catch (err) {
        const e = err as { name?: string; message?: string; cause?: { code?: string; message?: string } };
        const reason =
          e.name === 'TimeoutError'
            ? `no response within ${settings.webhookTimeoutMs} ms`
            : `no response: ${e.cause?.code ?? e.cause?.message ?? e.message}`;
        logger.warn(log, 'webhook not delivered: %s', reason);
        throw failure(reason);
      }
      if (status >= 200 && status < 300) {
        logger.info({ ...log, status }, 'webhook delivered');
        return { status, attempt };
      }
      logger.warn({ ...log, status }, 'webhook refused');
      throw failure(`HTTP ${status}`, status === 410, status);
    },
  };
}
