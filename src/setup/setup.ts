import type { Settings } from '../config';
import { SETTINGS_ENV } from '../config';
import {
  endUserMessagingSteps,
  protectConfigurationArnOf,
  roleTrustPolicy,
  twoWayChannelSteps,
  workerIamPolicy,
} from './iam-policy';
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

/** Plans, and unless `dryRun`, applies; then describes the IAM policies and the manual steps. */
export async function runSetup(
  clients: SetupClients,
  target: SetupTarget,
  settings: Pick<Settings, 'originationNumber' | 'senderId' | 'roleExternalId'> &
    Partial<Pick<Settings, 'protectConfigurationId'>>,
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
    ...(target.endUserMessaging && {
      [SETTINGS_ENV.smsSender]: 'end-user-messaging',
      [SETTINGS_ENV.originationIdentity]: target.endUserMessaging.originationIdentity,
      [SETTINGS_ENV.configurationSet]: target.endUserMessaging.configurationSet,
    }),
  };
  const eum = resources.endUserMessaging;
  return {
    dryRun,
    changed,
    steps: plan.steps,
    resources,
    workerSettings,
    workerPolicy: workerIamPolicy(
      resources,
      eum && {
        ...eum,
        ...(settings.protectConfigurationId && {
          protectConfigurationArn: protectConfigurationArnOf(resources, settings.protectConfigurationId),
        }),
      },
    ),
    trustPolicy: roleTrustPolicy(resources, settings.roleExternalId),
    // With End User Messaging, setup turns on two-way itself: only what AWS must approve is left.
    manualSteps: eum ? endUserMessagingSteps(resources) : twoWayChannelSteps(resources, settings),
  };
}
