/**
 * Webhook signatures, as Stripe and GitHub do them: HMAC-SHA256 over `<timestamp>.<body>` with the
 * shared secret, sent as `Sms-Ask-Signature: t=<unix seconds>,v1=<hex>`. The timestamp lets a
 * receiver refuse replays; the delivery id (`Sms-Ask-Delivery`) lets it drop duplicates.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_HEADER = 'sms-ask-signature';
export const DELIVERY_HEADER = 'sms-ask-delivery';
export const EVENT_HEADER = 'sms-ask-event';
/** Receivers should refuse a signature older than this. */
export const DEFAULT_TOLERANCE_SECONDS = 300;

export function webhookSignature(secret: string, timestamp: number, body: string): string {
  const mac = createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex');
  return `t=${timestamp},v1=${mac}`;
}

/** Thrown by verifyWebhookSignature; the message says which check failed. */
export class WebhookSignatureError extends Error {
  override name = 'WebhookSignatureError';
}

/** What a receiver does (the README shows the same in Python): recompute, compare in constant time, check the age. */
export function verifyWebhookSignature(
  header: string | undefined,
  body: string,
  secret: string,
  { toleranceSeconds = DEFAULT_TOLERANCE_SECONDS, now = Date.now() }: { toleranceSeconds?: number; now?: number } = {},
): void {
  if (!header) throw new WebhookSignatureError(`no ${SIGNATURE_HEADER} header`);
  const parts = new Map<string, string[]>();
  for (const item of header.split(',')) {
    const [key, value] = item.split('=', 2);
    if (key && value) parts.set(key.trim(), [...(parts.get(key.trim()) ?? []), value.trim()]);
  }
  const timestamp = Number(parts.get('t')?.[0]);
  if (!Number.isInteger(timestamp)) throw new WebhookSignatureError('no timestamp in the signature header');
  if (Math.abs(now / 1000 - timestamp) > toleranceSeconds)
    throw new WebhookSignatureError('the signature is too old (or from the future)');
  const expected = Buffer.from(webhookSignature(secret, timestamp, body).split('v1=')[1]!, 'hex');
  const matches = (parts.get('v1') ?? []).some((sig) => {
    const given = Buffer.from(sig, 'hex');
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
  if (!matches) throw new WebhookSignatureError('the signature does not match');
}
