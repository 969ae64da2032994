/**
 * `setup` for `smsSender: end-user-messaging`: the configuration set, its SNS event destination
 * towards the inbound topic, and two-way SMS on the origination identity. Read first (the state),
 * then a pure plan, then only the plan's changes; `doctor` reads the same state.
 */
import {
  CreateConfigurationSetCommand,
  CreateEventDestinationCommand,
  DescribeConfigurationSetsCommand,
  DescribePhoneNumbersCommand,
  DescribePoolsCommand,
  UpdateEventDestinationCommand,
  UpdatePhoneNumberCommand,
  UpdatePoolCommand,
} from '@aws-sdk/client-pinpoint-sms-voice-v2';
import type {
  ConfigurationSetInformation,
  EventDestination,
  EventType,
  PhoneNumberInformation,
  PinpointSMSVoiceV2Client,
} from '@aws-sdk/client-pinpoint-sms-voice-v2';
import { isNotFound, parseArn } from './resources';
import type { EndUserMessagingTarget } from './resources';

/** The event destination setup writes in the configuration set. */
export const EVENT_DESTINATION_NAME = 'sms-ask-inbound';

/**
 * The SMS event types sms-ask acts on (domain/delivery-event.ts): delivered, and every way a
 * message fails or ends unknown. TEXT_QUEUED, TEXT_PENDING and TEXT_SENT decide nothing, so they
 * are not published: each would be one more message on the inbound queue.
 */
export const DELIVERED_EVENT_TYPES = ['TEXT_DELIVERED', 'TEXT_SUCCESSFUL'] as const satisfies EventType[];
export const FAILED_EVENT_TYPES = [
  'TEXT_BLOCKED',
  'TEXT_CARRIER_BLOCKED',
  'TEXT_CARRIER_UNREACHABLE',
  'TEXT_INVALID',
  'TEXT_INVALID_MESSAGE',
  'TEXT_PROTECT_BLOCKED',
  'TEXT_SPAM',
  'TEXT_TTL_EXPIRED',
  'TEXT_UNKNOWN',
  'TEXT_UNREACHABLE',
] as const satisfies EventType[];
export const WANTED_EVENT_TYPES: EventType[] = [...DELIVERED_EVENT_TYPES, ...FAILED_EVENT_TYPES];

export type IdentityKind = 'pool' | 'phone-number';

/** A pool or phone number, as End User Messaging describes it. */
export interface OriginationIdentity {
  kind: IdentityKind;
  /** PoolId or PhoneNumberId: what UpdatePool / UpdatePhoneNumber take. */
  id: string;
  arn: string;
  /** E.164, for a phone number. */
  phoneNumber?: string;
  status: string;
  twoWayEnabled: boolean;
  twoWayChannelArn?: string;
  twoWayChannelRole?: string;
  /** For a phone number; for a pool, its numbers' (see `numbers`). */
  numberType?: string;
  registrationId?: string;
  isoCountryCode?: string;
  /** For a pool: the account's numbers in it. */
  numbers?: PhoneNumberInformation[];
}

export interface EndUserMessagingState {
  identity: OriginationIdentity;
  configurationSetName: string;
  /** Undefined when there is no such configuration set. */
  configurationSet?: ConfigurationSetInformation;
}

/** The kind of identity a setting names, from its shape; undefined for a sender ID or anything else. */
export function identityKindOf(identity: string): IdentityKind | undefined {
  const resource = parseArn(identity)?.resource ?? identity;
  if (/^pool\/|^pool-/.test(resource)) return 'pool';
  if (/^phone-number\/|^phone-/.test(resource) || /^\+[1-9]\d{6,14}$/.test(identity)) return 'phone-number';
  return undefined;
}

/** The configuration set's name, from a name or ARN (…:configuration-set/NAME). */
export function configurationSetNameOf(nameOrArn: string): string {
  const resource = parseArn(nameOrArn)?.resource;
  return resource?.startsWith('configuration-set/') ? resource.slice('configuration-set/'.length) : nameOrArn;
}

/** Thrown when the origination identity cannot be found or cannot take replies. */
export class OriginationIdentityError extends Error {
  override name = 'OriginationIdentityError';
  constructor(
    message: string,
    readonly identity: string,
  ) {
    super(message);
  }
}

async function allPhoneNumbers(client: PinpointSMSVoiceV2Client): Promise<PhoneNumberInformation[]> {
  const found: PhoneNumberInformation[] = [];
  let NextToken: string | undefined;
  do {
    const page = await client.send(new DescribePhoneNumbersCommand({ NextToken }));
    found.push(...(page.PhoneNumbers ?? []));
    NextToken = page.NextToken;
  } while (NextToken);
  return found;
}

