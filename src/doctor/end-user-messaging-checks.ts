/**
 * `doctor` for `smsSender: end-user-messaging`: what the SNS troubleshooting list could only tell
 * people to look at, read from the End User Messaging API.
 */
import { DescribeAccountAttributesCommand, DescribeSpendLimitsCommand } from '@aws-sdk/client-pinpoint-sms-voice-v2';
import type { PhoneNumberInformation } from '@aws-sdk/client-pinpoint-sms-voice-v2';
import { GetTopicAttributesCommand } from '@aws-sdk/client-sns';
import { SETTINGS_ENV } from '../config';
import {
  DELIVERED_EVENT_TYPES,
  EVENT_DESTINATION_NAME,
  FAILED_EVENT_TYPES,
  OriginationIdentityError,
  configurationSetNameOf,
  coversEventTypes,
  inboundEventDestination,
} from '../setup/end-user-messaging';
import { findQueueSubscription } from '../setup/reconcile';
import { parseArn, parsePolicy, topicPolicyAllowsSmsService } from '../setup/resources';
import { pollerHeartbeats } from './checks';
import type { Check, CheckOutcome } from './checks';

const SETUP_FIX =
  'run `sms-ask setup` (with End User Messaging it also reconciles the configuration set and two-way SMS)';
/** Below this monthly text spend limit (USD), a campaign stops within a few hundred US messages. */
const LOW_SPEND_LIMIT_USD = 1;

export const eumOriginationCheck: Check = {
  name: 'eum-origination',
  async run(ctx) {
    let identity;
    try {
      identity = await ctx.originationIdentity();
    } catch (err) {
      const cause = (err as { error?: unknown }).error ?? err;
      if (cause instanceof OriginationIdentityError)
        return {
          status: 'fail',
          saw: cause.message,
          fix: `set ${SETTINGS_ENV.originationIdentity} to a pool or phone number that exists in this region`,
        };
      throw err;
    }
    const what = `${identity.kind} ${identity.id}${identity.phoneNumber ? ` (${identity.phoneNumber}${identity.numberType ? `, ${identity.numberType}` : ''})` : ''}`;
    if (identity.status !== 'ACTIVE')
      return {
        status: 'fail',
        saw: `${what} is ${identity.status}, not ACTIVE: nothing sends from it`,
        fix:
          identity.status === 'PENDING'
            ? 'a number stays PENDING until AWS provisions it or approves its registration (see "eum-registration"); wait, or send from an ACTIVE one'
            : `set ${SETTINGS_ENV.originationIdentity} to an ACTIVE pool or number`,
      };
    return { status: 'pass', saw: `${what} is ACTIVE` };
  },
};

export const eumTwoWayCheck: Check = {
  name: 'eum-two-way',
  async run(ctx) {
    const identity = await ctx.originationIdentity();
    const topicArn = ctx.topicArn();
    const what = `${identity.kind} ${identity.id}`;
    if (!identity.twoWayEnabled)
      return {
        status: 'fail',
        saw: `two-way SMS is off on ${what}: replies to it never reach sms-ask`,
        fix: `${SETUP_FIX}; it turns two-way on with ${topicArn} as the channel`,
      };
    if (identity.twoWayChannelArn !== topicArn)
      return {
        status: 'fail',
        saw: `${what} sends replies to ${identity.twoWayChannelArn ?? '(no channel)'}, not to the inbound topic ${topicArn}`,
        fix: `${SETUP_FIX}; it points the two-way channel at ${topicArn}`,
      };
    return {
      status: 'pass',
      saw: `two-way SMS on ${what} publishes replies to ${topicArn}${identity.twoWayChannelRole ? ` as ${identity.twoWayChannelRole}` : ''}`,
    };
  },
};

/** What a number needs before it can send A2P SMS, by its type. */
function registrationOf(
  n: Pick<PhoneNumberInformation, 'PhoneNumber' | 'NumberType' | 'RegistrationId' | 'IsoCountryCode' | 'Status'>,
): CheckOutcome {
  const number = `${n.PhoneNumber ?? '?'} (${n.NumberType ?? 'unknown type'}, ${n.IsoCountryCode ?? '?'})`;
  if (n.RegistrationId)
    return {
      status: 'pass',
      saw: `${number} belongs to registration ${n.RegistrationId}${n.Status === 'ACTIVE' ? ' and is ACTIVE' : `, and is ${n.Status}: the registration may still be under review`}`,
    };
  if (n.NumberType === 'TEN_DLC')
    return {
      status: 'fail',
      saw: `${number} has no registration: US carriers block A2P SMS from a 10DLC number that is not in a registered campaign`,
      fix: 'register a brand and a 10DLC campaign in AWS End User Messaging SMS (Registrations), then associate the number with the campaign',
    };
  if (n.NumberType === 'TOLL_FREE' && (n.IsoCountryCode ?? 'US') === 'US')
    return {
      status: 'fail',
      saw: `${number} has no registration: a US toll-free number cannot send until its registration is approved`,
      fix: 'complete the toll-free registration in AWS End User Messaging SMS (Registrations); review takes up to 15 business days',
    };
  if (n.NumberType === 'SIMULATOR')
    return {
      status: 'pass',
      saw: `${number} is a simulator number: it needs no registration, and reaches only simulator destinations`,
    };
  return {
    status: 'pass',
    saw: `${number} has no registration ID; whether ${n.IsoCountryCode ?? 'its country'} requires one is in AWS's "Supported countries and regions" page`,
  };
}

