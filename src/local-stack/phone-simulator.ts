// The person's phone, simulated against a local stack: read the SMS that sms-ask sent (moto
// records every SNS Publish(PhoneNumber)), and answer them the way AWS two-way SMS delivers
// replies: a JSON payload published to the inbound SNS topic.
import { randomUUID } from 'node:crypto';
import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';

/** The local stack's two-way number: the phone's replies go to it, and the End User Messaging stand-in sends from it. */
export const LOCAL_ORIGINATION_NUMBER = '+18885550100';

export interface SentSms {
  messageId: string;
  phoneNumber: string;
  message: string;
}

/** The SMS sent through moto's SNS so far, in send order (from moto's /moto-api/data.json). */
export async function listSentSms(awsEndpoint: string): Promise<SentSms[]> {
  const url = `${awsEndpoint.replace(/\/+$/, '')}/moto-api/data.json`;
  const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
  if (!res.ok) throw new Error(`GET ${url} answered ${res.status} ${res.statusText}`);
  const data = (await res.json()) as {
    sns?: { SMS?: Array<{ message_id: string; phone_number: string; message: string }> };
  };
  return (data.sns?.SMS ?? []).map((sms) => ({
    messageId: sms.message_id,
    phoneNumber: sms.phone_number,
    message: sms.message,
  }));
}

/** Polls every 100 ms until an SMS matching `predicate` has been sent; default timeout 10 s. */
export async function waitForSms(
  awsEndpoint: string,
  predicate: (sms: SentSms) => boolean,
  timeoutMs = 10_000,
): Promise<SentSms> {
  const deadline = Date.now() + timeoutMs;
  let seen: SentSms[] = [];
  for (;;) {
    seen = await listSentSms(awsEndpoint);
    const match = seen.find(predicate);
    if (match) return match;
    if (Date.now() >= deadline) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const list = seen.length
    ? seen.map((sms) => `\n  ${sms.phoneNumber}: ${JSON.stringify(sms.message)}`).join('')
    : ' none';
  throw new Error(`no matching SMS was sent within ${timeoutMs} ms; SMS sent so far (${seen.length}):${list}`);
}

export interface PhoneReply {
  /** The person's phone number (E.164), the reply's originationNumber. */
  from: string;
  body: string;
  /** The number the person replied to, default LOCAL_ORIGINATION_NUMBER. */
  to?: string;
  inboundMessageId?: string;
}

/** The JSON payload that AWS two-way SMS publishes for a reply (a random inboundMessageId when not given). */
export function twoWayReplyPayload(reply: PhoneReply) {
  return {
    originationNumber: reply.from,
    destinationNumber: reply.to ?? LOCAL_ORIGINATION_NUMBER,
    messageKeyword: 'KEYWORD_123456789012',
    messageBody: reply.body,
    inboundMessageId: reply.inboundMessageId ?? randomUUID(),
    previousPublishedMessageId: randomUUID(),
  };
}

/**
 * Publishes a reply to the inbound topic exactly as AWS two-way SMS does (the two-way JSON payload as the
 * SNS message). Returns the inboundMessageId used (a random UUID when not given).
 */
export async function publishPhoneReply(sns: SNSClient, topicArn: string, reply: PhoneReply): Promise<string> {
  const payload = twoWayReplyPayload(reply);
  await sns.send(new PublishCommand({ TopicArn: topicArn, Message: JSON.stringify(payload) }));
  return payload.inboundMessageId;
}

/**
 * The SQS message body that an SNS topic delivers to a subscribed queue (no raw delivery) for a
 * reply: the notification envelope with the two-way payload as its Message. The signature is a
 * placeholder: sms-ask reads it from a queue that only the topic may send to, and does not verify it.
 */
export function snsDeliveredReplyBody(topicArn: string, reply: PhoneReply, at: Date = new Date()): string {
  const region = topicArn.split(':')[3];
  return JSON.stringify({
    Type: 'Notification',
    MessageId: randomUUID(),
    TopicArn: topicArn,
    Message: JSON.stringify(twoWayReplyPayload(reply)),
    Timestamp: at.toISOString(),
    SignatureVersion: '1',
    Signature: 'EXAMPLE',
    SigningCertURL: `https://sns.${region}.amazonaws.com/SimpleNotificationService-0000000000000000000000.pem`,
    UnsubscribeURL: `https://sns.${region}.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=${topicArn}:${randomUUID()}`,
  });
}
