import { readFileSync } from 'node:fs';
import type { CountryCode } from 'libphonenumber-js';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';

import { DEFAULT_MAX_REPLY_BODY_BYTES, MAX_REPLY_BODY_BYTES_CEILING } from './domain/input-limits';
import type { ReplyRules } from './domain/reply-guard';
import { INBOUND_FORMATS } from './domain/inbound-message';
import type { InboundFormat } from './domain/inbound-message';
import { parsePayloadKeys } from './temporal/payload-keys';
import { HTTP_CALLBACK_REFUSED, WEBHOOK_EVENTS, webhookHostAllowed, webhookSchemeAllowed } from './domain/callback';
import type { WebhookDefaults } from './domain/callback';
import { DEFAULT_TASK_QUEUE } from './temporal/task-queue';
import { DEFAULT_ASK_SEGMENT_BUDGET, DEFAULT_MAX_SMS_SEGMENTS, DEFAULT_SMS_COUNTRIES } from './domain/spend';
import type { SpendLimits } from './domain/spend';

export { DEFAULT_TASK_QUEUE };

const boolean = z
  .union([z.boolean(), z.enum(['true', 'false', 'on', 'off', '1', '0', 'yes', 'no'])])
  .transform((v) => (typeof v === 'boolean' ? v : ['true', 'on', '1', 'yes'].includes(v)));

/** An HTTP API key: its name is the operator in event logs; `operate` can also act, `read` only reads. */
const apiKeySchema = z
  .object({
    name: z.string().regex(/^[\w.@-]{1,64}$/, '1 to 64 letters, digits or ._@-'),
    scope: z.enum(['read', 'operate', 'codes']),
    key: z.string().min(24, 'at least 24 characters (e.g. `openssl rand -hex 24`)').regex(/^\S+$/, 'no spaces'),
  })
  .strict();

export type ApiKey = z.infer<typeof apiKeySchema>;

/** `name:scope:key,…`; a malformed entry is reported by position, never by its text (it holds a key). */
function parseApiKeyList(value: string, ctx: z.RefinementCtx): unknown[] {
  return value
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean)
    .map((entry, i) => {
      const [name, scope, ...rest] = entry.split(':');
      if (!name || !scope || rest.length === 0) {
        ctx.addIssue({ code: 'custom', message: `entry ${i + 1} is not name:scope:key` });
        return {};
      }
      return { name, scope, key: rest.join(':') };
    });
}

/** `name=secret,…`; reported by position, never by its text. */
function parseSecretList(value: string, ctx: z.RefinementCtx): Record<string, string> {
  const secrets: Record<string, string> = {};
  value
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean)
    .forEach((entry, i) => {
      const at = entry.indexOf('=');
      if (at <= 0) ctx.addIssue({ code: 'custom', message: `entry ${i + 1} is not name=secret` });
      else secrets[entry.slice(0, at)] = entry.slice(at + 1);
    });
  return secrets;
}

const feedbackSchema = (template: string) =>
  z
    .object({
      /** Send this feedback SMS. Default true. */
      enabled: boolean.default(true),
      /** Template; placeholders in braces. */
      template: z.string().min(1).default(template),
    })
    .prefault({});

/**
 * sms-ask's own settings. AWS and Temporal use their standard variables (AWS_REGION, AWS_PROFILE,
 * AWS_ENDPOINT_URL, TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY …), not these.
 */
