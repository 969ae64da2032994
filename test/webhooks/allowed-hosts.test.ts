/** SMS_ASK_WEBHOOK_ALLOWED_HOSTS: a webhook goes only to the hosts the deployment names, whoever starts the ask. */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWebhookActivities } from '../../src/activities/webhook';
import { ConfigError, loadSettings, webhookDefaults } from '../../src/config';
import { InvalidAskError, normalizeAskRequest } from '../../src/domain/ask-request';
import { webhookHostAllowed } from '../../src/domain/callback';
import type { AskState } from '../../src/workflows/definitions';

const ALLOWED = ['hooks.example.com', '*.soar.example.net'];

describe('webhookHostAllowed', () => {
  it('allows any host when the deployment names none', () => {
    expect(webhookHostAllowed('http://10.0.0.7/hook', undefined)).toBe(true);
  });

  it('allows a listed host, and subdomains of a *. entry, in any case', () => {
    expect(webhookHostAllowed('https://HOOKS.example.com:8443/sms-ask?x=1', ALLOWED)).toBe(true);
    expect(webhookHostAllowed('https://eu.soar.example.net/in', ALLOWED)).toBe(true);
    expect(webhookHostAllowed('https://a.b.soar.example.net/in', ALLOWED)).toBe(true);
  });

  it('refuses every other host, however the URL dresses it up', () => {
    for (const url of [
      'http://169.254.169.254/latest/meta-data/',
      'http://127.0.0.1:8080/v1/sms',
      'https://soar.example.net/in', // the apex is not a subdomain
      'https://hooks.example.com.attacker.test/',
      'https://hooks.example.com@attacker.test/',
      'https://attacker.test/hooks.example.com',
      'https://xsoar.example.net/in',
      'not a url',
    ]) {
      expect(webhookHostAllowed(url, ALLOWED), url).toBe(false);
    }
  });
});

describe('an ask whose callback goes elsewhere', () => {
  const settings = loadSettings({ SMS_ASK_WEBHOOK_ALLOWED_HOSTS: ALLOWED.join(',') });
  const normalize = (url: string) =>
    normalizeAskRequest(
      { to: '+12065550142', question: 'Isolate host WS-042?', callback: { url, secret: 'a-secret-of-16-chars' } },
      { newEntitlement: () => 'e-1', webhooks: webhookDefaults(settings) },
    );

  it('is refused before anything is sent, naming the field and the setting', () => {
    expect(() => normalize('http://169.254.169.254/latest/meta-data/')).toThrow(InvalidAskError);
    expect(() => normalize('http://169.254.169.254/latest/meta-data/')).toThrow(
      /callback\.url: 169\.254\.169\.254 is not a webhook host .*SMS_ASK_WEBHOOK_ALLOWED_HOSTS/,
    );
  });

  it('is taken when the host is allowed', () => {
    expect(normalize('https://hooks.example.com/sms-ask').callback?.url).toBe('https://hooks.example.com/sms-ask');
    // No TLS: refused by default, to any host.
    expect(() => normalize('http://hooks.example.com/sms-ask')).toThrow(/callback\.url: use an https:\/\/ URL/);
  });

  it('refuses a default webhook URL outside the list when the settings load', () => {
    expect(() =>
      loadSettings({
        SMS_ASK_WEBHOOK_ALLOWED_HOSTS: 'hooks.example.com',
        SMS_ASK_WEBHOOK_URL: 'https://other.example.com/',
        SMS_ASK_WEBHOOK_SECRETS: 'soar=a-secret-of-16-chars',
      }),
    ).toThrow(ConfigError);
  });
});

describe('the webhook activity', () => {
  let requests = 0;
  const receiver = createServer((_req, res) => {
    requests++;
    res.end();
  });
  let url: string;
  beforeAll(async () => {
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
  });
  afterAll(() => new Promise<void>((resolve) => receiver.close(() => resolve())));

  const deliver = (allowedHosts: string, allowHttp = 'true') =>
    new MockActivityEnvironment().run(
      createWebhookActivities({
        settings: loadSettings({
          SMS_ASK_WEBHOOK_ALLOWED_HOSTS: allowedHosts,
          SMS_ASK_WEBHOOK_ALLOW_HTTP_LOOPBACK: allowHttp,
        }),
        logger: pino({ level: 'silent' }),
      }).deliverWebhook,
      {
        deliveryId: 'd-1',
        type: 'ask.ended' as const,
        url,
        secret: 'a-secret-of-16-chars',
        retryForMs: 60_000,
        createdAt: new Date().toISOString(),
        ask: { askId: 'ask/e-1' } as AskState,
      },
    );

  it('does not POST to a host outside the list, even for an ask started past the request checks, and does not retry', async () => {
    const error = await deliver('hooks.example.com').catch((err: unknown) => err);
    expect(error).toBeInstanceOf(ApplicationFailure);
    expect((error as ApplicationFailure).nonRetryable).toBe(true);
    expect((error as Error).message).toMatch(/not a webhook host this deployment allows/);
    expect(requests).toBe(0);
  });

  it('refuses an http:// URL, even to loopback, unless the deployment allows http to loopback', async () => {
    await expect(deliver('127.0.0.1', 'false')).rejects.toThrow(/use an https:\/\/ URL/);
    expect(requests).toBe(0);
  });

  it('POSTs to a listed host', async () => {
    await expect(deliver('127.0.0.1')).resolves.toMatchObject({ status: 200 });
    expect(requests).toBe(1);
  });
});
