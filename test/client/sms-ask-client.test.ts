import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SmsAskClient } from '../../src/client/sms-ask-client';
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
    const { askId, entitlement } = await asks.start({ to: phone, question: 'Listed at once?', context: { incident }, policy: { timeout: '4h' } });
    try {
      const [row] = await eventually(async () => {
        const rows = await asks.listPending({ incident });
        return rows.length > 0 ? rows : undefined;
      }, 'the ask in pending', 5_000);
      expect(row).toMatchObject({ askId, entitlement, incident, question: 'Listed at once?', recipients: [phone], tier: 0, remindersSent: 0, policy: 'custom', context: { incident } });
      // The client's clock sets the deadline, the server's the start: a moment apart at most.
      expect(Date.parse(row!.deadline) - Date.parse(row!.startedAt)).toBeGreaterThan(4 * 3_600_000 - 5_000);
      expect(Date.parse(row!.deadline) - Date.parse(row!.startedAt)).toBeLessThan(4 * 3_600_000 + 5_000);
    } finally {
      await asks.handle(askId).terminate('test over');
    }
  });
});
