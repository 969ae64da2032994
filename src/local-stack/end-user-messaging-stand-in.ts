// A loopback stand-in for AWS End User Messaging SMS (API pinpoint-sms-voice-v2), which moto does
// not have. It speaks the service's real wire protocol (awsJson1_0: POST /, Content-Type
// application/x-amz-json-1.0, X-Amz-Target PinpointSMSVoiceV2.<Operation>, errors as JSON with
// __type and message and the error's own members, at the HTTP status the Smithy model gives them),
// so the SDK's own PinpointSMSVoiceV2Client talks to it unchanged through its `endpoint` option.
//
// It implements only what sms-ask uses: SendTextMessage; configuration sets and their SNS event
// destinations; describing and updating phone numbers and pools (two-way settings); the account
// tier and the text spend limit. An accepted send is followed, eventDelayMs apart, by the delivery
// events that AWS would stream: each is the documented SMS event JSON, published with SNS Publish
// to the event destination's topic on moto, so an SNS → SQS subscription sees it as AWS delivers it.
//
// Shapes, enums and error names follow the SDK's model (@aws-sdk/client-pinpoint-sms-voice-v2);
// semantics follow AWS's pages:
//   https://docs.aws.amazon.com/pinpoint/latest/apireference_smsvoicev2/API_SendTextMessage.html
//   https://docs.aws.amazon.com/sms-voice/latest/userguide/configuration-sets-event-format.html
//   https://docs.aws.amazon.com/sms-voice/latest/userguide/configuration-sets-event-types.html
//
// SigV4 signatures are NOT verified: a request needs an Authorization header shaped like SigV4
// (as every SDK sends), and one without it gets the error AWS gives for a missing signature.
// State lives in memory; nothing is persisted.
import { createHash, randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { EventType } from '@aws-sdk/client-pinpoint-sms-voice-v2';
import type { SendTextMessageRequest } from '@aws-sdk/client-pinpoint-sms-voice-v2';
import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import { parsePhoneNumberFromString } from 'libphonenumber-js';

/** The SMS event types a message can go through (every TEXT_ type but the TEXT_ALL selector). */
export type TextEventType = Exclude<Extract<EventType, `TEXT_${string}`>, 'TEXT_ALL'>;

export interface SeededPhoneNumber {
  /** E.164. */
  phoneNumber: string;
  /** Default false. */
  twoWayEnabled?: boolean;
  /** Default none (required before two-way can be turned on with UpdatePhoneNumber). */
  twoWayChannelArn?: string;
  /** Default 'ACTIVE'; a number that is not ACTIVE cannot send. */
  status?: 'ACTIVE' | 'PENDING' | 'ASSOCIATING' | 'DISASSOCIATING' | 'DELETED';
  /** Default 'TRANSACTIONAL'. */
  messageType?: 'TRANSACTIONAL' | 'PROMOTIONAL';
  /** Default 'TOLL_FREE'. */
  numberType?: 'LONG_CODE' | 'SHORT_CODE' | 'SIMULATOR' | 'TEN_DLC' | 'TOLL_FREE';
  /** The registration the number belongs to, shown as RegistrationId. Default none. */
  registrationId?: string;
}

export interface SeededPool {
  /** Default a random pool-… id. */
  poolId?: string;
  /** Seeded phone numbers (E.164 or phone-… id) in the pool; the first one sends. */
  phoneNumbers: string[];
  /** Default false. */
  twoWayEnabled?: boolean;
  /** Default none. */
  twoWayChannelArn?: string;
}

export interface StandInOptions {
  /** An SNS client pointed at moto: delivery events are published to the event destinations' topics there. */
  sns: SNSClient;
  /** For ARNs. */
  region: string;
  /** For ARNs. Default '123456789012', moto's account. */
  accountId?: string;
  /** Default 0: a free loopback port. */
  port?: number;
  /** The account's origination numbers. Default none. */
  phoneNumbers?: SeededPhoneNumber[];
  /** The account's pools of those numbers. Default none. */
  pools?: SeededPool[];
  /** DescribeAccountAttributes' ACCOUNT_TIER. Default 'PRODUCTION' (the sandbox's verified-destination rule is not enforced). */
  accountTier?: 'SANDBOX' | 'PRODUCTION';
  /** DescribeSpendLimits' TEXT_MESSAGE_MONTHLY_SPEND_LIMIT in USD, enforced on SendTextMessage. Default 1000. */
  monthlySpendLimit?: number;
  /** Between a send and its first event, and between its events. Default 50 ms. */
  eventDelayMs?: number;
  /** USD per message part: totalMessagePrice = parts × this. Default 0.00581. */
  pricePerPart?: number;
  /** Where publish failures are reported. Default: console.error (stderr). */
  log?: (line: string) => void;
}

/** An accepted (not DryRun) SendTextMessage. */
export interface SentTextMessage {
  messageId: string;
  /** The request as received. */
  input: SendTextMessageRequest;
  /** E.164, as the request gave it. */
  destinationPhoneNumber: string;
  /** When it was accepted, Unix ms (the events' messageRequestTimestamp). */
  timestamp: number;
  /** The number it went out from (the origination identity, or the pool's first number). */
  originationPhoneNumber: string;
  /** The configuration set's name, if the send named one. */
  configurationSetName?: string;
  messageType: 'TRANSACTIONAL' | 'PROMOTIONAL';
  encoding: 'GSM' | 'UCS2';
  parts: number;
  /** USD, parts × pricePerPart. */
  price: number;
}

/** AWS's SMS event JSON, as published to an event destination. */
export interface DeliveryEventJson {
  eventType: TextEventType;
  eventVersion: '1.0';
  eventTimestamp: number;
  isFinal: boolean;
  originationPhoneNumber: string;
  destinationPhoneNumber: string;
  isoCountryCode?: string;
  isInternationalSend: boolean;
  mcc?: string;
  mnc?: string;
  messageId: string;
  messageRequestTimestamp: number;
  messageEncoding: 'GSM' | 'UCS2';
  messageType: 'TRANSACTIONAL' | 'PROMOTIONAL';
  messageStatus: string;
  messageStatusDescription: string;
  context?: Record<string, string>;
  totalMessageParts: number;
  totalMessagePrice: number;
  totalCarrierFee: number;
}

export interface EndUserMessagingStandIn {
  /** http://127.0.0.1:PORT */
  endpoint: string;
  /**
   * What each destination's next messages go through: event types, in order. Default
   * ['TEXT_SUCCESSFUL', 'TEXT_DELIVERED']; e.g. ['TEXT_BLOCKED'], ['TEXT_TTL_EXPIRED'], or [] (no events).
   */
  setOutcome(destination: string, events: TextEventType[]): void;
  /** Every accepted SendTextMessage, in order. */
  sent(): SentTextMessage[];
  /** The first sent message that matches, waiting for it up to timeoutMs (default 10 s). */
  waitForSent(predicate: (message: SentTextMessage) => boolean, timeoutMs?: number): Promise<SentTextMessage>;
  /**
   * Builds the event of that type for a sent message, and publishes it unless `publish: false`
   * (for tests of duplicate or reordered events). isFinal defaults to false for the intermediate
   * types (QUEUED, PENDING, SENT, SUCCESSFUL) and true for the others.
   */
  eventFor(
    messageId: string,
    type: TextEventType,
    options?: { publish?: boolean; isFinal?: boolean },
  ): DeliveryEventJson;
  /** Publishes an event (JSON or its text) to every enabled event destination that matches its message and type. */
  publishEvent(event: object | string): Promise<void>;
  /** Stops the server and the events still pending; idempotent. */
  stop(): Promise<void>;
}

/** The pause before each delivery event, by default: a carrier's receipt is never instant. */
export const DEFAULT_EVENT_DELAY_MS = 50;

const TARGET_PREFIX = 'PinpointSMSVoiceV2.';
const CONTENT_TYPE = 'application/x-amz-json-1.0';
const MAX_BODY_BYTES = 256 * 1024;
const DEFAULT_OUTCOME: readonly TextEventType[] = ['TEXT_SUCCESSFUL', 'TEXT_DELIVERED'];
const MAX_EVENT_DESTINATIONS = 5;

const TEXT_EVENT_DESCRIPTIONS: Record<TextEventType, string> = {
  TEXT_QUEUED: 'Message is queued for delivery',
  TEXT_PENDING: 'Message is in the process of being delivered',
  TEXT_SENT: 'Message has been sent to the carrier',
  TEXT_SUCCESSFUL: 'Message has been accepted by phone carrier',
  TEXT_DELIVERED: 'Message has been accepted by phone',
  TEXT_BLOCKED: "The recipient's device or carrier blocked the message",
  TEXT_TTL_EXPIRED: 'The message could not be delivered within its time to live',
  TEXT_CARRIER_UNREACHABLE: "A temporary error occurred on the recipient's carrier network",
  TEXT_INVALID: 'The destination phone number is not valid',
  TEXT_INVALID_MESSAGE: 'The message body is not valid and cannot be delivered',
  TEXT_CARRIER_BLOCKED: "The recipient's carrier blocked the message",
  TEXT_UNREACHABLE: "The recipient's device is unavailable",
  TEXT_SPAM: "The recipient's carrier identified the message as unsolicited commercial content",
  TEXT_UNKNOWN: 'The message could not be delivered for an unknown reason',
  TEXT_PROTECT_BLOCKED: 'A protect configuration blocked the message',
};
const INTERMEDIATE_EVENTS: ReadonlySet<TextEventType> = new Set([
  'TEXT_QUEUED',
  'TEXT_PENDING',
  'TEXT_SENT',
  'TEXT_SUCCESSFUL',
]);
const EVENT_TYPES: ReadonlySet<string> = new Set(Object.values(EventType));

// The model's constraints (pinpoint-sms-voice-v2 shapes of the same names).
const PHONE_NUMBER = /^\+?[1-9][0-9]{1,18}$/;
const TEXT_ORIGINATION_IDENTITY = /^[A-Za-z0-9_:/+-]+$/;
const RESOURCE_ID_OR_ARN = /^[A-Za-z0-9_:/-]+$/;
const CONFIGURATION_SET_NAME = /^[A-Za-z0-9_-]+$/;
const MAX_PRICE = /^[0-9]{0,2}\.[0-9]{1,5}$/;
const CONTEXT_KEY = /^\S+$/;
const CONTEXT_VALUE = /^(?!\s)[\s\S]+(?<!\s)$/;
const ARN = /^arn:\S+$/;

// GSM 03.38: the basic set (one septet each) and the extension table (two septets each).
const GSM_BASIC = new Set(
  '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà',
);
const GSM_EXTENSION = new Set('\f^{}\\[~]|€');

/** The encoding and number of parts AWS bills a message body as. */
export function smsParts(body: string): { encoding: 'GSM' | 'UCS2'; parts: number } {
  let septets = 0;
  for (const ch of body) {
    if (GSM_BASIC.has(ch)) septets += 1;
    else if (GSM_EXTENSION.has(ch)) septets += 2;
    else {
      const units = body.length; // UTF-16 code units
      return { encoding: 'UCS2', parts: units <= 70 ? 1 : Math.ceil(units / 67) };
    }
  }
  return { encoding: 'GSM', parts: septets <= 160 ? 1 : Math.ceil(septets / 153) };
}

type Json = Record<string, unknown>;

/** A service error, serialized as awsJson1_0 does. */
class ApiError extends Error {
  constructor(
    readonly type: string,
    readonly status: number,
    message: string,
    readonly members: Json = {},
  ) {
    super(message);
  }
}

const validationError = (message: string, reason = 'FIELD_VALIDATION_FAILED', field?: string) =>
  new ApiError('ValidationException', 400, message, {
    Reason: reason,
    ...(field && { Fields: [{ Name: field, Message: message }] }),
  });
const notFound = (resourceType: string, resourceId: string) =>
  new ApiError('ResourceNotFoundException', 400, `Resource ${resourceId} of type ${resourceType} was not found`, {
    ResourceType: resourceType,
    ResourceId: resourceId,
  });
const conflict = (reason: string, resourceType: string, resourceId: string, message: string) =>
  new ApiError('ConflictException', 400, message, {
    Reason: reason,
    ResourceType: resourceType,
    ResourceId: resourceId,
  });
const serializationError = (message: string) => new ApiError('SerializationException', 400, message);
const notInStandIn = (what: string) =>
  validationError(`${what} is not in the End User Messaging stand-in`, 'UNSPECIFIED_PARAMETER_NOT_SUPPORTED');

/** Coral's wording for one failed constraint, naming the member in lower camel case as AWS does. */
function constraint(name: string, value: unknown, rule: string): ApiError {
  const member = name[0]!.toLowerCase() + name.slice(1);
  const shown = typeof value === 'string' || typeof value === 'number' ? `'${value}'` : 'null';
  return validationError(
    `1 validation error detected: Value ${shown} at '${member}' failed to satisfy constraint: Member must ${rule}`,
    value === undefined ? 'MISSING_PARAMETER' : 'FIELD_VALIDATION_FAILED',
    name,
  );
}

interface StringRule {
  required?: boolean;
  min?: number;
  max?: number;
  pattern?: RegExp;
}

function readString(input: Json, name: string, rule: StringRule = {}): string | undefined {
  const value = input[name];
  if (value === undefined || value === null) {
    if (rule.required) throw constraint(name, undefined, 'not be null');
    return undefined;
  }
  if (typeof value !== 'string') throw serializationError(`${name}: expected a string`);
  const length = Array.from(value).length;
  if (rule.min !== undefined && length < rule.min)
    throw constraint(name, value, `have length greater than or equal to ${rule.min}`);
  if (rule.max !== undefined && length > rule.max)
    throw constraint(name, value, `have length less than or equal to ${rule.max}`);
  if (rule.pattern && !rule.pattern.test(value))
    throw constraint(name, value, `satisfy regular expression pattern: ${rule.pattern.source}`);
  return value;
}

function readInteger(input: Json, name: string, min: number, max: number): number | undefined {
  const value = input[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value)) throw serializationError(`${name}: expected an integer`);
  if (value < min) throw constraint(name, value, `have value greater than or equal to ${min}`);
  if (value > max) throw constraint(name, value, `have value less than or equal to ${max}`);
  return value;
}

