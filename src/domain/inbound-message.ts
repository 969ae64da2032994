import { z } from 'zod';
import {
  DEFAULT_MAX_REPLY_BODY_BYTES,
  MAX_ADDRESS_LENGTH,
  MAX_MESSAGE_ID_LENGTH,
  utf8ByteLength,
} from './input-limits';
import { looksLikeDeliveryEvent, parseDeliveryEvent } from './delivery-event';
import type { DeliveryEvent } from './delivery-event';
import { normalizeSenderPhone } from './phone';

/** The SQS message formats: SNS's envelope, raw message delivery, and a relay's envelope (see parseInboundMessage). */
export const INBOUND_FORMATS = ['sns-envelope', 'raw', 'bridge'] as const;
export type InboundFormat = (typeof INBOUND_FORMATS)[number];

export interface InboundReply {
  /** E.164 sender (normalizeSenderPhone). */
  from: string;
  /** messageBody as received (not trimmed). */
  body: string;
  /** destinationNumber when present. */
  to?: string;
  /** messageKeyword. */
  keyword?: string;
  inboundMessageId?: string;
  /** The SNS envelope's MessageId. */
  snsMessageId?: string;
  previousPublishedMessageId?: string;
  /**
   * When the reply was sent, as AWS stamped it (ISO 8601): the earliest of the SNS envelope's
   * Timestamp and SQS's SentTimestamp. A reply sent before a question never answers it.
   */
  sentAt?: string;
  /** Dedupe key: inboundMessageId, else SNS MessageId, else SQS MessageId. */
  dedupeKey: string;
  /** `api`: injected through the HTTP API (POST /v1/replies), not received from SQS. */
  format: InboundFormat | 'api';
  /** The API key that injected the reply; only with format `api`. */
  injectedBy?: string;
}

/** What SQS says about the message beside its body. */
export interface InboundStamps {
  /** The SQS SentTimestamp attribute (epoch ms, as a string). */
  sqsSentTimestamp?: string;
}

export type InboundParseResult =
  { ok: true; reply: InboundReply & { format: InboundFormat } } | { ok: false; reason: string };

export interface InboundLimits {
  /** Largest messageBody, in UTF-8 bytes. Default 1,600 (the maxReplyBytes setting). */
  maxBodyBytes?: number;
  /** The formats the deployment takes (the inboundFormats setting). Default: every format. */
  formats?: readonly InboundFormat[];
  /** The inbound topic (inboundTopicArn): an envelope from another topic is refused. Default: any topic. */
  topicArn?: string;
}

const FORMAT_NAMES: Record<InboundFormat, string> = {
  'sns-envelope': 'an SNS notification',
  raw: 'a two-way payload without an SNS envelope (raw message delivery)',
  bridge: 'a bridge envelope (only originationNumber and messageBody)',
};

/**
 * Why a reply is too big to route, or undefined when it is within the limits: the body's size, the
 * length of every id (they become dedupe keys kept in workflow state) and of the address fields.
 * Every way in for replies checks it, so that none can make the worker store or scan unbounded text.
 */
export function replyOverLimits(
  fields: { body: string; ids: Record<string, string | undefined>; addresses: Record<string, string | undefined> },
  limits: InboundLimits = {},
): string | undefined {
  const maxBodyBytes = limits.maxBodyBytes ?? DEFAULT_MAX_REPLY_BODY_BYTES;
  if (utf8ByteLength(fields.body, maxBodyBytes) > maxBodyBytes)
    return `messageBody is longer than ${maxBodyBytes} bytes`;
  for (const [name, id] of Object.entries(fields.ids)) {
    if (id !== undefined && id.length > MAX_MESSAGE_ID_LENGTH)
      return `${name} is longer than ${MAX_MESSAGE_ID_LENGTH} characters`;
  }
  for (const [name, value] of Object.entries(fields.addresses)) {
    if (value !== undefined && value.length > MAX_ADDRESS_LENGTH)
      return `${name} is longer than ${MAX_ADDRESS_LENGTH} characters`;
  }
  return undefined;
}

