import { continueAsNew, proxyActivities, setWorkflowOptions } from '@temporalio/workflow';
import { versioningBehavior } from './versioning-behavior';
import type { MainActivities } from './definitions';
import type { InboundPollerInput } from './definitions';

/** The poll activity hands back control this often, so history and retries stay small. */
const LEASE_MS = 30 * 60 * 1000;
const LEASES_PER_RUN = 48;

// Heartbeats tell a crashed worker's poll apart from a long quiet one; retries never give up.
// The 5 minutes past the lease let a stopping poll finish routing and deleting what it holds.
const { pollInbound } = proxyActivities<MainActivities>({
  startToCloseTimeout: LEASE_MS + 5 * 60 * 1000,
  heartbeatTimeout: '30s',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s' },
});

/**
 * One per queue: keeps `pollers` SQS poll activities running side by side, each one a lease at a
 * time. The server hands each to whichever worker process asks first, so with several processes
 * the polls spread across them, and a crashed process's poll moves to another one.
 */
export async function inboundPollerWorkflow(input: InboundPollerInput): Promise<void> {
  const slots = Math.max(1, input.pollers ?? 1);
  await Promise.all(
    Array.from({ length: slots }, async () => {
      for (let lease = 0; lease < LEASES_PER_RUN; lease++) {
        await pollInbound({ queueUrl: input.queueUrl, leaseMs: LEASE_MS });
      }
    }),
  );
  await continueAsNew<typeof inboundPollerWorkflow>(input);
}

// Worker Versioning: the poller runs for as long as the queue does, so it moves to the current build.
setWorkflowOptions(versioningBehavior('AUTO_UPGRADE'), inboundPollerWorkflow);