function readBoolean(input: Json, name: string): boolean | undefined {
  const value = input[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'boolean') throw serializationError(`${name}: expected a boolean`);
  return value;
}

function readStringList(input: Json, name: string, max: number, item: StringRule): string[] | undefined {
  const value = input[name];
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value)) throw serializationError(`${name}: expected a list`);
  if (value.length > max) throw constraint(name, value.length, `have length less than or equal to ${max}`);
  return value.map((v, i) => readString({ [`${name}.${i + 1}`]: v }, `${name}.${i + 1}`, { ...item, required: true })!);
}

function readObject(input: Json, name: string): Json | undefined {
  const value = input[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'object' || Array.isArray(value)) throw serializationError(`${name}: expected a structure`);
  return value as Json;
}

function readEventTypes(input: Json, name: string, required: boolean): EventType[] | undefined {
  const value = input[name];
  if ((value === undefined || value === null) && !required) return undefined;
  if (!Array.isArray(value) || value.length === 0)
    throw constraint(name, undefined, 'have length greater than or equal to 1');
  for (const type of value) {
    if (typeof type !== 'string' || !EVENT_TYPES.has(type))
      throw constraint(name, String(type), `satisfy enum value set: [${[...EVENT_TYPES].join(', ')}]`);
  }
  return value as EventType[];
}