export const eumRegistrationCheck: Check = {
  name: 'eum-registration',
  async run(ctx) {
    const identity = await ctx.originationIdentity();
    if (identity.kind === 'phone-number')
      return registrationOf({
        PhoneNumber: identity.phoneNumber,
        NumberType: identity.numberType as PhoneNumberInformation['NumberType'],
        RegistrationId: identity.registrationId,
        IsoCountryCode: identity.isoCountryCode,
        Status: identity.status as PhoneNumberInformation['Status'],
      });
    const numbers = identity.numbers ?? [];
    if (numbers.length === 0)
      return {
        status: 'fail',
        saw: `pool ${identity.id} holds none of this account's phone numbers: nothing can send from it`,
        fix: 'associate a two-way number with the pool (AWS End User Messaging SMS → Phone pools)',
      };
    const outcomes = numbers.map(registrationOf);
    const failed = outcomes.filter((o) => o.status === 'fail');
    if (failed.length > 0)
      return {
        status: failed.length === numbers.length ? 'fail' : 'warn',
        saw: `pool ${identity.id}: ${failed.map((o) => o.saw).join('; ')}`,
        fix: failed[0]!.fix,
      };
    return { status: 'pass', saw: `pool ${identity.id}: ${outcomes.map((o) => o.saw).join('; ')}` };
  },
};

export const eumConfigurationSetCheck: Check = {
  name: 'eum-configuration-set',
  async run(ctx) {
    const name = configurationSetNameOf(ctx.settings.configurationSet);
    const topicArn = ctx.topicArn();
    const set = await ctx.configurationSet();
    if (!set)
      return {
        status: 'fail',
        saw: `there is no configuration set ${name}: every send names it, and End User Messaging refuses them`,
        fix: `${SETUP_FIX}, or set ${SETTINGS_ENV.configurationSet} to one that exists`,
      };
    const destination = inboundEventDestination(set, topicArn);
    if (!destination)
      return {
        status: 'fail',
        saw: `configuration set ${name} has no event destination to ${topicArn}: no delivery event reaches an ask, so an undelivered question is never counted out`,
        fix: `${SETUP_FIX}; it creates the event destination ${EVENT_DESTINATION_NAME}`,
      };
    const problems: string[] = [];
    if (destination.SnsDestination?.TopicArn !== topicArn)
      problems.push(`it publishes to ${destination.SnsDestination?.TopicArn ?? 'no SNS topic'}, not ${topicArn}`);
    if (destination.Enabled !== true) problems.push('it is disabled');
    if (!coversEventTypes(destination.MatchingEventTypes, FAILED_EVENT_TYPES))
      problems.push('it does not publish every failure type (a blocked or expired question is never counted out)');
    if (!coversEventTypes(destination.MatchingEventTypes, DELIVERED_EVENT_TYPES))
      problems.push('it does not publish TEXT_DELIVERED / TEXT_SUCCESSFUL (no ask sees a delivery)');
    if (problems.length > 0)
      return {
        status: 'fail',
        saw: `event destination ${destination.EventDestinationName} of ${name}: ${problems.join('; ')}`,
        fix: SETUP_FIX,
      };
    return {
      status: 'pass',
      saw: `${name}: event destination ${destination.EventDestinationName} is enabled and publishes ${(destination.MatchingEventTypes ?? []).includes('TEXT_ALL') ? 'TEXT_ALL' : 'the delivery and failure events'} to ${topicArn}`,
    };
  },
};