export const settingsSchema = z
  .object({
    /** Task queue of the worker. Default "sms-ask". */
    taskQueue: z.string().min(1).default(DEFAULT_TASK_QUEUE),
    /** URL of the SQS queue that receives replies. Required by the worker's inbound poller. */
    queueUrl: z.url().optional(),
    /** ARN of the SNS topic that two-way SMS publishes replies to. Used by `reply` to play the phone. */
    inboundTopicArn: z.string().startsWith('arn:').optional(),
    /** AWS.SNS.SMS.SMSType. Default Transactional (higher delivery priority). */
    smsType: z.enum(['Transactional', 'Promotional']).default('Transactional'),
    /** AWS.SNS.SMS.SenderID, where the destination country supports it. */
    senderId: z
      .string()
      .regex(/^(?=.*[A-Za-z])[A-Za-z0-9]{1,11}$/, '1 to 11 letters or digits, with at least one letter')
      .optional(),
    /** AWS.MM.SMS.OriginationNumber: the two-way number replies come back to, in E.164. */
    originationNumber: z
      .string()
      .regex(/^\+[1-9]\d{6,14}$/, 'an E.164 number such as +18885550100')
      .optional(),
    /** AWS.SNS.SMS.MaxPrice (End User Messaging: MaxPrice) in USD per message. */
    maxPrice: z.coerce.number().positive().optional(),
    /**
     * What sends the SMS: `sns` (SNS Publish, the default) or `end-user-messaging` (AWS End User
     * Messaging SMS SendTextMessage, which reports each message's delivery through the configuration set).
     */
    smsSender: z.enum(['sns', 'end-user-messaging']).default('sns'),
    /**
     * End User Messaging: the origination identity, a pool (as AWS recommends) or phone number, by ID,
     * ARN or E.164 number. Default: the origination number.
     */
    originationIdentity: z.string().min(1).max(256).optional(),
    /** End User Messaging: the configuration set whose event destination reports deliveries. Default sms-ask. */
    configurationSet: z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,64}$|^arn:/, 'a configuration set name (letters, digits, - and _) or ARN')
      .default('sms-ask'),
    /** End User Messaging: the protect configuration applied to each send. */
    protectConfigurationId: z.string().min(1).max(256).optional(),
    /**
     * Reply code style: random N-digit codes, or 1, 2, 3… Default random. Sequential codes are guessed
     * at once by anyone who can text from a spoofed number: asks must accept them (policy.sequentialCodes).
     */
    codeMode: z.enum(['random', 'sequential']).default('random'),
    /**
     * Digits in a random reply code. Default 7 (was 4): with replyGuessesPerAsk 4, the chance that a
     * forger answers an ask with 20 recipients and 9 options over its whole life is at most 1 in 12,500
     * (docs/security-replies.md has the arithmetic).
     */
    codeLength: z.coerce.number().int().min(3).max(8).default(7),
    /** ISO country (e.g. US) used to read recipient numbers written without a country code. */
    defaultCountry: z
      .string()
      .regex(/^[A-Z]{2}$/, 'a two-letter ISO country code such as US')
      .transform((code) => code as CountryCode)
      .optional(),
    /** SQS long-poll wait in seconds (0-20). Default 20. */
    pollWaitSeconds: z.coerce.number().int().min(0).max(20).default(20),
    /** Messages per SQS receive (1-10). Default 10. */
    pollBatchSize: z.coerce.number().int().min(1).max(10).default(10),
    /** Pause between SQS receives in milliseconds. Default 0: poll again at once. */
    pollIntervalMs: z.coerce.number().int().min(0).default(0),
    /**
     * Long polls each poll activity keeps in flight on the queue at once (1-20). Default 1: with the
     * default 2 poll activities, two receives per queue. (moto, the local emulator, spins a CPU for
     * each waiting long poll; real SQS does not.)
     */
    pollConcurrency: z.coerce.number().int().min(1).max(20).default(1),
    /**
     * Poll activities the queue's poller workflow keeps running (1-16); the server hands them to any
     * worker process, so with several processes they spread across them. Default 2.
     */
    pollers: z.coerce.number().int().min(1).max(16).default(2),
    /**
     * Keys that encrypt Temporal payloads (AES-256-GCM), as `id:base64key` entries separated by
     * commas; the first one encrypts, every one decrypts. Rotate by putting a new key first. Each key
     * is 32 random bytes (`openssl rand -base64 32`). Default none: payloads are stored in clear.
     */
    payloadKeys: z.string().min(1).optional(),
    /**
     * With payloadKeys set, refuse payloads that are not encrypted (e.g. a `reply` signal sent with the
     * temporal CLI without the codec): they decode as null, which every handler ignores. Turn on once no
     * workflow started before encryption is still running. Default false.
     */
    payloadRequireEncryption: boolean.default(false),
    /**
     * SMS published per second, across every worker on this task queue (the server enforces it).
     * AWS accounts have an SNS SMS rate quota, 20 per second by default. Default 20.
     */
    smsPublishRate: z.coerce.number().positive().max(10_000).default(20),
    /**
     * ISO countries that SMS may go to, comma-separated (e.g. US,CA,GB), or * for any. A number
     * elsewhere is refused when the ask starts and for a one-way SMS. Default: the defaultCountry
     * if set, else US and CA.
     */
    smsCountries: z
      .union([z.array(z.string()), z.string()])
      .transform((v) => (Array.isArray(v) ? v : v.split(',')).map((c) => c.trim().toUpperCase()).filter(Boolean))
      .pipe(
        z.union([
          z.tuple([z.literal('*')]),
          z.array(z.string().regex(/^[A-Z]{2}$/, 'two-letter ISO country codes such as US, or *')).min(1),
        ]),
      )
      .optional(),
    /** Segments one SMS may be (1-30); a longer question is refused when the ask starts. Default 8. */
    maxSmsSegments: z.coerce.number().int().min(1).max(30).default(DEFAULT_MAX_SMS_SEGMENTS),
    /** Segments one ask may send over its life: questions, reminders, escalations, re-sends, feedback. Default 200. */
    askSegmentBudget: z.coerce.number().int().min(1).max(100_000).default(DEFAULT_ASK_SEGMENT_BUDGET),
    /** Segments the deployment (this task queue) may send per UTC day, across every worker. Default 10000. */
    dailySegmentBudget: z.coerce.number().int().min(1).max(100_000_000).default(10_000),
    /**
     * Workflows a worker keeps in memory between their tasks. A pending ask only waits, so it need not
     * stay: one evicted is replayed from its short history when its reply comes. Bounds the worker's
     * memory whatever the number of pending asks. Default 500.
     */
    workflowCacheSize: z.coerce.number().int().min(0).max(100_000).default(500),
    /**
     * Run each worker as one version of a Temporal worker deployment (Worker Versioning): an ask
     * stays on the build it started on until it ends, the long-lived workflows move to the current
     * build, and `sms-ask deploy` makes a new build current. Needs a server with worker
     * deployments (Temporal Server 1.29.1+, Temporal Cloud); without them the worker runs unversioned and
     * says so. Default false: unversioned, every worker takes every task.
     */
    workerVersioning: boolean.default(false),
    /** The worker deployment's name. Default: the task queue's name. */
    deploymentName: z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,200}$/, '1 to 200 letters, digits, _ or -')
      .optional(),
    /**
     * This worker's build ID in the deployment. Default: derived from the workflow bundle (the digest
     * that `npm run build` records in dist/build-info.json, or, run from the sources, the digest of
     * the bundle made at start), so that the same workflow code is the same version.
     */
    buildId: z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,200}$/, '1 to 200 letters, digits, _ or -')
      .optional(),
    /** Assume this IAM role (through STS) for every AWS call; the base credentials only assume it. */
    roleArn: z
      .string()
      .regex(/^arn:aws[a-z-]*:iam::\d{12}:role\/.+$/, 'an IAM role ARN such as arn:aws:iam::123456789012:role/sms-ask')
      .optional(),
    /** Role session name, shown in CloudTrail. Default "sms-ask". */
    roleSessionName: z
      .string()
      .regex(/^[\w+=,.@-]{2,64}$/, '2 to 64 letters, digits or +=,.@_-')
      .default('sms-ask'),
    /** Role session duration in seconds, 900 (15 min) to 43200 (12 h); the role's MaxSessionDuration must allow it. Default 3600. */
    roleSessionDurationSeconds: z.coerce.number().int().min(900).max(43_200).default(3600),
    /** External ID the role's trust policy requires, if any. */
    roleExternalId: z
      .string()
      .regex(/^[\w+=,.@:\/-]{2,1224}$/, '2 to 1224 letters, digits or +=,.@:/_-')
      .optional(),
    /** Explicit access key ID; with awsSecretAccessKey, replaces the default credential chain. */
    awsAccessKeyId: z
      .string()
      .regex(/^[A-Z0-9]{16,128}$/i, '16 to 128 letters or digits, such as AKIA…')
      .optional(),
    /** Explicit secret access key; never logged. */
    awsSecretAccessKey: z.string().min(1).optional(),
    /** Session token that goes with temporary explicit keys. */
    awsSessionToken: z.string().min(1).optional(),
    /** STS endpoint: regional (sts.REGION.amazonaws.com, the default) or legacy (the global sts.amazonaws.com). */
    stsEndpointMode: z.enum(['regional', 'legacy']).default('regional'),
    /** AWS request timeout in milliseconds. Default 15000. The SQS long poll always gets its wait time plus 10 s. */
    awsRequestTimeoutMs: z.coerce.number().int().min(1000).max(300_000).default(15_000),
    /** AWS connection timeout in milliseconds. Default 5000. */
    awsConnectionTimeoutMs: z.coerce.number().int().min(100).max(60_000).default(5_000),
    /** Attempts per AWS call, first try included (1-10). Default 3. */
    awsMaxAttempts: z.coerce.number().int().min(1).max(10).default(3),
    /** AWS SDK retry mode: standard or adaptive (client-side rate limiting). Default standard. */
    awsRetryMode: z.enum(['standard', 'adaptive']).default('standard'),
    /** The dead-letter queue, by URL or name. Default: the queue's redrive policy says which. */
    dlq: z.string().min(1).optional(),
    /** `setup`: visibility timeout of the inbound queue in seconds. Default 30. */
    queueVisibilityTimeoutSeconds: z.coerce.number().int().min(0).max(43_200).default(30),
    /** `setup`: receives of a message before the redrive policy moves it to the DLQ (1-1000). Default 5. */
    maxReceiveCount: z.coerce.number().int().min(1).max(1000).default(5),
    /**
     * Wrong reply codes from one phone that one of its asks takes over the ask's whole life (not a
     * window); the one that reaches it makes that ask's codes stop working for the phone, until an
     * operator re-sends the question with fresh codes. Default 4: a person may mistype three times.
     */
    replyGuessesPerAsk: z.coerce.number().int().min(1).max(100).default(4),
    /** Wrong reply codes from one phone within replyGuessWindowSeconds that make its SMS answers refused for a cool-down. Default 5. */
    replyGuessLimit: z.coerce.number().int().min(1).max(1000).default(5),
    /** The window in which replyGuessLimit wrong codes lock a phone, in seconds. Default 900 (15 minutes). */
    replyGuessWindowSeconds: z.coerce
      .number()
      .int()
      .min(1)
      .max(7 * 86_400)
      .default(900),
    /** How long a locked phone's SMS answers are refused, in seconds. Default 3600 (1 hour). */
    replyGuessCooldownSeconds: z.coerce
      .number()
      .int()
      .min(1)
      .max(7 * 86_400)
      .default(3600),
    /** Failure, help and expired feedback SMS per phone within replyFeedbackWindowSeconds; more are not sent. Default 5. */
    replyFeedbackLimit: z.coerce.number().int().min(0).max(1000).default(5),
    /** The window of replyFeedbackLimit, in seconds. Default 3600 (1 hour). */
    replyFeedbackWindowSeconds: z.coerce
      .number()
      .int()
      .min(1)
      .max(7 * 86_400)
      .default(3600),
    /** How long a STOP waits for SNS to list the number as opted out before it is logged as unconfirmed, in seconds. Default 60. */
    optOutConfirmSeconds: z.coerce.number().int().min(0).max(3600).default(60),
    /** Largest reply body accepted, in UTF-8 bytes; a longer message is a bad message (logged, left for the DLQ). Default 1600, SMS's limit. */
    maxReplyBytes: z.coerce
      .number()
      .int()
      .min(160)
      .max(MAX_REPLY_BODY_BYTES_CEILING)
      .default(DEFAULT_MAX_REPLY_BODY_BYTES),
    /** `setup`: an IAM role that may publish replies to the inbound topic besides AWS's SMS service (a bridge, e.g. a Twilio relay). Default: none. */
    inboundBridgeRoleArn: z
      .string()
      .regex(
        /^arn:aws[a-z-]*:iam::\d{12}:role\/.+$/,
        'an IAM role ARN such as arn:aws:iam::123456789012:role/sms-bridge',
      )
      .optional(),
    /**
     * The SQS message formats the poller takes, comma-separated: `sns-envelope` (always on: SNS's
     * notification from the inbound topic), `raw` (SNS raw message delivery: the bare two-way
     * payload) and `bridge` (an envelope holding only originationNumber and messageBody, written by a
     * relay). A message in another format is logged and left for the DLQ. Default sns-envelope.
     */
    inboundFormats: z
      .unknown()
      .transform((v) => (typeof v === 'string' ? v.split(/[\s,]+/).filter(Boolean) : v))
      .pipe(z.array(z.enum(INBOUND_FORMATS)))
      .default(['sns-envelope'])
      .transform((formats) => [...new Set<InboundFormat>(['sns-envelope', ...formats])]),
    /**
     * Verify each SNS envelope's signature (SignatureVersion 1 or 2) against the certificate at its
     * SigningCertURL, fetched once and cached. Raw delivery and a bridge that writes to the queue
     * itself carry no signature, so they are refused. Default false.
     */
    inboundVerifySignatures: boolean.default(false),
    /**
     * The URL prefixes a SigningCertURL may start with, comma-separated. Default
     * `https://sns.<region>.amazonaws.com/` for the region in the envelope's TopicArn; `http://` only
     * for a loopback host (tests).
     */
    snsSigningCertUrlPrefixes: z
      .unknown()
      .transform((v) => (typeof v === 'string' ? v.split(/[\s,]+/).filter(Boolean) : v))
      .pipe(
        z
          .array(
            z
              .url()
              .refine(
                (url) => /^https:\/\//.test(url) || /^http:\/\/(127\.0\.0\.1|localhost|\[::1\])(:\d+)?\//.test(url),
                'an https:// URL prefix (http:// only on a loopback host), ending in /',
              ),
          )
          .min(1),
      )
      .optional(),
    /** JSON or YAML file of named policy presets, `{ presets: { name: policy } }`, read by the client and CLI. */
    policyFile: z.string().min(1).optional(),
    /**
     * host:port of the worker's monitoring endpoint: /metrics (Prometheus), /healthz and /readyz.
     * Default: off. Use 127.0.0.1:9464 on a host, 0.0.0.0:9464 in a container.
     */
    metricsAddress: z
      .string()
      .regex(/^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/, 'host:port, such as 127.0.0.1:9464')
      .optional(),
    /** `serve`: the address the HTTP API listens on. Default 127.0.0.1 (loopback only). */
    httpHost: z.string().min(1).default('127.0.0.1'),
    /**
     * `serve`: the host names clients reach the HTTP API by (a proxy's name, say), comma-separated.
     * Requests naming another Host are refused (DNS rebinding). A server on loopback or without keys
     * always checks (its loopback names, httpPublicUrl's host and these); one on another address
     * checks only when this or httpPublicUrl is set. Default none.
     */
    httpAllowedHosts: z
      .unknown()
      .transform((v) => (typeof v === 'string' ? v.split(/[\s,]+/).filter(Boolean) : v))
      .pipe(
        z.array(
          z
            .string()
            .regex(
              /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(:\d{1,5})?$/,
              'a host name or address, such as sms-ask.example.com',
            ),
        ),
      )
      .default([]),
    /** `serve`: the HTTP API's port; 0 picks a free one. Default 8080. */
    httpPort: z.coerce.number().int().min(0).max(65_535).default(8080),
    /**
     * `serve`: the API keys, each with a name (the operator recorded in event logs) and a scope:
     * `read` (asks without their reply codes), `operate` (also acts on asks), or `codes` (operate, and
     * sees live reply codes). In the environment: `name:scope:key` separated by commas. Default none:
     * then the server starts only with httpKeyless, on a loopback address. Never logged.
     */
    httpApiKeys: z
      .unknown()
      .transform((v, ctx) => (typeof v === 'string' ? parseApiKeyList(v, ctx) : v))
      .pipe(z.array(apiKeySchema))
      .default([])
      .superRefine((keys, ctx) => {
        const names = keys.map((k) => k.name);
        names.forEach((name, i) => {
          if (names.indexOf(name) !== i)
            ctx.addIssue({ code: 'custom', path: [i, 'name'], message: `the key name "${name}" is used twice` });
        });
      }),
    /**
     * `serve`: run the HTTP API with no API keys, as the local operator (loopback addresses only; foreign
     * Host headers and cross-site requests are refused). Ignored when httpApiKeys holds a key. Default false.
     */
    httpKeyless: boolean.default(false),
    /**
     * `serve`: which proxies' X-Forwarded-For to believe for the client address (rate limits, logs):
     * `true` (any), a hop count, or addresses/CIDRs separated by commas. Default false (none).
     */
    httpTrustProxy: z
      .unknown()
      .transform((v) =>
        v === 'true' ? true : v === 'false' ? false : typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : v,
      )
      .pipe(
        z.union([
          z.boolean(),
          z.number().int().min(1).max(16),
          z.string().regex(/^[\w.:/\s,[\]-]+$/, 'true, a hop count, or addresses/CIDRs separated by commas'),
        ]),
      )
      .default(false),
    /** `serve`: largest request body in bytes. Default 65536. */
    httpBodyLimitBytes: z.coerce.number().int().min(1024).max(10_485_760).default(65_536),
    /** `serve`: requests per minute per API key (or per address without one); more get 429. Default 600. */
    httpRateLimitPerMinute: z.coerce.number().int().min(1).max(1_000_000).default(600),
    /** `serve`: the longest `wait` a result request may hold the connection, in seconds. Default 60. */
    httpMaxWaitSeconds: z.coerce.number().int().min(1).max(600).default(60),
    /**
     * `serve`: POST /v1/replies takes a reply from an operate key as if the phone had sent it (same
     * routing, codes and guess limits; the ask's log names the key). Default false: refused with 403.
     */
    httpAllowInjectedReplies: boolean.default(false),
    /**
     * `serve`: the URL clients (and Twilio) use to reach this server, e.g. https://sms-ask.example.com,
     * when a proxy sits in front; Twilio signs this URL. Default: the request's own host and scheme.
     */
    httpPublicUrl: z
      .url()
      .transform((url) => url.replace(/\/+$/, ''))
      .optional(),
    /** `serve`: run the worker in the same process as the HTTP API. Default false (run `sms-ask worker` beside it). */
    serveWorker: boolean.default(false),
    /** `serve`: the Twilio auth token that signs Twilio's webhooks; enables POST /inbound/twilio. Never logged. */
    twilioAuthToken: z.string().min(1).optional(),
    /**
     * Allow `http://` (not TLS) callbacks and webhook URLs to loopback hosts (127.0.0.0/8, ::1,
     * localhost), for the local stack and tests. Elsewhere only `https://` is accepted. Default false.
     */
    webhookAllowHttpLoopback: boolean.default(false),
    /** Outcome webhook URL for asks that name no callback of their own; https (see webhookAllowHttpLoopback). Default none. */
    webhookUrl: z.url({ protocol: /^https?$/ }).optional(),
    /**
     * Named webhook secrets that asks refer to by `callback.secretName`, so the secret stays out of
     * workflow history. In the environment: `name=secret` separated by commas. Default none. Never logged.
     */
    webhookSecrets: z
      .unknown()
      .transform((v, ctx) => (typeof v === 'string' ? parseSecretList(v, ctx) : v))
      .pipe(
        z.record(
          z.string().regex(/^[\w.-]{1,64}$/, '1 to 64 letters, digits or ._-'),
          z.string().min(16, 'at least 16 characters'),
        ),
      )
      .optional(),
    /**
     * Named Authorization header values that asks refer to by `callback.authorization`; the worker adds
     * the value to each delivery, so it stays out of workflow history. In the environment:
     * `name=value` separated by commas, e.g. `xsoar=Basic dXNlcjpwYXNz`. Default none. Never logged.
     */
    webhookAuthorizations: z
      .unknown()
      .transform((v, ctx) => (typeof v === 'string' ? parseSecretList(v, ctx) : v))
      .pipe(
        z.record(
          z.string().regex(/^[\w.-]{1,64}$/, '1 to 64 letters, digits or ._-'),
          z
            .string()
            .min(1)
            .max(8192)
            .regex(/^[^\r\n]+$/, 'one line: an HTTP header value'),
        ),
      )
      .optional(),
    /** The secret name (in webhookSecrets) that signs webhooks whose callback names none. Default: the only secret, if there is one. */
    webhookDefaultSecretName: z.string().min(1).optional(),
    /** The events the default webhook gets: ended, escalated, opted_out, guess_limit_reached, undelivered (comma-separated). Default ended. */
    webhookEvents: z
      .unknown()
      .transform((v) => (typeof v === 'string' ? v.split(/[\s,]+/).filter(Boolean) : v))
      .pipe(z.array(z.enum(WEBHOOK_EVENTS)).min(1))
      .default(['ended']),
    /**
     * The only hosts outcome webhooks may go to, comma-separated: `hooks.example.com`, or
     * `*.example.com` for its subdomains. An ask whose callback names another host is refused, and the
     * worker will not POST to one. Default: any host (set it wherever untrusted callers may start asks).
     */
    webhookAllowedHosts: z
      .unknown()
      .transform((v) => (typeof v === 'string' ? v.split(/[\s,]+/).filter(Boolean) : v))
      .pipe(z.array(z.string().regex(/^(\*\.)?[\w.:[\]-]{1,253}$/, 'a host name, IP address or *.domain')).min(1))
      .optional(),
    /** How long a webhook delivery is retried, with backoff, before it is given up, in seconds. Default 3600 (1 h). */
    webhookRetryForSeconds: z.coerce
      .number()
      .int()
      .min(1)
      .max(30 * 86_400)
      .default(3600),
    /** Timeout of one webhook POST in milliseconds. Default 10000. */
    webhookTimeoutMs: z.coerce.number().int().min(100).max(120_000).default(10_000),
    /** Log level. Default info. */
    logLevel: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
    feedback: z
      .object({
        /** Placeholders: {chosen_option} {reply_code} {question} {phone_number}. */
        success: feedbackSchema('Got it: {chosen_option} for {question}'),
        /** Placeholders: {available_codes} {phone_number}. */
        failure: feedbackSchema('Sorry, that reply matches no open question. Reply with one of: {available_codes}'),
        /** Placeholders: {question} {phone_number}. */
        expired: feedbackSchema('That question has already closed: "{question}". Your reply was not recorded.'),
        /** Placeholders: {available_codes}. */
        help: feedbackSchema(
          'Reply with the number shown next to your answer. Open codes: {available_codes}. Text STOP to opt out.',
        ),
        /** To everyone who was sent the question, when the ask ends. Placeholders: {question} {outcome}. */
        outcome: feedbackSchema('Closed: {question} ({outcome})'),
        /** To earlier recipients, when the ask escalates. Placeholders: {question} {escalated_to}. */
        escalated: feedbackSchema('Escalated to {escalated_to} (no answer yet): {question} Your codes still work.'),
      })
      .prefault({}),
  })
  .superRefine((settings, ctx) => {
    if (settings.payloadKeys) {
      try {
        parsePayloadKeys(settings.payloadKeys);
      } catch (err) {
        ctx.addIssue({ code: 'custom', path: ['payloadKeys'], message: (err as Error).message });
      }
    }
    // One key without the other would silently fall back to the default chain: say so instead.
    if (Boolean(settings.awsAccessKeyId) !== Boolean(settings.awsSecretAccessKey)) {
      const missing = settings.awsAccessKeyId ? 'awsSecretAccessKey' : 'awsAccessKeyId';
      ctx.addIssue({
        code: 'custom',
        path: [missing],
        message: 'explicit AWS keys need both the access key ID and the secret access key',
      });
    }
    if (settings.webhookDefaultSecretName && !(settings.webhookDefaultSecretName in (settings.webhookSecrets ?? {}))) {
      ctx.addIssue({
        code: 'custom',
        path: ['webhookDefaultSecretName'],
        message: `no secret named "${settings.webhookDefaultSecretName}" in webhookSecrets`,
      });
    }
    if (settings.webhookUrl && !webhookHostAllowed(settings.webhookUrl, settings.webhookAllowedHosts)) {
      ctx.addIssue({
        code: 'custom',
        path: ['webhookUrl'],
        message: 'its host is not among webhookAllowedHosts (SMS_ASK_WEBHOOK_ALLOWED_HOSTS)',
      });
    }
    if (settings.webhookUrl && !webhookSchemeAllowed(settings.webhookUrl, settings.webhookAllowHttpLoopback)) {
      ctx.addIssue({ code: 'custom', path: ['webhookUrl'], message: HTTP_CALLBACK_REFUSED });
    }
    if (settings.webhookUrl && Object.keys(settings.webhookSecrets ?? {}).length === 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['webhookUrl'],
        message: 'a default webhook needs a secret to sign with: set webhookSecrets (SMS_ASK_WEBHOOK_SECRETS)',
      });
    }
    if (settings.inboundVerifySignatures && settings.inboundFormats.includes('raw')) {
      ctx.addIssue({
        code: 'custom',
        path: ['inboundFormats'],
        message:
          'raw message delivery carries no SNS signature: drop `raw`, or turn off inboundVerifySignatures (SMS_ASK_INBOUND_VERIFY_SIGNATURES)',
      });
    }
    if (settings.awsSessionToken && !settings.awsAccessKeyId) {
      ctx.addIssue({
        code: 'custom',
        path: ['awsSessionToken'],
        message: 'a session token needs the explicit access key ID and secret access key it belongs to',
      });
    }
    // Found at the first send, it would fail every question as if every phone were unreachable.
    if (settings.smsSender === 'end-user-messaging' && !settings.originationIdentity && !settings.originationNumber) {
      ctx.addIssue({
        code: 'custom',
        path: ['originationIdentity'],
        message:
          'End User Messaging sends from a pool or phone number: set originationIdentity (SMS_ASK_ORIGINATION_IDENTITY) or originationNumber',
      });
    }
  });