const noExtraDestinations = (input: Json) => {
  if (input.CloudWatchLogsDestination !== undefined) throw notInStandIn('CloudWatchLogsDestination');
  if (input.KinesisFirehoseDestination !== undefined) throw notInStandIn('KinesisFirehoseDestination');
};

interface PhoneNumberRecord {
  PhoneNumberArn: string;
  PhoneNumberId: string;
  PhoneNumber: string;
  Status: string;
  IsoCountryCode: string;
  MessageType: 'TRANSACTIONAL' | 'PROMOTIONAL';
  NumberCapabilities: string[];
  NumberType: string;
  MonthlyLeasingPrice: string;
  TwoWayEnabled: boolean;
  TwoWayChannelArn?: string;
  TwoWayChannelRole?: string;
  SelfManagedOptOutsEnabled: boolean;
  OptOutListName: string;
  InternationalSendingEnabled: boolean;
  DeletionProtectionEnabled: boolean;
  PoolId?: string;
  RegistrationId?: string;
  CreatedTimestamp: number;
}

interface PoolRecord {
  PoolArn: string;
  PoolId: string;
  Status: string;
  MessageType: 'TRANSACTIONAL' | 'PROMOTIONAL';
  TwoWayEnabled: boolean;
  TwoWayChannelArn?: string;
  TwoWayChannelRole?: string;
  SelfManagedOptOutsEnabled: boolean;
  OptOutListName: string;
  SharedRoutesEnabled: boolean;
  DeletionProtectionEnabled: boolean;
  CreatedTimestamp: number;
  phoneNumberIds: string[];
}

interface EventDestinationRecord {
  EventDestinationName: string;
  Enabled: boolean;
  MatchingEventTypes: EventType[];
  SnsDestination: { TopicArn: string };
}