// Blank ids count as absent: a shared "" dedupe key would drop every later reply.
const optionalText = z
  .string()
  .nullish()
  .transform((v) => (v == null || v.trim() === '' ? undefined : v.trim()));

const TwoWayPayloadSchema = z.object({
  originationNumber: z.string(),
  messageBody: z.string(),
  destinationNumber: optionalText,
  messageKeyword: optionalText,
  inboundMessageId: optionalText,
  previousPublishedMessageId: optionalText,
});

const SnsEnvelopeSchema = z.object({
  Type: z.string(),
  MessageId: optionalText,
  TopicArn: z.unknown().optional(),
  Message: z.string(),
  Timestamp: z.unknown().optional(),
});

/** The earliest of the times AWS stamped (ISO 8601 or epoch ms); undefined when none is a time. */
function earliestSentAt(...stamps: unknown[]): string | undefined {
  const times = stamps.flatMap((stamp) => {
    const ms =
      typeof stamp === 'string' && /^\d{1,15}$/.test(stamp)
        ? Number(stamp)
        : typeof stamp === 'string' && stamp.length <= 40
          ? Date.parse(stamp)
          : NaN;
    return Number.isFinite(ms) && ms > 0 ? [ms] : [];
  });
  return times.length > 0 ? new Date(Math.min(...times)).toISOString() : undefined;
}

type JsonObject = Record<string, unknown>;

const MAX_KEYS_LISTED = 10;
const MAX_VALUE_SHOWN = 40;

function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

function clip(text: string): string {
  return text.length > MAX_VALUE_SHOWN ? `${text.slice(0, MAX_VALUE_SHOWN)}…` : text;
}

function listKeys(obj: JsonObject): string {
  const keys = Object.keys(obj);
  if (keys.length === 0) return 'none';
  const shown = keys.slice(0, MAX_KEYS_LISTED).map(clip).join(', ');
  return keys.length > MAX_KEYS_LISTED ? `${shown}, …` : shown;
}

function parseJson(text: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch {
    return { ok: false };
  }
}

function fail(reason: string): InboundParseResult {
  return { ok: false, reason };
}

function looksLikeTwoWayPayload(obj: JsonObject): boolean {
  return 'originationNumber' in obj || 'messageBody' in obj;
}

/** Names the first field that is missing or of the wrong type. */
function describePayloadProblem(obj: JsonObject, field: PropertyKey | undefined): string {
  if (typeof field !== 'string') return 'two-way payload is malformed';
  const value = obj[field];
  if (value === undefined) return `two-way payload has no ${field}`;
  return `${field} must be a string (got ${typeName(value)})`;
}

