import { readFileSync } from 'node:fs';
import type { CountryCode } from 'libphonenumber-js';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';

import { DEFAULT_TASK_QUEUE } from './task-queue';

export { DEFAULT_TASK_QUEUE };

const boolean = z
  .union([z.boolean(), z.enum(['true', 'false', 'on', 'off', '1', '0', 'yes', 'no'])])
  .transform((v) => (typeof v === 'boolean' ? v : ['true', 'on', '1', 'yes'].includes(v)));

const feedbackSchema = (template: string) =>
  z.object({
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
export const settingsSchema = z.object({
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
  originationNumber: z.string().regex(/^\+[1-9]\d{6,14}$/, 'an E.164 number such as +18885550100').optional(),
  /** AWS.SNS.SMS.MaxPrice in USD per message. */
  maxPrice: z.coerce.number().positive().optional(),
  /** Reply code style: random N-digit codes, or 1, 2, 3… Default random. */
  codeMode: z.enum(['random', 'sequential']).default('random'),
  /** Digits in a random reply code. Default 4. */
  codeLength: z.coerce.number().int().min(3).max(8).default(4),
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
   * SMS published per second, across every worker on this task queue (the server enforces it).
   * AWS accounts have an SNS SMS rate quota, 20 per second by default. Default 20.
   */
  smsPublishRate: z.coerce.number().positive().max(10_000).default(20),
  /** JSON or YAML file of named policy presets, `{ presets: { name: policy } }`, read by the client and CLI. */
  policyFile: z.string().min(1).optional(),
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
      help: feedbackSchema('Reply with the number shown next to your answer. Open codes: {available_codes}. Text STOP to opt out.'),
      /** To everyone who was sent the question, when the ask ends. Placeholders: {question} {outcome}. */
      outcome: feedbackSchema('Closed: {question} ({outcome})'),
      /** To earlier recipients, when the ask escalates. Placeholders: {question} {escalated_to}. */
      escalated: feedbackSchema('Escalated to {escalated_to} (no answer yet): {question} Your codes still work.'),
    })
    .prefault({}),
});

export type Settings = z.infer<typeof settingsSchema>;
export type SettingsInput = z.input<typeof settingsSchema>;
export type FeedbackKind = keyof Settings['feedback'];

/** Environment variable for each setting; the config file uses the setting names themselves. */
export const SETTINGS_ENV = {
  taskQueue: 'SMS_ASK_TASK_QUEUE',
  queueUrl: 'SMS_ASK_QUEUE_URL',
  inboundTopicArn: 'SMS_ASK_INBOUND_TOPIC_ARN',
  smsType: 'SMS_ASK_SMS_TYPE',
  senderId: 'SMS_ASK_SENDER_ID',
  originationNumber: 'SMS_ASK_ORIGINATION_NUMBER',
  maxPrice: 'SMS_ASK_MAX_PRICE',
  codeMode: 'SMS_ASK_CODE_MODE',
  codeLength: 'SMS_ASK_CODE_LENGTH',
  defaultCountry: 'SMS_ASK_DEFAULT_COUNTRY',
  pollWaitSeconds: 'SMS_ASK_POLL_WAIT_SECONDS',
  pollBatchSize: 'SMS_ASK_POLL_BATCH_SIZE',
  pollIntervalMs: 'SMS_ASK_POLL_INTERVAL_MS',
  smsPublishRate: 'SMS_ASK_SMS_PUBLISH_RATE',
  logLevel: 'SMS_ASK_LOG_LEVEL',
  policyFile: 'SMS_ASK_POLICY_FILE',
  'feedback.success.enabled': 'SMS_ASK_FEEDBACK_SUCCESS_ENABLED',
  'feedback.success.template': 'SMS_ASK_FEEDBACK_SUCCESS_TEMPLATE',
  'feedback.failure.enabled': 'SMS_ASK_FEEDBACK_FAILURE_ENABLED',
  'feedback.failure.template': 'SMS_ASK_FEEDBACK_FAILURE_TEMPLATE',
  'feedback.expired.enabled': 'SMS_ASK_FEEDBACK_EXPIRED_ENABLED',
  'feedback.expired.template': 'SMS_ASK_FEEDBACK_EXPIRED_TEMPLATE',
  'feedback.help.enabled': 'SMS_ASK_FEEDBACK_HELP_ENABLED',
  'feedback.help.template': 'SMS_ASK_FEEDBACK_HELP_TEMPLATE',
  'feedback.outcome.enabled': 'SMS_ASK_FEEDBACK_OUTCOME_ENABLED',
  'feedback.outcome.template': 'SMS_ASK_FEEDBACK_OUTCOME_TEMPLATE',
  'feedback.escalated.enabled': 'SMS_ASK_FEEDBACK_ESCALATED_ENABLED',
  'feedback.escalated.template': 'SMS_ASK_FEEDBACK_ESCALATED_TEMPLATE',
} as const;

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