export const eumAccountCheck: Check = {
  name: 'eum-account',
  async run(ctx) {
    const { AccountAttributes = [] } = await ctx.aws.smsVoice.send(new DescribeAccountAttributesCommand({}));
    const tier = AccountAttributes.find((a) => a.Name === 'ACCOUNT_TIER')?.Value;
    if (tier === 'SANDBOX')
      return {
        status: 'warn',
        saw: 'the account is in the End User Messaging SMS sandbox: only verified destination numbers get SMS',
        fix: 'verify the test numbers (End User Messaging SMS → Verified destinations), and request production access (console → Account settings → Request production access)',
      };
    return { status: 'pass', saw: `account tier ${tier ?? 'not reported'}` };
  },
};

export const eumSpendLimitCheck: Check = {
  name: 'eum-spend-limit',
  async run(ctx) {
    const { SpendLimits = [] } = await ctx.aws.smsVoice.send(new DescribeSpendLimitsCommand({}));
    const text = SpendLimits.find((l) => l.Name === 'TEXT_MESSAGE_MONTHLY_SPEND_LIMIT');
    if (text?.EnforcedLimit === undefined)
      return {
        status: 'warn',
        saw: 'End User Messaging reported no text spend limit',
        fix: 'check Spend limits in the End User Messaging SMS console',
      };
    const raise = `request a higher limit through an AWS support case (End User Messaging SMS, spend limit increase), then set it (aws pinpoint-sms-voice-v2 set-text-message-spend-limit-override --monthly-limit <USD>, up to MaxLimit ${text.MaxLimit ?? '?'})`;
    if (text.EnforcedLimit === 0)
      return { status: 'warn', saw: 'the monthly text spend limit is USD 0: no SMS can be sent', fix: raise };
    if (text.EnforcedLimit <= LOW_SPEND_LIMIT_USD)
      return {
        status: 'warn',
        saw: `the monthly text spend limit is USD ${text.EnforcedLimit}: sends stop once it is reached, after about 150 US messages`,
        fix: raise,
      };
    return {
      status: 'pass',
      saw: `monthly text spend limit USD ${text.EnforcedLimit}${text.Overridden ? ' (overridden)' : ''}`,
    };
  },
};

/**
 * Whether events can arrive: the path from the configuration set to the queue. The worker records
 * no time of the last event it routed, so doctor can check the path only, and says so.
 */
export const eumEventsCheck: Check = {
  name: 'eum-events',
  async run(ctx) {
    const topicArn = ctx.topicArn();
    const set = await ctx.configurationSet();
    const destination = inboundEventDestination(set, topicArn);
    const queue = await ctx.queue();
    if (!destination || destination.Enabled !== true || destination.SnsDestination?.TopicArn !== topicArn)
      return { status: 'skip', saw: 'not checked', fix: 'see "eum-configuration-set"' };
    const sns = ctx.aws.snsIn(parseArn(topicArn)?.region ?? (await ctx.region()));
    const { Attributes } = await sns.send(new GetTopicAttributesCommand({ TopicArn: topicArn }));
    if (!topicPolicyAllowsSmsService(parsePolicy(Attributes?.Policy), topicArn))
      return {
        status: 'fail',
        saw: `the policy of ${topicArn} does not allow sms-voice.amazonaws.com to publish: End User Messaging drops every event (and reply)`,
        fix: `${SETUP_FIX}; it adds the statement and keeps your others`,
      };
    if (!(await findQueueSubscription(sns, topicArn, queue.arn)))
      return { status: 'skip', saw: 'not checked', fix: 'see "subscription"' };
    const path = `${configurationSetNameOf(ctx.settings.configurationSet)} → ${topicArn} (its policy lets sms-voice.amazonaws.com publish) → ${queue.arn}`;
    const beats = await pollerHeartbeats(ctx).catch(() => []);
    if (beats.length === 0)
      return {
        status: 'pass',
        saw: `the path is in place: ${path}; no poller runs, so whether events arrive is not known`,
      };
    const events = beats.reduce((sum, beat) => sum + (beat.deliveryEvents ?? 0), 0);
    const last = beats
      .map((beat) => beat.lastDeliveryEventAt ?? '')
      .sort()
      .pop();
    return {
      status: 'pass',
      saw: last
        ? `events arrive: the poller routed ${events} delivery event(s) in its current lease (up to 30 min), the last at ${last}; path ${path}`
        : `the path is in place: ${path}; the poller has routed no delivery event in its current lease (up to 30 min): if SMS went out meanwhile, look at the event destination and the topic's delivery failures in CloudWatch`,
    };
  },
};

/** Run with `smsSender: end-user-messaging`, in place of the SNS account checks. */
export const END_USER_MESSAGING_CHECKS: Check[] = [
  eumOriginationCheck,
  eumTwoWayCheck,
  eumRegistrationCheck,
  eumConfigurationSetCheck,
  eumAccountCheck,
  eumSpendLimitCheck,
  eumEventsCheck,
];