function parseTwoWayPayload(
  obj: JsonObject,
  sqsMessageId: string,
  envelope: { snsMessageId: string | undefined; timestamp?: unknown } | undefined,
  limits: InboundLimits,
  stamps: InboundStamps,
): InboundParseResult {
  const parsed = TwoWayPayloadSchema.safeParse(obj);
  if (!parsed.success) return fail(describePayloadProblem(obj, parsed.error.issues[0]?.path[0]));
  const p = parsed.data;
  const tooBig = replyOverLimits(
    {
      body: p.messageBody,
      ids: {
        'SQS MessageId': sqsMessageId,
        'SNS MessageId': envelope?.snsMessageId,
        inboundMessageId: p.inboundMessageId,
        previousPublishedMessageId: p.previousPublishedMessageId,
      },
      addresses: {
        originationNumber: p.originationNumber,
        destinationNumber: p.destinationNumber,
        messageKeyword: p.messageKeyword,
      },
    },
    limits,
  );
  if (tooBig) return fail(tooBig);

  const from = normalizeSenderPhone(p.originationNumber);
  if (from === undefined) {
    return fail(`originationNumber "${clip(p.originationNumber)}" is not a phone number`);
  }

  let format: InboundFormat = 'raw';
  if (envelope !== undefined) {
    // A bridge relays only sender and text; AWS always adds both of these.
    format = p.inboundMessageId === undefined && p.destinationNumber === undefined ? 'bridge' : 'sns-envelope';
  }
  const snsMessageId = envelope?.snsMessageId;

  const reply: InboundReply & { format: InboundFormat } = {
    from,
    body: p.messageBody,
    dedupeKey: p.inboundMessageId ?? snsMessageId ?? sqsMessageId,
    format,
  };
  if (p.destinationNumber !== undefined) {
    // Short codes and sender IDs are not E.164; keep them as AWS gave them.
    reply.to = normalizeSenderPhone(p.destinationNumber) ?? p.destinationNumber;
  }
  if (p.messageKeyword !== undefined) reply.keyword = p.messageKeyword;
  if (p.inboundMessageId !== undefined) reply.inboundMessageId = p.inboundMessageId;
  if (snsMessageId !== undefined) reply.snsMessageId = snsMessageId;
  const sentAt = earliestSentAt(envelope?.timestamp, stamps.sqsSentTimestamp);
  if (sentAt !== undefined) reply.sentAt = sentAt;
  if (p.previousPublishedMessageId !== undefined) {
    reply.previousPublishedMessageId = p.previousPublishedMessageId;
  }
  return { ok: true, reply };
}

function parseEnvelope(
  obj: JsonObject,
  sqsMessageId: string,
  limits: InboundLimits,
  stamps: InboundStamps,
): InboundReadResult {
  const type = obj['Type'];
  if (typeof type !== 'string') return fail(`SNS envelope's Type must be a string (got ${typeName(type)})`);
  if (type === 'SubscriptionConfirmation') {
    return fail(
      'SNS envelope is a subscription confirmation, not a reply: confirm the subscription with its SubscribeURL',
    );
  }
  if (type === 'UnsubscribeConfirmation') {
    return fail('SNS envelope is an unsubscribe confirmation, not a reply');
  }
  if (type !== 'Notification') return fail(`SNS envelope has Type "${clip(type)}", not "Notification"`);

  const envelope = SnsEnvelopeSchema.safeParse(obj);
  if (!envelope.success) {
    const message = obj['Message'];
    if (message === undefined) return fail('SNS envelope has no Message');
    if (typeof message !== 'string') return fail(`SNS envelope's Message must be a string (got ${typeName(message)})`);
    return fail(`SNS envelope's MessageId must be a string (got ${typeName(obj['MessageId'])})`);
  }

  const topicArn = envelope.data.TopicArn;
  if (topicArn !== undefined && typeof topicArn !== 'string')
    return fail(`SNS envelope's TopicArn must be a string (got ${typeName(topicArn)})`);
  if (limits.topicArn !== undefined && topicArn !== undefined && topicArn !== limits.topicArn) {
    return fail(`SNS envelope is from topic ${clip(topicArn)}, not the inbound topic ${limits.topicArn}`);
  }

  const inner = parseJson(envelope.data.Message);
  if (!inner.ok) return fail("SNS envelope's Message is not JSON");
  if (!isJsonObject(inner.value)) {
    return fail(`SNS envelope's Message is not a JSON object (got ${typeName(inner.value)})`);
  }
  if (looksLikeDeliveryEvent(inner.value)) {
    // SNS always names its topic, and End User Messaging publishes only through SNS.
    if (topicArn === undefined && limits.topicArn !== undefined)
      return fail(`delivery event is without a TopicArn, not from the inbound topic ${limits.topicArn}`);
    const snsMessageId = envelope.data.MessageId;
    if (snsMessageId !== undefined && snsMessageId.length > MAX_MESSAGE_ID_LENGTH)
      return fail(`SNS MessageId is longer than ${MAX_MESSAGE_ID_LENGTH} characters`);
    return readDeliveryEvent(inner.value, snsMessageId ?? sqsMessageId);
  }
  if (!looksLikeTwoWayPayload(inner.value)) {
    return fail(`SNS envelope's Message is not a two-way SMS payload (keys: ${listKeys(inner.value)})`);
  }
  const parsed = parseTwoWayPayload(
    inner.value,
    sqsMessageId,
    { snsMessageId: envelope.data.MessageId, timestamp: envelope.data.Timestamp },
    limits,
    stamps,
  );
  // SNS always names its topic: an envelope without one was written by someone else.
  if (parsed.ok && parsed.reply.format === 'sns-envelope' && topicArn === undefined && limits.topicArn !== undefined) {
    return fail(`SNS envelope has no TopicArn, so it did not come from the inbound topic ${limits.topicArn}`);
  }
  return parsed;
}

