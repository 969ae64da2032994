import { randomUUID } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/activity';
import { InvalidAskError, normalizeAskRequest } from '../domain/ask-request';
import type { AskRequest, NormalizedAsk } from '../domain/ask-request';
import { spendLimits, webhookDefaults } from '../config';
import type { ActivityDeps } from './deps';

/**
 * Validation of asks that a user's workflow starts as children (the client validates its own).
 * It runs here, not in the workflow, so that zod and the phone-number metadata stay out of the
 * workflow bundle, which every workflow would otherwise load and hold.
 */
export function createValidationActivities({ settings }: Pick<ActivityDeps, 'settings'>) {
  return {
    async validateAsk(request: AskRequest): Promise<NormalizedAsk> {
      try {
        return normalizeAskRequest(request, {
          defaultCountry: settings.defaultCountry,
          maxCodeLength: settings.codeLength,
          codeMode: settings.codeMode,
          newEntitlement: randomUUID,
          webhooks: webhookDefaults(settings),
          spend: spendLimits(settings),
        });
      } catch (err) {
        if (err instanceof InvalidAskError) throw ApplicationFailure.nonRetryable(err.message, 'InvalidAsk');
        throw err;
      }
    },
  };
}
