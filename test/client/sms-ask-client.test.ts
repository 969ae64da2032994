import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SmsAskClient } from '../../src/client/sms-ask-client';
import { InvalidAskError } from '../../src/domain/ask-request';
import { eventually, newPhone, sharedStackClient } from '../support/harness';

describe('SmsAskClient on the dev server', () => {
  let client: Client;
  beforeAll(async () => {
    client = await sharedStackClient();
  });
  afterAll(async () => {
    await client?.connection.close();
  });

  // No worker polls this task queue, so the ask never runs a workflow task: whatever `pending`
  // shows came with the start.
  it('starts an ask that pending lists before any worker has run it', async () => {
    const asks = new SmsAskClient(client, { taskQueue: `no-worker-${randomUUID()}` });
    const phone = newPhone();
    const incident = `inc-${randomUUID().slice(0, 8)}`;
    const { askId, entitlement } = await asks.start({
      to: phone,
      question: 'Listed at once?',
      context: { incident },
      policy: { timeout: '4h' },
    });
    try {
      const [row] = await eventually(
        async () => {
          const rows = await asks.listPending({ incident });
          return rows.length > 0 ? rows : undefined;
        },
        'the ask in pending',
        5_000,
      );
      expect(row).toMatchObject({
        askId,
        entitlement,
        incident,
        question: 'Listed at once?',
        recipients: [phone],
        tier: 0,
        remindersSent: 0,
        policy: 'custom',
        context: { incident },
      });
      // The client's clock sets the deadline, the server's the start: a moment apart at most.
      expect(Date.parse(row!.deadline) - Date.parse(row!.startedAt)).toBeGreaterThan(4 * 3_600_000 - 5_000);
      expect(Date.parse(row!.deadline) - Date.parse(row!.startedAt)).toBeLessThan(4 * 3_600_000 + 5_000);
    } finally {
      await asks.handle(askId).terminate('test over');
    }
  });

  // The priority is the workflow's own, from its start: its workflow tasks and activities inherit it.
  it('starts each ask with the task queue priority of its request: bulk behind normal, high ahead, normal by default', async () => {
    const asks = new SmsAskClient(client, { taskQueue: `no-worker-${randomUUID()}` });
    const started = {
      bulk: await asks.start({ to: newPhone(), question: 'Campaign?', priority: 'bulk' }),
      high: await asks.start({ to: newPhone(), question: 'Urgent?', priority: 'high' }),
      normal: await asks.start({ to: newPhone(), question: 'Default?' }),
      once: await asks.startOnce({ to: newPhone(), question: 'Campaign, once?', priority: 'bulk' }),
    };
    try {
      const keys = Object.fromEntries(
        await Promise.all(
          Object.entries(started).map(async ([name, { askId }]) => [
            name,
            (await asks.handle(askId).describe()).priority?.priorityKey,
          ]),
        ),
      );
      expect(keys).toEqual({ bulk: 5, high: 2, normal: 3, once: 5 });
    } finally {
      await Promise.all(Object.values(started).map(({ askId }) => asks.handle(askId).terminate('test over')));
    }
  });

  it('refuses a priority it does not know, naming the field, and starts nothing', async () => {
    const asks = new SmsAskClient(client, { taskQueue: `no-worker-${randomUUID()}` });
    const entitlement = `unknown-priority-${randomUUID()}`;
    const refusal = await asks
      .start({ to: newPhone(), question: 'Now?', entitlement, priority: 'urgent' as 'high' })
      .catch((err: unknown) => err);
    expect(refusal).toBeInstanceOf(InvalidAskError);
    expect((refusal as InvalidAskError).problems).toEqual([expect.stringMatching(/^priority: /)]);
    await expect(asks.handle(`ask/${entitlement}`).describe()).rejects.toThrow();
  });
});
