// The sms-ask workflows as a later build might change them: its ask takes one step more before the
// first question (a step an ask started on the earlier build never took, so it cannot replay here).
import { proxyActivities, setWorkflowOptions } from '@temporalio/workflow';
import { askWorkflow as currentAskWorkflow } from '../../src/workflows';
import { versioningBehavior } from '../../src/workflows/versioning-behavior';
import type { AskWorkflowInput, MainActivities } from '../../src/workflows/definitions';

export {
  recipientWorkflow,
  inboundPollerWorkflow,
  webhookDeliveryWorkflow,
  dailySpendWorkflow,
  oneWaySmsWorkflow,
  askFeedWorkflow,
} from '../../src/workflows';

const { isPhoneOptedOut } = proxyActivities<MainActivities>({ startToCloseTimeout: '20s' });

/** The phone this build's extra step looks up: one no test asks. */
const NEXT_BUILD_PROBE_PHONE = '+12065550100';

export async function askWorkflow(request: AskWorkflowInput) {
  await isPhoneOptedOut({ phone: NEXT_BUILD_PROBE_PHONE });
  return await currentAskWorkflow(request);
}

setWorkflowOptions(versioningBehavior('PINNED'), askWorkflow);
