import { continueAsNew, proxyActivities } from '@temporalio/workflow';
import type { MainActivities } from '../activities';
import type { InboundPollerInput } from './definitions';


/** The poll activity hands back control this often, so history and retries stay small. */
const LEASE_MS = 30 * 60 * 1000;
const LEASES_PER_RUN = 48;

// Heartbeats tell a crashed worker's poll apart from a long quiet one; retries never give up.
const { pollInbound } = proxyActivities<MainActivities>({
  startToCloseTimeout: LEASE_MS + 5 * 60 * 1000,
  heartbeatTimeout: '30s',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s' },
});

/** One per queue: keeps the long-running SQS poll activity alive. Started idempotently by the worker. */
export async function inboundPollerWorkflow(input: InboundPollerInput): Promise<void> {
  for (let lease = 0; lease < LEASES_PER_RUN; lease++) {
    await pollInbound({ queueUrl: input.queueUrl, leaseMs: LEASE_MS });
  }
  await continueAsNew<typeof inboundPollerWorkflow>(input);
}
