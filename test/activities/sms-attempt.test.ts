/** An SMS attempt's AWS call ends with the attempt: on cancellation, and before its start-to-close timeout. */
import type { SNSClient } from '@aws-sdk/client-sns';
import { MockActivityEnvironment } from '@temporalio/testing';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { createSmsActivities } from '../../src/activities/outbound';
import { loadSettings } from '../../src/config';

/** An SNS client whose calls hang until their abort signal fires, recording that it did. */
function hangingSns() {
  const seen = { calls: 0, aborted: 0 };
  const sns = {
    send: (_command: unknown, options?: { abortSignal?: AbortSignal }) => {
      seen.calls++;
      return new Promise((_resolve, reject) => {
        options?.abortSignal?.addEventListener('abort', () => {
          seen.aborted++;
          reject(Object.assign(new Error('Request aborted'), { name: 'AbortError' }));
        });
      });
    },
  };
  return { seen, sns: sns as unknown as SNSClient };
}

function smsActivities(sns: SNSClient) {
  const settings = loadSettings({}, {});
  // The day's budget grants whatever is asked: this test is about the SNS call, not the budget.
  const client = {
    workflow: {
      executeUpdateWithStart: (_update: unknown, { args }: { args: [{ segments: number }] }) =>
        Promise.resolve({ granted: args[0].segments }),
    },
  };
  return createSmsActivities({
    sns,
    sqs: undefined as never,
    client: client as never,
    settings,
    logger: pino({ level: 'silent' }),
  });
}

describe('SMS activities', () => {
  it('abort the SNS call when the activity is cancelled', async () => {
    const { seen, sns } = hangingSns();
    const env = new MockActivityEnvironment({ startToCloseTimeoutMs: 240_000 });
    const sending = env.run(smsActivities(sns).sendFeedback, {
      to: '+12065550142',
      kind: 'success' as const,
      values: { chosen_option: 'Yes', question: 'Q?' },
    });
    await new Promise((resolve) => setTimeout(resolve, 100));
    env.cancel();
    await expect(sending).rejects.toThrow();
    expect(seen).toEqual({ calls: 1, aborted: 1 });
  });

  it('abort the SNS call before the attempt times out, so a retry never overlaps it', async () => {
    const { seen, sns } = hangingSns();
    // 5 s are kept back from the start-to-close timeout: this attempt's call may run 1 s.
    const env = new MockActivityEnvironment({ startToCloseTimeoutMs: 6_000 });
    const error = await env
      .run(smsActivities(sns).sendSms, { to: '+12065550142', message: 'Isolate host WS-042?' })
      .catch((err: unknown) => err);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).not.toContain('+12065550142');
    expect(seen).toEqual({ calls: 1, aborted: 1 });
  });
});