const fromPhone = (n: PhoneNumberInformation): OriginationIdentity => ({
  kind: 'phone-number',
  id: n.PhoneNumberId ?? n.PhoneNumberArn ?? '',
  arn: n.PhoneNumberArn ?? '',
  phoneNumber: n.PhoneNumber,
  status: n.Status ?? 'UNKNOWN',
  twoWayEnabled: n.TwoWayEnabled === true,
  twoWayChannelArn: n.TwoWayChannelArn,
  twoWayChannelRole: n.TwoWayChannelRole,
  numberType: n.NumberType,
  registrationId: n.RegistrationId,
  isoCountryCode: n.IsoCountryCode,
});

/**
 * Describes the pool or phone number. An E.164 number is found among the account's numbers (the
 * API takes only IDs and ARNs); a pool comes with its numbers, for their registration.
 */
export async function findOriginationIdentity(
  client: PinpointSMSVoiceV2Client,
  identity: string,
  region: string,
): Promise<OriginationIdentity> {
  const kind = identityKindOf(identity);
  const missing = () =>
    new OriginationIdentityError(
      `${identity} is not a ${kind ?? 'pool or phone number'} of this account in ${region}: request one in AWS End User Messaging SMS (Phone numbers), or set SMS_ASK_ORIGINATION_IDENTITY to one you have`,
      identity,
    );
  if (kind === undefined)
    throw new OriginationIdentityError(
      `${identity} is neither a pool nor a phone number (a sender ID cannot be replied to): set SMS_ASK_ORIGINATION_IDENTITY to a two-way pool or phone number (pool-…, phone-…, an ARN or +E.164)`,
      identity,
    );
  try {
    if (kind === 'phone-number') {
      const found = identity.startsWith('+')
        ? (await allPhoneNumbers(client)).find((n) => n.PhoneNumber === identity)
        : (await client.send(new DescribePhoneNumbersCommand({ PhoneNumberIds: [identity] }))).PhoneNumbers?.[0];
      if (!found) throw missing();
      return fromPhone(found);
    }
    const pool = (await client.send(new DescribePoolsCommand({ PoolIds: [identity] }))).Pools?.[0];
    if (!pool) throw missing();
    const numbers = (await allPhoneNumbers(client)).filter((n) => n.PoolId === pool.PoolId);
    return {
      kind: 'pool',
      id: pool.PoolId ?? identity,
      arn: pool.PoolArn ?? '',
      status: pool.Status ?? 'UNKNOWN',
      twoWayEnabled: pool.TwoWayEnabled === true,
      twoWayChannelArn: pool.TwoWayChannelArn,
      twoWayChannelRole: pool.TwoWayChannelRole,
      numbers,
    };
  } catch (err) {
    if (isNotFound(err)) throw missing();
    throw err;
  }
}