interface ConfigurationSetRecord {
  ConfigurationSetArn: string;
  ConfigurationSetName: string;
  EventDestinations: EventDestinationRecord[];
  CreatedTimestamp: number;
}

const nowSeconds = () => Date.now() / 1000;
const hexId = (seed: string) => createHash('sha256').update(seed).digest('hex').slice(0, 32);
const countryOf = (phone: string) => {
  const parsed = parsePhoneNumberFromString(phone);
  return {
    iso: parsed?.country ?? (parsed?.countryCallingCode === '1' ? 'US' : undefined),
    code: parsed?.countryCallingCode,
  };
};
const poolView = ({ phoneNumberIds: _ids, ...pool }: PoolRecord) => pool;
const matches = (destination: EventDestinationRecord, type: string) =>
  destination.Enabled &&
  destination.MatchingEventTypes.some(
    (t) => t === type || t === 'ALL' || (t === 'TEXT_ALL' && type.startsWith('TEXT_')),
  );

/** Starts the stand-in on 127.0.0.1. */
export async function startEndUserMessagingStandIn(options: StandInOptions): Promise<EndUserMessagingStandIn> {
  const { sns, region } = options;
  const accountId = options.accountId ?? '123456789012';
  const eventDelayMs = options.eventDelayMs ?? DEFAULT_EVENT_DELAY_MS;
  const pricePerPart = options.pricePerPart ?? 0.00581;
  const monthlySpendLimit = options.monthlySpendLimit ?? 1000;
  const accountTier = options.accountTier ?? 'PRODUCTION';
  const log = options.log ?? ((line: string) => console.error(line));
  const arn = (resource: string) => `arn:aws:sms-voice:${region}:${accountId}:${resource}`;

  const phoneNumbers = new Map<string, PhoneNumberRecord>();
  for (const seed of options.phoneNumbers ?? []) {
    if (!/^\+[1-9]\d{1,18}$/.test(seed.phoneNumber))
      throw new Error(`seeded phone number ${seed.phoneNumber} is not E.164`);
    const id = `phone-${hexId(seed.phoneNumber)}`;
    phoneNumbers.set(id, {
      PhoneNumberArn: arn(`phone-number/${id}`),
      PhoneNumberId: id,
      PhoneNumber: seed.phoneNumber,
      Status: seed.status ?? 'ACTIVE',
      IsoCountryCode: countryOf(seed.phoneNumber).iso ?? 'US',
      MessageType: seed.messageType ?? 'TRANSACTIONAL',
      NumberCapabilities: ['SMS'],
      NumberType: seed.numberType ?? 'TOLL_FREE',
      MonthlyLeasingPrice: '2.00',
      TwoWayEnabled: seed.twoWayEnabled ?? false,
      ...(seed.twoWayChannelArn && { TwoWayChannelArn: seed.twoWayChannelArn }),
      SelfManagedOptOutsEnabled: false,
      OptOutListName: 'Default',
      InternationalSendingEnabled: false,
      DeletionProtectionEnabled: false,
      ...(seed.registrationId && { RegistrationId: seed.registrationId }),
      CreatedTimestamp: nowSeconds(),
    });
  }
  const findPhone = (idOrArnOrNumber: string) =>
    [...phoneNumbers.values()].find(
      (p) =>
        p.PhoneNumberId === idOrArnOrNumber ||
        p.PhoneNumberArn === idOrArnOrNumber ||
        p.PhoneNumber === idOrArnOrNumber,
    );

  const pools = new Map<string, PoolRecord>();
  for (const seed of options.pools ?? []) {
    const poolId = seed.poolId ?? `pool-${randomUUID().replace(/-/g, '')}`;
    const members = seed.phoneNumbers.map((n) => {
      const phone = findPhone(n);
      if (!phone) throw new Error(`pool ${poolId}: ${n} is not one of the seeded phone numbers`);
      phone.PoolId = poolId;
      return phone;
    });
    pools.set(poolId, {
      PoolArn: arn(`pool/${poolId}`),
      PoolId: poolId,
      Status: 'ACTIVE',
      MessageType: members[0]?.MessageType ?? 'TRANSACTIONAL',
      TwoWayEnabled: seed.twoWayEnabled ?? false,
      ...(seed.twoWayChannelArn && { TwoWayChannelArn: seed.twoWayChannelArn }),
      SelfManagedOptOutsEnabled: false,
      OptOutListName: 'Default',
      SharedRoutesEnabled: false,
      DeletionProtectionEnabled: false,
      CreatedTimestamp: nowSeconds(),
      phoneNumberIds: members.map((m) => m.PhoneNumberId),
    });
  }
  const findPool = (idOrArn: string) => [...pools.values()].find((p) => p.PoolId === idOrArn || p.PoolArn === idOrArn);

  const configurationSets = new Map<string, ConfigurationSetRecord>();
  const findConfigurationSet = (nameOrArn: string) => {
    const set =
      configurationSets.get(nameOrArn) ??
      [...configurationSets.values()].find((c) => c.ConfigurationSetArn === nameOrArn);
    if (!set) throw notFound('configuration-set', nameOrArn);
    return set;
  };
  const findEventDestination = (set: ConfigurationSetRecord, name: string) => {
    const destination = set.EventDestinations.find((d) => d.EventDestinationName === name);
    if (!destination) throw notFound('event-destination', name);
    return destination;
  };

  /** The destination that an update or delete names, by its configuration set and its own name. */
  const namedEventDestination = (input: Record<string, unknown>) => {
    const set = findConfigurationSet(
      readString(input, 'ConfigurationSetName', { required: true, min: 1, max: 256, pattern: RESOURCE_ID_OR_ARN })!,
    );
    const name = readString(input, 'EventDestinationName', {
      required: true,
      min: 1,
      max: 64,
      pattern: CONFIGURATION_SET_NAME,
    })!;
    return { set, destination: findEventDestination(set, name) };
  };

  /** Like moto's SNS: every number ending in 99 is on the opt-out list. */
  const isOptedOut = (phone: string) => phone.endsWith('99');

  const outcomes = new Map<string, TextEventType[]>();
  const sentMessages: SentTextMessage[] = [];
  const sentListeners = new Set<(message: SentTextMessage) => void>();
  let spent = 0;
  const timers = new Set<NodeJS.Timeout>();
  const inFlight = new Set<Promise<void>>();
  let stopped = false;

  const track = (publish: Promise<void>) => {
    inFlight.add(publish);
    void publish.finally(() => inFlight.delete(publish));
  };

  async function publishTo(topicArn: string, message: string) {
    try {
      await sns.send(new PublishCommand({ TopicArn: topicArn, Message: message }));
    } catch (err) {
      log(`End User Messaging stand-in: publishing an event to ${topicArn} failed: ${(err as Error).message}`);
    }
  }

  function buildEvent(message: SentTextMessage, type: TextEventType, isFinal: boolean): DeliveryEventJson {
    const destination = message.destinationPhoneNumber;
    const to = countryOf(destination);
    const from = countryOf(message.originationPhoneNumber);
    return {
      eventType: type,
      eventVersion: '1.0',
      eventTimestamp: Date.now(),
      isFinal,
      originationPhoneNumber: message.originationPhoneNumber,
      destinationPhoneNumber: destination,
      ...(to.iso && { isoCountryCode: to.iso }),
      isInternationalSend: to.code !== from.code,
      // Optional in AWS's events; a US carrier's codes here, as in AWS's example.
      ...(to.iso === 'US' && { mcc: '310', mnc: '800' }),
      messageId: message.messageId,
      messageRequestTimestamp: message.timestamp,
      messageEncoding: message.encoding,
      messageType: message.messageType,
      messageStatus: type.slice('TEXT_'.length),
      messageStatusDescription: TEXT_EVENT_DESCRIPTIONS[type],
      ...(message.input.Context && { context: message.input.Context }),
      totalMessageParts: message.parts,
      totalMessagePrice: message.price,
      totalCarrierFee: 0,
    };
  }

  function destinationsFor(messageId: unknown, type: string): EventDestinationRecord[] {
    const message = sentMessages.find((m) => m.messageId === messageId);
    const sets = message
      ? message.configurationSetName
        ? [configurationSets.get(message.configurationSetName)].filter((s) => s !== undefined)
        : []
      : [...configurationSets.values()];
    return sets.flatMap((s) => s.EventDestinations.filter((d) => matches(d, type)));
  }

  async function publishEvent(event: object | string): Promise<void> {
    const text = typeof event === 'string' ? event : JSON.stringify(event);
    let parsed: Json = {};
    try {
      parsed = JSON.parse(text) as Json;
    } catch {
      // not JSON: goes to every destination that takes all events
    }
    const type = typeof parsed.eventType === 'string' ? parsed.eventType : 'ALL';
    await Promise.all(destinationsFor(parsed.messageId, type).map((d) => publishTo(d.SnsDestination.TopicArn, text)));
  }

  /** Each event eventDelayMs after the previous one was published, so that they reach the topic in order. */
  function scheduleEvents(message: SentTextMessage, events: readonly TextEventType[], i = 0) {
    const type = events[i];
    if (type === undefined) return;
    const timer = setTimeout(() => {
      timers.delete(timer);
      if (stopped) return;
      const isFinal = !(INTERMEDIATE_EVENTS.has(type) && i < events.length - 1);
      track(publishEvent(buildEvent(message, type, isFinal)).then(() => scheduleEvents(message, events, i + 1)));
    }, eventDelayMs);
    timers.add(timer);
  }

  function resolveOrigination(identity: string | undefined): string {
    if (identity === undefined) {
      const first = [...phoneNumbers.values()].find((p) => p.Status === 'ACTIVE');
      if (!first)
        throw new ApiError('ConflictException', 400, 'No origination identities were found to send from', {
          Reason: 'NO_ORIGINATION_IDENTITIES_FOUND',
          ResourceType: 'phone-number',
        });
      return first.PhoneNumber;
    }
    const pool = findPool(identity);
    const phone = pool ? phoneNumbers.get(pool.phoneNumberIds[0] ?? '') : findPhone(identity);
    if (!phone)
      throw notFound(
        pool || identity.startsWith('pool-') || identity.includes(':pool/') ? 'pool' : 'phone-number',
        identity,
      );
    if (phone.Status !== 'ACTIVE')
      throw conflict(
        'RESOURCE_NOT_ACTIVE',
        'phone-number',
        phone.PhoneNumberId,
        `${phone.PhoneNumber} is ${phone.Status}, not ACTIVE`,
      );
    return phone.PhoneNumber;
  }

  const operations: Record<string, (input: Json) => Json> = {
    SendTextMessage(input) {
      const destination = readString(input, 'DestinationPhoneNumber', {
        required: true,
        min: 1,
        max: 20,
        pattern: PHONE_NUMBER,
      })!;
      const identity = readString(input, 'OriginationIdentity', {
        min: 1,
        max: 256,
        pattern: TEXT_ORIGINATION_IDENTITY,
      });
      // Optional in the model (a template can supply it); sms-ask always sends one, so the stand-in requires it.
      const body = readString(input, 'MessageBody', { required: true, min: 1, max: 1600 })!;
      const messageType = readString(input, 'MessageType', { pattern: /^(TRANSACTIONAL|PROMOTIONAL)$/ }) as
        'TRANSACTIONAL' | 'PROMOTIONAL' | undefined;
      readString(input, 'Keyword', { min: 1, max: 30, pattern: /^[ \S]+$/ });
      const setName = readString(input, 'ConfigurationSetName', { min: 1, max: 256, pattern: RESOURCE_ID_OR_ARN });
      const maxPrice = readString(input, 'MaxPrice', { min: 2, max: 8, pattern: MAX_PRICE });
      readInteger(input, 'TimeToLive', 5, 259200);
      const context = readObject(input, 'Context');
      if (context) {
        const entries = Object.entries(context);
        if (entries.length > 5) throw constraint('Context', entries.length, 'have length less than or equal to 5');
        for (const [key, value] of entries) {
          readString({ key }, 'key', { min: 1, max: 100, pattern: CONTEXT_KEY });
          readString({ [key]: value }, key, { required: true, min: 1, max: 800, pattern: CONTEXT_VALUE });
        }
      }
      if (input.DestinationCountryParameters !== undefined) throw notInStandIn('DestinationCountryParameters');
      readString(input, 'ProtectConfigurationId', { min: 1, max: 256, pattern: RESOURCE_ID_OR_ARN });
      const dryRun = readBoolean(input, 'DryRun') ?? false;
      readBoolean(input, 'MessageFeedbackEnabled');

      const originationPhoneNumber = resolveOrigination(identity);
      const configurationSet = setName === undefined ? undefined : findConfigurationSet(setName);
      if (isOptedOut(destination))
        throw conflict(
          'DESTINATION_PHONE_NUMBER_OPTED_OUT',
          'opted-out-number',
          destination,
          `The destination phone number ${destination} is opted out`,
        );
      const { encoding, parts } = smsParts(body);
      const price = Number((parts * pricePerPart).toFixed(5));
      if (maxPrice !== undefined && price > Number(maxPrice))
        throw validationError(
          `The price of the message (${price} USD) is over MaxPrice (${maxPrice} USD)`,
          'PRICE_OVER_THRESHOLD',
          'MaxPrice',
        );
      if (spent + price > monthlySpendLimit)
        throw new ApiError(
          'ServiceQuotaExceededException',
          400,
          'The monthly spend limit for text messages is reached',
          {
            Reason: 'MONTHLY_SPEND_LIMIT_REACHED_FOR_TEXT',
          },
        );

      const messageId = randomUUID();
      if (dryRun) return { MessageId: messageId };
      spent += price;
      const message: SentTextMessage = {
        messageId,
        input: input as unknown as SendTextMessageRequest,
        destinationPhoneNumber: destination,
        timestamp: Date.now(),
        originationPhoneNumber,
        ...(configurationSet && { configurationSetName: configurationSet.ConfigurationSetName }),
        messageType: messageType ?? findPhone(originationPhoneNumber)?.MessageType ?? 'TRANSACTIONAL',
        encoding,
        parts,
        price,
      };
      sentMessages.push(message);
      for (const listener of sentListeners) listener(message);
      scheduleEvents(message, outcomes.get(destination) ?? DEFAULT_OUTCOME);
      return { MessageId: messageId };
    },

    CreateConfigurationSet(input) {
      const name = readString(input, 'ConfigurationSetName', {
        required: true,
        min: 1,
        max: 64,
        pattern: CONFIGURATION_SET_NAME,
      })!;
      if (configurationSets.has(name))
        throw conflict(
          'RESOURCE_ALREADY_EXISTS',
          'configuration-set',
          name,
          `Configuration set ${name} already exists`,
        );
      const set: ConfigurationSetRecord = {
        ConfigurationSetArn: arn(`configuration-set/${name}`),
        ConfigurationSetName: name,
        EventDestinations: [],
        CreatedTimestamp: nowSeconds(),
      };
      configurationSets.set(name, set);
      return {
        ConfigurationSetArn: set.ConfigurationSetArn,
        ConfigurationSetName: name,
        Tags: input.Tags ?? [],
        CreatedTimestamp: set.CreatedTimestamp,
      };
    },

    DescribeConfigurationSets(input) {
      if (input.Filters !== undefined) throw notInStandIn('Filters');
      const names = readStringList(input, 'ConfigurationSetNames', 5, {
        min: 1,
        max: 256,
        pattern: RESOURCE_ID_OR_ARN,
      });
      const sets = names ? names.map(findConfigurationSet) : [...configurationSets.values()];
      return { ConfigurationSets: sets };
    },

    DeleteConfigurationSet(input) {
      const set = findConfigurationSet(
        readString(input, 'ConfigurationSetName', { required: true, min: 1, max: 256, pattern: RESOURCE_ID_OR_ARN })!,
      );
      configurationSets.delete(set.ConfigurationSetName);
      return { ...set };
    },

    CreateEventDestination(input) {
      const set = findConfigurationSet(
        readString(input, 'ConfigurationSetName', { required: true, min: 1, max: 256, pattern: RESOURCE_ID_OR_ARN })!,
      );
      const name = readString(input, 'EventDestinationName', {
        required: true,
        min: 1,
        max: 64,
        pattern: CONFIGURATION_SET_NAME,
      })!;
      const types = readEventTypes(input, 'MatchingEventTypes', true)!;
      noExtraDestinations(input);
      const sns = readObject(input, 'SnsDestination');
      if (!sns)
        throw validationError(
          'An event destination needs one destination: SnsDestination',
          'MISSING_PARAMETER',
          'SnsDestination',
        );
      const topicArn = readString(sns, 'TopicArn', { required: true, min: 20, max: 2048, pattern: ARN })!;
      if (set.EventDestinations.some((d) => d.EventDestinationName === name))
        throw conflict(
          'RESOURCE_ALREADY_EXISTS',
          'event-destination',
          name,
          `Event destination ${name} already exists`,
        );
      if (set.EventDestinations.length >= MAX_EVENT_DESTINATIONS)
        throw new ApiError(
          'ServiceQuotaExceededException',
          400,
          `A configuration set has at most ${MAX_EVENT_DESTINATIONS} event destinations`,
          {
            Reason: 'EVENT_DESTINATIONS_PER_CONFIGURATION_SET',
          },
        );
      const destination: EventDestinationRecord = {
        EventDestinationName: name,
        Enabled: true,
        MatchingEventTypes: types,
        SnsDestination: { TopicArn: topicArn },
      };
      set.EventDestinations.push(destination);
      return {
        ConfigurationSetArn: set.ConfigurationSetArn,
        ConfigurationSetName: set.ConfigurationSetName,
        EventDestination: destination,
      };
    },

    UpdateEventDestination(input) {
      const { set, destination } = namedEventDestination(input);
      const enabled = readBoolean(input, 'Enabled');
      const types = readEventTypes(input, 'MatchingEventTypes', false);
      noExtraDestinations(input);
      const sns = readObject(input, 'SnsDestination');
      const topicArn = sns && readString(sns, 'TopicArn', { required: true, min: 20, max: 2048, pattern: ARN });
      if (enabled !== undefined) destination.Enabled = enabled;
      if (types) destination.MatchingEventTypes = types;
      if (topicArn) destination.SnsDestination = { TopicArn: topicArn };
      return {
        ConfigurationSetArn: set.ConfigurationSetArn,
        ConfigurationSetName: set.ConfigurationSetName,
        EventDestination: destination,
      };
    },

    DeleteEventDestination(input) {
      const { set, destination } = namedEventDestination(input);
      set.EventDestinations = set.EventDestinations.filter((d) => d !== destination);
      return {
        ConfigurationSetArn: set.ConfigurationSetArn,
        ConfigurationSetName: set.ConfigurationSetName,
        EventDestination: destination,
      };
    },

    DescribePhoneNumbers(input) {
      if (input.Filters !== undefined) throw notInStandIn('Filters');
      if (input.Owner !== undefined && input.Owner !== 'SELF') throw notInStandIn(`Owner ${String(input.Owner)}`);
      // The model's PhoneNumberIdOrArn; E.164 numbers are also taken here.
      const ids = readStringList(input, 'PhoneNumberIds', 5, { min: 1, max: 256, pattern: TEXT_ORIGINATION_IDENTITY });
      const found = ids
        ? ids.map((id) => {
            const phone = findPhone(id);
            if (!phone) throw notFound('phone-number', id);
            return phone;
          })
        : [...phoneNumbers.values()];
      return { PhoneNumbers: found };
    },

    UpdatePhoneNumber(input) {
      const id = readString(input, 'PhoneNumberId', {
        required: true,
        min: 1,
        max: 256,
        pattern: TEXT_ORIGINATION_IDENTITY,
      })!;
      const phone = findPhone(id);
      if (!phone) throw notFound('phone-number', id);
      if (phone.PoolId)
        throw conflict(
          'PHONE_NUMBER_ASSOCIATED_TO_POOL',
          'phone-number',
          phone.PhoneNumberId,
          `${phone.PhoneNumber} is in pool ${phone.PoolId}: update the pool instead`,
        );
      Object.assign(phone, readCommonUpdates(input, phone));
      return { ...phone };
    },

    DescribePools(input) {
      if (input.Filters !== undefined) throw notInStandIn('Filters');
      if (input.Owner !== undefined && input.Owner !== 'SELF') throw notInStandIn(`Owner ${String(input.Owner)}`);
      const ids = readStringList(input, 'PoolIds', 5, { min: 1, max: 256, pattern: RESOURCE_ID_OR_ARN });
      const found = ids
        ? ids.map((id) => {
            const pool = findPool(id);
            if (!pool) throw notFound('pool', id);
            return pool;
          })
        : [...pools.values()];
      return { Pools: found.map(poolView) };
    },

    UpdatePool(input) {
      const id = readString(input, 'PoolId', { required: true, min: 1, max: 256, pattern: RESOURCE_ID_OR_ARN })!;
      const pool = findPool(id);
      if (!pool) throw notFound('pool', id);
      const sharedRoutes = readBoolean(input, 'SharedRoutesEnabled');
      Object.assign(
        pool,
        readCommonUpdates(input, pool),
        sharedRoutes !== undefined && { SharedRoutesEnabled: sharedRoutes },
      );
      return poolView(pool);
    },

    DescribeAccountAttributes() {
      return { AccountAttributes: [{ Name: 'ACCOUNT_TIER', Value: accountTier }] };
    },

    DescribeSpendLimits() {
      return {
        SpendLimits: [
          {
            Name: 'TEXT_MESSAGE_MONTHLY_SPEND_LIMIT',
            EnforcedLimit: monthlySpendLimit,
            MaxLimit: monthlySpendLimit,
            Overridden: false,
          },
        ],
      };
    },
  };

  /** The two-way, opt-out and deletion settings that UpdatePhoneNumber and UpdatePool share. */
  function readCommonUpdates(input: Json, current: { TwoWayEnabled: boolean; TwoWayChannelArn?: string }) {
    const twoWayEnabled = readBoolean(input, 'TwoWayEnabled');
    const channelArn = readString(input, 'TwoWayChannelArn', { min: 20, max: 256, pattern: ARN });
    const channelRole = readString(input, 'TwoWayChannelRole', { min: 20, max: 2048, pattern: ARN });
    const selfManaged = readBoolean(input, 'SelfManagedOptOutsEnabled');
    const optOutList = readString(input, 'OptOutListName', { min: 1, max: 256, pattern: RESOURCE_ID_OR_ARN });
    const deletionProtection = readBoolean(input, 'DeletionProtectionEnabled');
    if (optOutList !== undefined && optOutList !== 'Default' && !optOutList.endsWith(':opt-out-list/Default'))
      throw notFound('opt-out-list', optOutList);
    if (twoWayEnabled && !(channelArn ?? current.TwoWayChannelArn))
      throw validationError(
        'Two-way messaging needs a TwoWayChannelArn',
        'TWO_WAY_CHANNEL_NOT_PRESENT',
        'TwoWayChannelArn',
      );
    return {
      ...(twoWayEnabled !== undefined && { TwoWayEnabled: twoWayEnabled }),
      ...(channelArn !== undefined && { TwoWayChannelArn: channelArn }),
      ...(channelRole !== undefined && { TwoWayChannelRole: channelRole }),
      ...(selfManaged !== undefined && { SelfManagedOptOutsEnabled: selfManaged }),
      ...(deletionProtection !== undefined && { DeletionProtectionEnabled: deletionProtection }),
    };
  }

  function respond(res: http.ServerResponse, status: number, body: Json) {
    res.writeHead(status, { 'Content-Type': CONTENT_TYPE, 'x-amzn-RequestId': randomUUID() });
    res.end(JSON.stringify(body));
  }

  function respondError(res: http.ServerResponse, err: ApiError) {
    // awsJson1_0: the shape name in __type; the message as `message` (the protocol's) and
    // `Message` (the error structures' own member in this model).
    res.setHeader('x-amzn-ErrorType', err.type);
    respond(res, err.status, { __type: err.type, message: err.message, Message: err.message, ...err.members });
  }

  function handle(req: http.IncomingMessage, res: http.ServerResponse, raw: string) {
    try {
      if (req.method !== 'POST' || (req.url ?? '/').split('?')[0] !== '/')
        throw new ApiError(
          'UnknownOperationException',
          404,
          `${req.method ?? ''} ${req.url ?? ''}: this API takes POST / only`,
        );
      const authorization = req.headers.authorization;
      if (!authorization)
        throw new ApiError('MissingAuthenticationTokenException', 403, 'Missing Authentication Token');
      if (
        !/^AWS4-HMAC-SHA256 Credential=\S+\/\d{8}\/[^/]+\/[^/]+\/aws4_request, ?SignedHeaders=\S+, ?Signature=[0-9a-f]{64}$/.test(
          authorization,
        )
      )
        throw new ApiError(
          'IncompleteSignatureException',
          400,
          'Authorization header requires Credential, SignedHeaders and Signature (AWS4-HMAC-SHA256)',
        );
      const target = req.headers['x-amz-target'];
      const operation =
        typeof target === 'string' && target.startsWith(TARGET_PREFIX) ? target.slice(TARGET_PREFIX.length) : undefined;
      if (!operation)
        throw new ApiError('UnknownOperationException', 400, `X-Amz-Target must be ${TARGET_PREFIX}<Operation>`);
      const handler = Object.hasOwn(operations, operation) ? operations[operation] : undefined;
      if (!handler)
        throw new ApiError(
          'UnknownOperationException',
          400,
          `${operation} is not an operation of the End User Messaging stand-in (it has ${Object.keys(operations).join(', ')})`,
        );
      const contentType = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
      if (contentType !== CONTENT_TYPE && contentType !== 'application/json')
        throw serializationError(`Content-Type must be ${CONTENT_TYPE}, not "${contentType}"`);
      let input: unknown;
      try {
        input = raw.trim() === '' ? {} : JSON.parse(raw);
      } catch {
        throw serializationError('The request body is not JSON');
      }
      if (typeof input !== 'object' || input === null || Array.isArray(input))
        throw serializationError('The request body must be a JSON object');
      respond(res, 200, handler(input as Json));
    } catch (err) {
      if (err instanceof ApiError) respondError(res, err);
      else {
        log(`End User Messaging stand-in: ${(err as Error).stack ?? String(err)}`);
        respondError(res, new ApiError('InternalServerException', 500, 'The stand-in failed on this request'));
      }
    }
  }

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
      else if (!res.headersSent) {
        // Refused at once; the rest of the body is read and dropped, then the connection closes.
        res.setHeader('Connection', 'close');
        respondError(
          res,
          new ApiError('SerializationException', 413, `The request body is over ${MAX_BODY_BYTES} bytes`),
        );
      }
    });
    req.on('end', () => {
      if (size <= MAX_BODY_BYTES) handle(req, res, Buffer.concat(chunks).toString('utf8'));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  let stopping: Promise<void> | undefined;
  return {
    endpoint,
    setOutcome(destination, events) {
      outcomes.set(destination, [...events]);
    },
    sent: () => [...sentMessages],
    waitForSent(predicate, timeoutMs = 10_000) {
      const existing = sentMessages.find(predicate);
      if (existing) return Promise.resolve(existing);
      return new Promise((resolve, reject) => {
        const listener = (message: SentTextMessage) => {
          if (!predicate(message)) return;
          clearTimeout(timer);
          sentListeners.delete(listener);
          resolve(message);
        };
        const timer = setTimeout(() => {
          sentListeners.delete(listener);
          const seen = sentMessages.map(
            (m) => `\n  ${m.destinationPhoneNumber}: ${JSON.stringify(m.input.MessageBody)}`,
          );
          reject(
            new Error(
              `no matching SendTextMessage within ${timeoutMs} ms; sent so far (${seen.length}):${seen.join('') || ' none'}`,
            ),
          );
        }, timeoutMs);
        sentListeners.add(listener);
      });
    },
    eventFor(messageId, type, eventOptions = {}) {
      const message = sentMessages.find((m) => m.messageId === messageId);
      if (!message) throw new Error(`no message ${messageId} was sent through the End User Messaging stand-in`);
      const event = buildEvent(message, type, eventOptions.isFinal ?? !INTERMEDIATE_EVENTS.has(type));
      if (eventOptions.publish ?? true) track(publishEvent(event));
      return event;
    },
    publishEvent,
    stop() {
      return (stopping ??= (async () => {
        stopped = true;
        for (const timer of timers) clearTimeout(timer);
        timers.clear();
        await Promise.allSettled([...inFlight]);
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        });
      })());
    },
  };
}
