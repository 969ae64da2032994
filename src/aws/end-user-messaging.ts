/**
 * Sends one SMS through AWS End User Messaging SMS (`SendTextMessage`), the service under SNS's
 * SMS, which reports each message's delivery to the configuration set's event destination.
 */
import { SendTextMessageCommand } from '@aws-sdk/client-pinpoint-sms-voice-v2';
import type { PinpointSMSVoiceV2Client } from '@aws-sdk/client-pinpoint-sms-voice-v2';
import type { Settings } from '../config';
import { DELIVERY_CONTEXT } from '../domain/delivery-event';
import type { SmsKind } from '../domain/delivery-event';
import { maskPhone, maskPhonesIn } from '../domain/phone-mask';
import { assertSmsFits, smsSegmentInfo } from '../domain/sms-text';
import type { SentSms } from './sms-publisher';
import { SmsSendError } from './sns-errors';

export type EndUserMessagingSettings = Pick<
  Settings,
  'smsType' | 'originationIdentity' | 'originationNumber' | 'configurationSet' | 'maxPrice' | 'protectConfigurationId'
>;

/** AWS's bounds on TimeToLive, in seconds. */
export const MIN_TTL_SECONDS = 5;
export const MAX_TTL_SECONDS = 259_200;

/** The time to live of an SMS that must arrive before `deadline`: a question read after it is worse than none. */
export function timeToLiveSeconds(deadline: string | undefined, now: number): number | undefined {
  if (deadline === undefined) return undefined;
  const left = Math.floor((Date.parse(deadline) - now) / 1000);
  if (Number.isNaN(left)) return undefined;
  return Math.min(Math.max(left, MIN_TTL_SECONDS), MAX_TTL_SECONDS);
}

/** The origination identity sends use: the pool or number set, else the origination number. */
export function originationIdentityOf(settings: EndUserMessagingSettings): string | undefined {
  return settings.originationIdentity ?? settings.originationNumber;
}

export interface SendTextOptions {
  /** What the SMS is, and the ask it belongs to: they come back in its delivery events. */
  kind: SmsKind;
  askId?: string;
  /** The ask's deadline: the message's time to live ends there. */
  deadline?: string;
  abortSignal?: AbortSignal;
  now?: () => number;
}

export async function sendTextMessage(
  client: PinpointSMSVoiceV2Client,
  settings: EndUserMessagingSettings,
  to: string,
  message: string,
  options: SendTextOptions,
): Promise<SentSms> {
  assertSmsFits(message);
  const identity = originationIdentityOf(settings);
  if (identity === undefined) {
    throw new SmsSendError(
      'End User Messaging needs an origination identity to send from. Fix: set SMS_ASK_ORIGINATION_IDENTITY to a pool or phone number (ID, ARN or E.164 number).',
      'NoOriginationIdentity',
      true,
      to,
    );
  }
  const ttl = timeToLiveSeconds(options.deadline, (options.now ?? Date.now)());
  try {
    const out = await client.send(
      new SendTextMessageCommand({
        DestinationPhoneNumber: to,
        OriginationIdentity: identity,
        MessageBody: message,
        MessageType: settings.smsType === 'Promotional' ? 'PROMOTIONAL' : 'TRANSACTIONAL',
        ConfigurationSetName: settings.configurationSet,
        ...(settings.maxPrice !== undefined && { MaxPrice: settings.maxPrice.toFixed(5) }),
        ...(ttl !== undefined && { TimeToLive: ttl }),
        ...(settings.protectConfigurationId && { ProtectConfigurationId: settings.protectConfigurationId }),
        Context: {
          [DELIVERY_CONTEXT.kind]: options.kind,
          ...(options.askId !== undefined && { [DELIVERY_CONTEXT.askId]: options.askId }),
        },
      }),
      { abortSignal: options.abortSignal },
    );
    const info = smsSegmentInfo(message);
    return {
      messageId: out.MessageId ?? '',
      segments: info.segments,
      encoding: info.encoding,
      via: 'end-user-messaging',
    };
  } catch (err) {
    throw classifyEndUserMessagingError(err, to, settings);
  }
}

interface AwsErrorShape {
  name?: string;
  message?: string;
  Reason?: string;
  ResourceType?: string;
  ResourceId?: string;
  $fault?: 'client' | 'server';
  $metadata?: { httpStatusCode?: number };
}

const PERMISSION_FIX =
  "give the worker's IAM identity sms-voice:SendTextMessage on the origination identity and configuration set (`sms-ask setup --dry-run` prints the policy)";

