import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ransomwareContainmentPlaybook } from '../../examples/playbook-workflow';
import { askWorkflowId, statusQuery } from '../../src/workflows/definitions';
import { deliverReply, eventually, newPhone, startTestWorker } from '../support/harness';
import type { TestWorker } from '../support/harness';

let worker: TestWorker;

beforeAll(async () => {
  worker = await startTestWorker(
    {},
    { workflowsPath: path.resolve(__dirname, '../support/workflows-with-example.ts') },
  );
});
afterAll(async () => {
  await worker?.stop();
});

describe("the ask as a child of a user's workflow", () => {
  it('lets a playbook workflow ask by SMS and branch on the reply', async () => {
    const analyst = newPhone();
    const playbookId = `playbook-${randomUUID()}`;
    const playbook = await worker.client.workflow.start<typeof ransomwareContainmentPlaybook>(
      'ransomwareContainmentPlaybook',
      {
        workflowId: playbookId,
        taskQueue: worker.taskQueue,
        args: [{ host: 'WS-042', incidentId: '1042', analyst, smsAskTaskQueue: worker.taskQueue }],
      },
    );
    const child = worker.client.workflow.getHandle(askWorkflowId(`${playbookId}/isolate`));
    const state = await eventually(async () => {
      const s = await child.query(statusQuery);
      return s.events.some((e) => e.type === 'sent') ? s : undefined;
    }, 'the child ask to send its SMS');
    const monitor = state.recipients[0]!.codes.find((c) => c.option === 'Monitor')!.code;

    await deliverReply(worker, analyst, monitor);
    expect(await playbook.result()).toBe('monitoring WS-042');
  });

  it('fails the child at once, with the reason, when the playbook passes a bad phone number', async () => {
    const playbook = await worker.client.workflow.start<typeof ransomwareContainmentPlaybook>(
      'ransomwareContainmentPlaybook',
      {
        workflowId: `playbook-${randomUUID()}`,
        taskQueue: worker.taskQueue,
        args: [{ host: 'WS-043', incidentId: '1043', analyst: '555-01', smsAskTaskQueue: worker.taskQueue }],
      },
    );
    await expect(playbook.result()).rejects.toMatchObject({
      cause: {
        cause: { message: expect.stringMatching(/Invalid ask: to\[0\]: "555-01" is not a valid phone number/) },
      },
    });
  });
});