/** A delivery event read from the inbound queue, with where it came from. */
export interface InboundDelivery {
  event: DeliveryEvent;
  /** The SNS envelope's MessageId, else the SQS MessageId. */
  dedupeKey: string;
}

export type InboundReadResult = InboundParseResult | { ok: true; delivery: InboundDelivery };

function readDeliveryEvent(obj: JsonObject, dedupeKey: string): InboundReadResult {
  const parsed = parseDeliveryEvent(obj);
  return parsed.ok ? { ok: true, delivery: { event: parsed.event, dedupeKey } } : parsed;
}

/**
 * Reads one SQS message body, in the formats `limits.formats` allows: a reply, or an End User
 * Messaging delivery event (in an SNS envelope from the inbound topic, or raw where the deployment
 * takes raw delivery). Never throws: a bad message (malformed, or over the limits) gets a reason to
 * log, and stays on the queue so redrive moves it to the DLQ. Linear in the body's size.
 */
export function readInboundBody(
  body: string,
  sqsMessageId: string,
  limits: InboundLimits = {},
  stamps: InboundStamps = {},
): InboundReadResult {
  // Some HTTP bridges prepend a byte-order mark, which JSON.parse rejects.
  const text = body.replace(/^\uFEFF/, '');
  if (text.trim() === '') return fail('body is empty');

  const parsed = parseJson(text);
  if (!parsed.ok) return fail('body is not JSON');
  if (!isJsonObject(parsed.value)) return fail(`body is JSON but not an object (got ${typeName(parsed.value)})`);

  const obj = parsed.value;
  if ('Type' in obj) return onlyTakenFormats(parseEnvelope(obj, sqsMessageId, limits, stamps), limits);
  if (looksLikeDeliveryEvent(obj)) {
    if (limits.formats !== undefined && !limits.formats.includes('raw'))
      return fail(
        `a delivery event without an SNS envelope (raw message delivery), a format this deployment does not take (inboundFormats: ${limits.formats.join(', ')})`,
      );
    return readDeliveryEvent(obj, sqsMessageId);
  }
  if (looksLikeTwoWayPayload(obj))
    return onlyTakenFormats(parseTwoWayPayload(obj, sqsMessageId, undefined, limits, stamps), limits);
  return fail(`not an SNS notification nor a two-way SMS payload (keys: ${listKeys(obj)})`);
}

function onlyTakenFormats(result: InboundReadResult, limits: InboundLimits): InboundReadResult {
  if (!result.ok || !('reply' in result) || limits.formats === undefined) return result;
  if (limits.formats.includes(result.reply.format)) return result;
  return fail(
    `${FORMAT_NAMES[result.reply.format]}, a format this deployment does not take (inboundFormats: ${limits.formats.join(', ')})`,
  );
}

/** readInboundBody for the ways in that take replies only (a Twilio webhook, doctor's look at the DLQ, tests). */
export function parseInboundMessage(
  body: string,
  sqsMessageId: string,
  limits: InboundLimits = {},
  stamps: InboundStamps = {},
): InboundParseResult {
  const read = readInboundBody(body, sqsMessageId, limits, stamps);
  return 'delivery' in read ? fail('an SMS delivery event, not a reply') : read;
}