/** What a person must do about a refusal, by the error's reason (or its name). */
const FIXES: Record<string, string> = {
  DESTINATION_PHONE_NUMBER_OPTED_OUT:
    'the person texted STOP; they must text START (or be removed from the opt-out list) before they can get SMS again',
  DESTINATION_PHONE_NUMBER_NOT_VERIFIED:
    'the account is in the SMS sandbox: verify the destination number, or request production access',
  DESTINATION_COUNTRY_BLOCKED_BY_PROTECT_CONFIGURATION:
    "the protect configuration blocks the destination's country; allow it there, or choose another protect configuration",
  DESTINATION_PHONE_NUMBER_BLOCKED_BY_PROTECT_NUMBER_OVERRIDE:
    'a protect configuration rule blocks this number; change the rule if the number should receive SMS',
  NO_ORIGINATION_IDENTITIES_FOUND:
    'the pool holds no number that can send to this destination; add one, or choose another pool',
  MESSAGE_TYPE_MISMATCH:
    "the origination identity does not take this message type; set SMS_ASK_SMS_TYPE to the identity's type",
  MONTHLY_SPEND_LIMIT_REACHED_FOR_TEXT:
    "the account's monthly SMS spend limit is reached; raise it (End User Messaging SMS, Spend limits) or wait for the next month",
  PRICE_OVER_THRESHOLD: 'the SMS costs more than SMS_ASK_MAX_PRICE; raise it, or leave it unset',
  DESTINATION_COUNTRY_BLOCKED: 'the destination country is not enabled for the account',
  COUNTRY_NOT_ENABLED: 'the destination country is not enabled for the account',
  INVALID_IDENTITY_FOR_DESTINATION_COUNTRY:
    'the origination identity cannot send to this country; use a pool with a number for it',
  INVALID_PARAMETER: 'check that the number is in E.164 form (+ and country code) and can receive SMS',
  FIELD_VALIDATION_FAILED: 'check that the number is in E.164 form (+ and country code) and can receive SMS',
  AccessDeniedException: PERMISSION_FIX,
  UnrecognizedClientException: 'the AWS access key is not valid; check the credentials the worker uses',
  InvalidSignatureException: 'the AWS secret key does not match the access key; check the credentials',
};

const TRANSIENT = new Set([
  'ThrottlingException',
  'InternalServerException',
  'ServiceUnavailable',
  'ExpiredTokenException',
  'TimeoutError',
  'RequestTimeout',
]);

/** Sorts End User Messaging's refusals into the ones a retry can fix and the ones a person must fix. */
export function classifyEndUserMessagingError(
  err: unknown,
  phone: string,
  settings: EndUserMessagingSettings,
): SmsSendError {
  if (err instanceof SmsSendError) return err;
  const e = (err ?? {}) as AwsErrorShape;
  const name = e.name ?? 'Error';
  const code = e.Reason ?? name;
  const status = e.$metadata?.httpStatusCode;
  const detail = maskPhonesIn(e.message ?? String(err));
  const to = maskPhone(phone);
  const refused = (fix?: string) =>
    new SmsSendError(
      `End User Messaging refused the SMS to ${to} (${name}${e.Reason ? ` ${e.Reason}` : ''}: ${detail})${fix ? `. Fix: ${fix}.` : '.'}`,
      code,
      true,
      phone,
      { cause: err },
    );
  if (name === 'ResourceNotFoundException') {
    const what = e.ResourceType ? `${e.ResourceType} ${e.ResourceId ?? ''}`.trim() : 'a resource';
    return refused(
      e.ResourceType === 'configuration-set'
        ? `the configuration set ${settings.configurationSet} does not exist: run \`sms-ask setup\` (it creates it and its event destination), or set SMS_ASK_CONFIGURATION_SET`
        : `${what} does not exist: check SMS_ASK_ORIGINATION_IDENTITY (${originationIdentityOf(settings)}) and the region`,
    );
  }
  const fix = FIXES[code] ?? FIXES[name];
  if (fix) return refused(fix);
  const transient =
    TRANSIENT.has(name) ||
    e.$fault === 'server' ||
    (status !== undefined && (status >= 500 || status === 429)) ||
    status === undefined;
  if (transient)
    return new SmsSendError(
      `End User Messaging could not take the SMS to ${to} yet (${name}: ${detail}); retrying.`,
      code,
      false,
      phone,
      { cause: err },
    );
  return refused();
}