export type Settings = z.infer<typeof settingsSchema>;
export type SettingsInput = z.input<typeof settingsSchema>;
export type FeedbackKind = keyof Settings['feedback'];

/** A setting the environment can set: a top-level key, or a feedback kind's field (`feedback.help.template`). */
export type SettingPath =
  Exclude<keyof Settings, 'feedback'> | `feedback.${FeedbackKind}.${keyof Settings['feedback'][FeedbackKind]}`;

/** Variables that do not follow SMS_ASK_ + the path in SNAKE_CASE; none so far. */
const ENV_NAME_EXCEPTIONS: Partial<Record<SettingPath, string>> = {};

/** The leaf paths of an object schema, looking through default, prefault and optional wrappers. */
function settingPaths(schema: z.ZodType, prefix = ''): SettingPath[] {
  let inner: z.core.$ZodType = schema;
  while ('innerType' in inner._zod.def) inner = (inner._zod.def as { innerType: z.core.$ZodType }).innerType;
  if (inner._zod.def.type !== 'object') return [prefix.slice(0, -1) as SettingPath];
  const shape = (inner._zod.def as z.core.$ZodObjectDef).shape;
  return Object.entries(shape).flatMap(([key, field]) => settingPaths(field as z.ZodType, `${prefix}${key}.`));
}

