/**
 * AWS End User Messaging SMS delivery events: what the configuration set's event destination
 * publishes for each message sms-ask sent (AWS's "SMS event" JSON, inside an SNS envelope on the
 * inbound queue). Parsing never throws: a malformed event gets a reason, and stays for the DLQ.
 */
import { z } from 'zod';
import { MAX_ADDRESS_LENGTH, MAX_MESSAGE_ID_LENGTH } from './input-limits';
import { normalizeSenderPhone } from './phone';

/** The Context keys each send carries, which come back in every event of that message. */
export const DELIVERY_CONTEXT = { askId: 'smsAskAskId', kind: 'smsAskKind' } as const;

/** What an SMS was, as its Context names it. */
export const SMS_KINDS = ['question', 'reminder', 'feedback', 'one-way'] as const;
export type SmsKind = (typeof SMS_KINDS)[number];

/**
 * `delivered`: the handset (or, with no receipt from the carrier, the carrier) has it.
 * `undelivered`: it never will (blocked, unreachable, invalid, expired). `pending`: on its way.
 * `unknown`: AWS heard nothing final from the carrier within 72 hours.
 */
export type DeliveryStatus = 'pending' | 'delivered' | 'undelivered' | 'unknown';

/** One delivery event, as the router hands it to the ask. */
export interface DeliveryEvent {
  messageId: string;
  /** AWS's eventType, e.g. TEXT_DELIVERED, TEXT_BLOCKED. */
  eventType: string;
  status: DeliveryStatus;
  isFinal: boolean;
  /** E.164. */
  destination: string;
  /** When AWS reported it, ISO 8601. */
  at: string;
  /** When the message was sent (messageRequestTimestamp), ISO 8601. */
  sentAt?: string;
  /** AWS's words for the status (messageStatusDescription). */
  reason?: string;
  /** totalMessagePrice + totalCarrierFee, in USD. */
  priceUsd?: number;
  askId?: string;
  kind?: SmsKind;
}

const DELIVERED = new Set(['TEXT_DELIVERED', 'TEXT_SUCCESSFUL']);
const PENDING = new Set(['TEXT_QUEUED', 'TEXT_PENDING', 'TEXT_SENT']);

/** How an event type reads: failures are final whatever `isFinal` says, since nothing follows them. */
export function deliveryStatusOf(eventType: string, isFinal: boolean): DeliveryStatus {
  if (DELIVERED.has(eventType)) return isFinal || eventType === 'TEXT_DELIVERED' ? 'delivered' : 'pending';
  if (PENDING.has(eventType)) return 'pending';
  if (eventType === 'TEXT_UNKNOWN') return 'unknown';
  return 'undelivered';
}

const MAX_REASON_CHARS = 200;
const MAX_CONTEXT_VALUE_CHARS = 800;
const MAX_CONTEXT_ENTRIES = 5;

const text = (max: number) => z.string().trim().min(1).max(max);
const epochMs = z.number().int().positive().max(8.64e15);
const price = z.number().min(0).max(1000).optional();

const DeliveryEventSchema = z.object({
  eventType: z.string().regex(/^TEXT_[A-Z_]{1,40}$/, 'an SMS event type such as TEXT_DELIVERED'),
  eventTimestamp: epochMs,
  isFinal: z.boolean(),
  destinationPhoneNumber: text(MAX_ADDRESS_LENGTH),
  messageId: text(MAX_MESSAGE_ID_LENGTH),
  messageRequestTimestamp: epochMs.optional(),
  messageStatusDescription: z.string().optional(),
  // AWS's bounds on a send's Context: 5 entries, keys up to 100 characters, values up to 800.
  context: z
    .record(z.string().max(100), z.string().max(MAX_CONTEXT_VALUE_CHARS))
    .refine((context) => Object.keys(context).length <= MAX_CONTEXT_ENTRIES, 'at most 5 entries')
    .optional(),
  totalMessagePrice: price,
  totalCarrierFee: price,
});

/** True for a JSON object that means to be a delivery event (and so is parsed as one, not as a reply). */
export function looksLikeDeliveryEvent(obj: Record<string, unknown>): boolean {
  return typeof obj['eventType'] === 'string' && 'messageId' in obj;
}

export type DeliveryEventParse = { ok: true; event: DeliveryEvent } | { ok: false; reason: string };

export function parseDeliveryEvent(obj: Record<string, unknown>): DeliveryEventParse {
  const parsed = DeliveryEventSchema.safeParse(obj);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return { ok: false, reason: `delivery event's ${issue?.path.join('.') || 'body'} is malformed: ${issue?.message}` };
  }
  const e = parsed.data;
  const destination = normalizeSenderPhone(e.destinationPhoneNumber);
  if (destination === undefined)
    return { ok: false, reason: "delivery event's destinationPhoneNumber is not a phone number" };
  const askId = e.context?.[DELIVERY_CONTEXT.askId];
  const kind = e.context?.[DELIVERY_CONTEXT.kind];
  const priceUsd =
    e.totalMessagePrice === undefined && e.totalCarrierFee === undefined
      ? undefined
      : (e.totalMessagePrice ?? 0) + (e.totalCarrierFee ?? 0);
  const reason = e.messageStatusDescription?.trim().slice(0, MAX_REASON_CHARS);
  return {
    ok: true,
    event: {
      messageId: e.messageId,
      eventType: e.eventType,
      status: deliveryStatusOf(e.eventType, e.isFinal),
      isFinal: e.isFinal || deliveryStatusOf(e.eventType, e.isFinal) === 'undelivered',
      destination,
      at: new Date(e.eventTimestamp).toISOString(),
      ...(e.messageRequestTimestamp !== undefined && { sentAt: new Date(e.messageRequestTimestamp).toISOString() }),
      ...(reason && { reason }),
      ...(priceUsd !== undefined && { priceUsd }),
      ...(askId && { askId }),
      ...(kind && (SMS_KINDS as readonly string[]).includes(kind) && { kind: kind as SmsKind }),
    },
  };
}

/**
 * A question's delivery as a person reads it: "delivered", "not delivered: TEXT_BLOCKED (reason)",
 * "delivery pending", "delivery unknown". The console's format.mjs words it the same.
 */
export function describeDelivery(delivery: { status: DeliveryStatus; eventType: string; reason?: string }): string {
  if (delivery.status === 'delivered') return 'delivered';
  if (delivery.status === 'pending') return 'delivery pending';
  if (delivery.status === 'unknown') return 'delivery unknown';
  return `not delivered: ${delivery.eventType}${delivery.reason ? ` (${delivery.reason})` : ''}`;
}

/** A price in USD as AWS gives it, to five decimals at most: "$0.00581". */
export function formatUsd(usd: number): string {
  return `$${usd.toFixed(5).replace(/(\.\d\d\d*?)0+$/, '$1')}`;
}
