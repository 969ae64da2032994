import type { Settings } from '../config';
import { SETTINGS_ENV } from '../config';
import { roleTrustPolicy, twoWayChannelSteps, workerIamPolicy } from './iam-policy';
import { applySetup, hasChanges, planSetup } from './reconcile';
import type { InboundResources, SetupClients, SetupStep } from './reconcile';
import type { PolicyDocument, SetupTarget } from './resources';

export interface SetupReport {
  dryRun: boolean;
  /** False when everything already matched: nothing was (or would be) changed. */
  changed: boolean;
  steps: SetupStep[];
  resources: InboundResources;
  /** The settings the worker needs for these resources. */
  workerSettings: Record<string, string>;
  workerPolicy: PolicyDocument;
  trustPolicy: PolicyDocument;
  manualSteps: string[];
}

/** Plans, and unless `dryRun`, applies; then describes the IAM policies and the manual step. */
export async function runSetup(
  clients: SetupClients,
  target: SetupTarget,
  settings: Pick<Settings, 'originationNumber' | 'senderId' | 'roleExternalId'>,
  { dryRun }: { dryRun: boolean },
): Promise<SetupReport> {
  const plan = await planSetup(clients, target);
  const changed = hasChanges(plan);
  const resources = changed && !dryRun ? await applySetup(clients, plan) : plan.resources;
  const workerSettings: Record<string, string> = {
    ...(resources.queueUrl ? { [SETTINGS_ENV.queueUrl]: resources.queueUrl } : {}),
    [SETTINGS_ENV.inboundTopicArn]: resources.topicArn,
    // The subscription setup makes delivers SNS envelopes; raw delivery or a bridge must be declared.
    [SETTINGS_ENV.inboundFormats]: 'sns-envelope',
    ...(resources.dlqUrl ? { [SETTINGS_ENV.dlq]: resources.dlqUrl } : {}),
    AWS_REGION: resources.region,
  };
  return {
    dryRun,
    changed,
    steps: plan.steps,
    resources,
    workerSettings,
    workerPolicy: workerIamPolicy(resources),
    trustPolicy: roleTrustPolicy(resources, settings.roleExternalId),
    manualSteps: twoWayChannelSteps(resources, settings),
  };
}