/** Environment variable for each setting: SMS_ASK_ and its path in SNAKE_CASE; the config file uses the setting names themselves. */
export const SETTINGS_ENV = Object.fromEntries(
  settingPaths(settingsSchema).map((path) => [
    path,
    ENV_NAME_EXCEPTIONS[path] ??
      `SMS_ASK_${path
        .replace(/\./g, '_')
        .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
        .toUpperCase()}`,
  ]),
) as Record<SettingPath, string>;

/** The reply rules that each phone's workflow applies, from the settings. */
export function replyRulesFrom(settings: Settings): ReplyRules {
  return {
    guessesPerAsk: settings.replyGuessesPerAsk,
    guessLimit: settings.replyGuessLimit,
    guessWindowMs: settings.replyGuessWindowSeconds * 1000,
    guessCooldownMs: settings.replyGuessCooldownSeconds * 1000,
    feedbackLimit: settings.replyFeedbackLimit,
    feedbackWindowMs: settings.replyFeedbackWindowSeconds * 1000,
    optOutConfirmMs: settings.optOutConfirmSeconds * 1000,
  };
}

/** Names the variable that points at an optional JSON or YAML settings file. */
export const CONFIG_FILE_ENV = 'SMS_ASK_CONFIG';

/** Thrown by loadSettings when a setting is missing or invalid; each problem names its setting. */
export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`Invalid sms-ask configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split('.');
  let node = target;
  for (const key of keys.slice(0, -1)) {
    node[key] ??= {};
    node = node[key] as Record<string, unknown>;
  }
  node[keys[keys.length - 1]!] = value;
}

/** Reads a JSON (by its extension) or YAML file; errors name the setting that points at it. */
export function readConfigFile(file: string, setting: string = CONFIG_FILE_ENV): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError([`${setting}: cannot read ${file} (${(err as Error).message})`]);
  }
  try {
    const parsed: unknown = /\.json$/i.test(file) ? JSON.parse(text) : parseYaml(text);
    return (parsed ?? {}) as Record<string, unknown>;
  } catch (err) {
    throw new ConfigError([`${setting}: ${file} is not valid JSON or YAML (${(err as Error).message})`]);
  }
}

/** Reads settings from the config file (if any), then the environment, which wins. Validated once. */
export function loadSettings(env: NodeJS.ProcessEnv = process.env, overrides: SettingsInput = {}): Settings {
  const file = env[CONFIG_FILE_ENV];
  const raw: Record<string, unknown> = file ? readConfigFile(file) : {};
  for (const [path, name] of Object.entries(SETTINGS_ENV)) {
    const value = env[name];
    if (value !== undefined && value !== '') setPath(raw, path, value);
  }
  const result = settingsSchema.safeParse({ ...raw, ...overrides });
  if (result.success) return result.data;
  throw new ConfigError(
    result.error.issues.map((issue) => {
      const path = issue.path.join('.');
      const envName = (SETTINGS_ENV as Record<string, string>)[path];
      return `${envName ? `${envName} (${path})` : path || 'settings'}: ${issue.message}`;
    }),
  );
}

/** The webhook settings that an ask's callback is checked and completed with (see domain/callback.ts). */
export function webhookDefaults(settings: Settings): WebhookDefaults {
  return {
    url: settings.webhookUrl,
    events: settings.webhookEvents,
    secretNames: Object.keys(settings.webhookSecrets ?? {}),
    defaultSecretName: settings.webhookDefaultSecretName,
    authorizationNames: Object.keys(settings.webhookAuthorizations ?? {}),
    retryForMs: settings.webhookRetryForSeconds * 1000,
    allowedHosts: settings.webhookAllowedHosts,
    allowHttpLoopback: settings.webhookAllowHttpLoopback,
  };
}

/** What one SMS and one ask may cost, and where SMS may go, as the ask checks and the SMS activities apply them. */
export function spendLimits(settings: Settings): SpendLimits {
  const countries =
    settings.smsCountries ?? (settings.defaultCountry ? [settings.defaultCountry] : DEFAULT_SMS_COUNTRIES);
  return {
    smsCountries: countries[0] === '*' ? '*' : countries,
    maxSmsSegments: settings.maxSmsSegments,
    askSegmentBudget: settings.askSegmentBudget,
  };
}