/** The configuration set, or undefined when there is none of that name. */
export async function findConfigurationSet(
  client: PinpointSMSVoiceV2Client,
  name: string,
): Promise<ConfigurationSetInformation | undefined> {
  try {
    return (await client.send(new DescribeConfigurationSetsCommand({ ConfigurationSetNames: [name] })))
      .ConfigurationSets?.[0];
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

export async function describeEndUserMessaging(
  client: PinpointSMSVoiceV2Client,
  target: EndUserMessagingTarget,
  region: string,
): Promise<EndUserMessagingState> {
  const configurationSetName = configurationSetNameOf(target.configurationSet);
  const [identity, configurationSet] = await Promise.all([
    findOriginationIdentity(client, target.originationIdentity, region),
    findConfigurationSet(client, configurationSetName),
  ]);
  return { identity, configurationSetName, configurationSet };
}

/** Whether the destination's types include every wanted one (TEXT_ALL does). */
export const coversEventTypes = (types: readonly string[] | undefined, wanted: readonly string[]) =>
  (types ?? []).includes('TEXT_ALL') || wanted.every((t) => (types ?? []).includes(t));

/** The configuration set's enabled SNS destination to the topic, if any (by name first, then any). */
export function inboundEventDestination(
  set: ConfigurationSetInformation | undefined,
  topicArn: string,
): EventDestination | undefined {
  const destinations = set?.EventDestinations ?? [];
  return (
    destinations.find((d) => d.EventDestinationName === EVENT_DESTINATION_NAME) ??
    destinations.find((d) => d.SnsDestination?.TopicArn === topicArn)
  );
}

export type EumStepResource = 'configuration-set' | 'event-destination' | 'two-way';

export interface EumStep {
  resource: EumStepResource;
  action: 'create' | 'update' | 'none';
  target: string;
  changes: string[];
}

export interface EndUserMessagingPlan {
  steps: EumStep[];
  configurationSetName: string;
  configurationSetArn: string;
  identity: OriginationIdentity;
  /** What UpdateEventDestination / CreateEventDestination send. */
  matchingEventTypes: EventType[];
  topicArn: string;
  twoWayChannelRoleArn?: string;
}

/** Pure: the steps that make the state match. `configurationSetArn` is the ARN a new set would get. */
export function planEndUserMessaging(
  state: EndUserMessagingState,
  target: EndUserMessagingTarget,
  topicArn: string,
  configurationSetArn: string,
): EndUserMessagingPlan {
  const steps: EumStep[] = [];
  const { configurationSet: set, configurationSetName: name, identity } = state;
  const setArn = set?.ConfigurationSetArn ?? configurationSetArn;
  steps.push(
    set
      ? { resource: 'configuration-set', action: 'none', target: setArn, changes: ['exists'] }
      : {
          resource: 'configuration-set',
          action: 'create',
          target: setArn,
          changes: [`create the configuration set ${name}`],
        },
  );

  const current = set?.EventDestinations?.find((d) => d.EventDestinationName === EVENT_DESTINATION_NAME);
  const destinationTarget = `${setArn} event destination ${EVENT_DESTINATION_NAME}`;
  let matchingEventTypes = WANTED_EVENT_TYPES;
  if (!current) {
    steps.push({
      resource: 'event-destination',
      action: 'create',
      target: destinationTarget,
      changes: [`publish ${WANTED_EVENT_TYPES.join(', ')} to ${topicArn}`],
    });
  } else {
    const changes: string[] = [];
    if (current.SnsDestination?.TopicArn !== topicArn)
      changes.push(`SnsDestination ${current.SnsDestination?.TopicArn ?? '(none)'} → ${topicArn}`);
    if (current.Enabled !== true) changes.push('Enabled false → true');
    if (coversEventTypes(current.MatchingEventTypes, WANTED_EVENT_TYPES))
      matchingEventTypes = current.MatchingEventTypes ?? WANTED_EVENT_TYPES;
    else {
      const lacking = WANTED_EVENT_TYPES.filter((t) => !(current.MatchingEventTypes ?? []).includes(t));
      changes.push(`MatchingEventTypes: add ${lacking.join(', ')}`);
      matchingEventTypes = [...new Set([...(current.MatchingEventTypes ?? []), ...WANTED_EVENT_TYPES])];
    }
    steps.push(
      changes.length > 0
        ? { resource: 'event-destination', action: 'update', target: destinationTarget, changes }
        : {
            resource: 'event-destination',
            action: 'none',
            target: destinationTarget,
            changes: ['enabled, publishing the delivery and failure events to the inbound topic'],
          },
    );
  }

  const twoWay: string[] = [];
  if (!identity.twoWayEnabled) twoWay.push('TwoWayEnabled false → true');
  if (identity.twoWayChannelArn !== topicArn)
    twoWay.push(`TwoWayChannelArn ${identity.twoWayChannelArn ?? '(none)'} → ${topicArn}`);
  if (target.twoWayChannelRoleArn && identity.twoWayChannelRole !== target.twoWayChannelRoleArn)
    twoWay.push(`TwoWayChannelRole ${identity.twoWayChannelRole ?? '(none)'} → ${target.twoWayChannelRoleArn}`);
  const identityTarget = `${identity.kind} ${identity.arn || identity.id}`;
  steps.push(
    twoWay.length > 0
      ? { resource: 'two-way', action: 'update', target: identityTarget, changes: twoWay }
      : { resource: 'two-way', action: 'none', target: identityTarget, changes: ['replies go to the inbound topic'] },
  );
  return {
    steps,
    configurationSetName: name,
    configurationSetArn: setArn,
    identity,
    matchingEventTypes,
    topicArn,
    ...(target.twoWayChannelRoleArn && { twoWayChannelRoleArn: target.twoWayChannelRoleArn }),
  };
}

/** Makes the plan's changes: the set, then its destination, then two-way. Returns the set's ARN. */
export async function applyEndUserMessaging(
  client: PinpointSMSVoiceV2Client,
  plan: EndUserMessagingPlan,
): Promise<string> {
  const action = (resource: EumStepResource) => plan.steps.find((s) => s.resource === resource)?.action ?? 'none';
  let configurationSetArn = plan.configurationSetArn;
  if (action('configuration-set') === 'create') {
    const out = await client.send(
      new CreateConfigurationSetCommand({ ConfigurationSetName: plan.configurationSetName }),
    );
    configurationSetArn = out.ConfigurationSetArn ?? configurationSetArn;
  }
  const destination = {
    ConfigurationSetName: plan.configurationSetName,
    EventDestinationName: EVENT_DESTINATION_NAME,
    MatchingEventTypes: plan.matchingEventTypes,
    SnsDestination: { TopicArn: plan.topicArn },
  };
  if (action('event-destination') === 'create') await client.send(new CreateEventDestinationCommand(destination));
  else if (action('event-destination') === 'update')
    await client.send(new UpdateEventDestinationCommand({ ...destination, Enabled: true }));
  if (action('two-way') === 'update') {
    const twoWay = {
      TwoWayEnabled: true,
      TwoWayChannelArn: plan.topicArn,
      ...(plan.twoWayChannelRoleArn && { TwoWayChannelRole: plan.twoWayChannelRoleArn }),
    };
    if (plan.identity.kind === 'pool')
      await client.send(new UpdatePoolCommand({ PoolId: plan.identity.id, ...twoWay }));
    else await client.send(new UpdatePhoneNumberCommand({ PhoneNumberId: plan.identity.id, ...twoWay }));
  }
  return configurationSetArn;
}
