/**
 * An ask's outcome webhook: where sms-ask POSTs the result when the ask ends (and, if asked for,
 * when it escalates or a recipient opts out), and the secret that signs it. Deterministic.
 */
import { z } from 'zod';

export const WEBHOOK_EVENTS = ['ended', 'escalated', 'opted_out', 'guess_limit_reached', 'undelivered'] as const;
export type WebhookEvent = (typeof WEBHOOK_EVENTS)[number];

/** What a playbook writes in an ask's `callback`. */
export const callbackSchema = z
  .object({
    /** Where to POST: https (http only to loopback, where the deployment allows it). */
    url: z.url({ protocol: /^https?$/, error: 'an http(s) URL' }).max(2000),
    /**
     * The signing secret itself (16 characters or more). It is kept in the ask's workflow history;
     * prefer `secretName`, a secret the deployment holds in its settings.
     */
    secret: z.string().min(16, 'at least 16 characters').max(200).optional(),
    /** The name of a secret in the deployment's webhookSecrets. Default: the deployment's default secret. */
    secretName: z.string().min(1).max(64).optional(),
    /**
     * The name of an entry of the deployment's webhookAuthorizations (SMS_ASK_WEBHOOK_AUTHORIZATIONS):
     * each delivery carries `Authorization: <its value>`, which the worker reads as it delivers, so the
     * value never enters workflow history. Default: no Authorization header.
     */
    authorization: z.string().min(1).max(64).optional(),
    /** Which events to send. Default ["ended"]. */
    events: z.array(z.enum(WEBHOOK_EVENTS)).min(1).max(WEBHOOK_EVENTS.length).optional(),
  })
  .strict();

export type CallbackRequest = z.input<typeof callbackSchema>;

/** A checked callback, as the workflow carries it: a secret or the name of one, never both. */
export interface NormalizedCallback {
  url: string;
  secret?: string;
  secretName?: string;
  /** The name of the Authorization value (in the worker's webhookAuthorizations) each delivery carries. */
  authorization?: string;
  events: WebhookEvent[];
  /** How long each delivery is retried before it is given up, in milliseconds. */
  retryForMs: number;
}

/**
 * Whether a webhook may go to `url`'s host: any host when the deployment names none, else an exact
 * host name (or IP literal) of the list, or a subdomain of a `*.example.com` entry. Without a list,
 * whoever may start an ask can make the worker POST to any address it reaches, internal ones too.
 */
export function webhookHostAllowed(url: string, allowedHosts: readonly string[] | undefined): boolean {
  if (!allowedHosts) return true;
  let host: string;
  try {
    host = new URL(url).hostname.toLowerCase().replace(/\.$/, '');
  } catch {
    return false;
  }
  return allowedHosts.some((entry) => {
    const allowed = entry.toLowerCase();
    return allowed.startsWith('*.') ? host.endsWith(allowed.slice(1)) : host === allowed;
  });
}

/** Why an http:// webhook URL is refused, for a person. */
export const HTTP_CALLBACK_REFUSED =
  'use an https:// URL: webhooks carry the outcome and are not sent without TLS (SMS_ASK_WEBHOOK_ALLOW_HTTP_LOOPBACK allows http:// to loopback, for local use and tests)';

/** A host only this machine can reach, as a URL writes it: localhost, 127.0.0.0/8, [::1]. */
export function isLoopbackUrlHost(hostname: string): boolean {
  const host = hostname.toLowerCase().replace(/\.$/, '');
  return (
    host === 'localhost' ||
    host.endsWith('.localhost') ||
    /^127(\.\d{1,3}){3}$/.test(host) ||
    host === '[::1]' ||
    host === '::1'
  );
}

/** Whether a webhook may go to `url` by its scheme: https always; http only to loopback, and only where allowed. */
export function webhookSchemeAllowed(url: string, allowHttpLoopback: boolean | undefined): boolean {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return false;
  }
  if (parsed.protocol === 'https:') return true;
  return parsed.protocol === 'http:' && allowHttpLoopback === true && isLoopbackUrlHost(parsed.hostname);
}

/** The deployment's webhook settings that an ask's callback is checked and completed with. */
export interface WebhookDefaults {
  /** The only hosts webhooks may go to (SMS_ASK_WEBHOOK_ALLOWED_HOSTS); any host when unset. */
  allowedHosts?: readonly string[];
  /** The callback URL of asks that give none. */
  url?: string;
  events: WebhookEvent[];
  /** Names of the secrets the deployment holds. */
  secretNames: string[];
  defaultSecretName?: string;
  /** Names of the Authorization values the deployment holds (webhookAuthorizations). Default none. */
  authorizationNames?: string[];
  retryForMs: number;
  /** http:// callbacks to loopback hosts are accepted (SMS_ASK_WEBHOOK_ALLOW_HTTP_LOOPBACK). Default false: https only. */
  allowHttpLoopback?: boolean;
}

/** The ask's callback, or the deployment's default; problems are pushed by field. */
export function resolveCallback(
  request: z.output<typeof callbackSchema> | undefined,
  defaults: WebhookDefaults | undefined,
  problems: string[],
): NormalizedCallback | undefined {
  const retryForMs = defaults?.retryForMs ?? 3_600_000;
  const defaultSecretName =
    defaults?.defaultSecretName ?? (defaults?.secretNames.length === 1 ? defaults.secretNames[0] : undefined);
  if (!request) {
    if (!defaults?.url || !defaultSecretName) return undefined;
    return { url: defaults.url, secretName: defaultSecretName, events: defaults.events, retryForMs };
  }
  const events = request.events ?? ['ended'];
  if (!webhookHostAllowed(request.url, defaults?.allowedHosts)) {
    problems.push(
      `callback.url: ${new URL(request.url).hostname} is not a webhook host this deployment allows (SMS_ASK_WEBHOOK_ALLOWED_HOSTS)`,
    );
    return undefined;
  }
  if (!webhookSchemeAllowed(request.url, defaults?.allowHttpLoopback)) {
    problems.push(`callback.url: ${HTTP_CALLBACK_REFUSED}`);
    return undefined;
  }
  if (request.secret !== undefined && request.secretName !== undefined) {
    problems.push('callback.secretName: give secret or secretName, not both');
    return undefined;
  }
  if (
    request.authorization !== undefined &&
    defaults &&
    !(defaults.authorizationNames ?? []).includes(request.authorization)
  ) {
    const names = defaults.authorizationNames ?? [];
    const known = names.length
      ? `the deployment has ${names.join(', ')}`
      : 'the deployment has none (SMS_ASK_WEBHOOK_AUTHORIZATIONS)';
    problems.push(`callback.authorization: no webhook authorization named "${request.authorization}"; ${known}`);
    return undefined;
  }
  const authorization = request.authorization === undefined ? {} : { authorization: request.authorization };
  if (request.secret !== undefined)
    return { url: request.url, secret: request.secret, ...authorization, events, retryForMs };
  const secretName = request.secretName ?? defaultSecretName;
  if (secretName === undefined) {
    problems.push(
      'callback.secret: give secret or secretName; the deployment has no default webhook secret (SMS_ASK_WEBHOOK_SECRETS)',
    );
    return undefined;
  }
  if (defaults && !defaults.secretNames.includes(secretName)) {
    const known = defaults.secretNames.length
      ? `the deployment has ${defaults.secretNames.join(', ')}`
      : 'the deployment has none (SMS_ASK_WEBHOOK_SECRETS)';
    problems.push(`callback.secretName: no webhook secret named "${secretName}"; ${known}`);
    return undefined;
  }
  return { url: request.url, secretName, ...authorization, events, retryForMs };
}
