import { describe, expect, it } from 'vitest';
import { ApiKeyAuthenticator, LOCAL_CALLER, allows, isLoopbackHost } from '../../src/http/auth';
import { ConfigError, loadSettings } from '../../src/config';

const keys = [
  { name: 'soar', scope: 'operate' as const, key: 'k-operate-0123456789abcdefghij' },
  { name: 'dash', scope: 'read' as const, key: 'k-read-0123456789abcdefghijkl' },
];

describe('API key authentication', () => {
  it('names the caller of a known bearer key, and nobody for an unknown or malformed header', () => {
    const auth = new ApiKeyAuthenticator(keys);
    expect(auth.identify('Bearer k-operate-0123456789abcdefghij')).toEqual({ name: 'soar', scope: 'operate' });
    expect(auth.identify('bearer k-read-0123456789abcdefghijkl')).toEqual({ name: 'dash', scope: 'read' });
    expect(auth.identify('Bearer k-operate-0123456789abcdefghiJ')).toBeUndefined();
    expect(auth.identify('Bearer k-operate')).toBeUndefined();
    expect(auth.identify('Basic k-operate-0123456789abcdefghij')).toBeUndefined();
    expect(auth.identify(undefined)).toBeUndefined();
  });

  it('lets everyone in as "local" only when no key is configured', () => {
    expect(new ApiKeyAuthenticator([]).identify(undefined)).toBe(LOCAL_CALLER);
  });

  it('lets an operate key do everything and a read key only read', () => {
    expect(allows({ name: 'dash', scope: 'read' }, 'read')).toBe(true);
    expect(allows({ name: 'dash', scope: 'read' }, 'operate')).toBe(false);
    expect(allows({ name: 'soar', scope: 'operate' }, 'operate')).toBe(true);
  });

  it('knows which addresses are loopback only', () => {
    for (const host of ['127.0.0.1', '127.8.9.10', '::1', '[::1]', 'localhost', '::ffff:127.0.0.1'])
      expect(isLoopbackHost(host), host).toBe(true);
    for (const host of ['0.0.0.0', '::', '10.0.0.5', 'example.com', '192.168.1.1'])
      expect(isLoopbackHost(host), host).toBe(false);
  });
});

describe('HTTP and webhook settings', () => {
  it('reads API keys and webhook secrets from the environment', () => {
    const settings = loadSettings({
      SMS_ASK_HTTP_API_KEYS: 'soar:operate:k-operate-0123456789abcdefghij, dash:read:k-read-0123456789abcdefghijkl',
      SMS_ASK_WEBHOOK_SECRETS: 'soar=whsec-0123456789abcdef',
      SMS_ASK_WEBHOOK_URL: 'https://soar.example.com/hooks/sms-ask',
      SMS_ASK_WEBHOOK_EVENTS: 'ended,escalated',
    });
    expect(settings.httpApiKeys).toEqual(keys);
    expect(settings.webhookSecrets).toEqual({ soar: 'whsec-0123456789abcdef' });
    expect(settings.webhookEvents).toEqual(['ended', 'escalated']);
  });

  it('says which key is wrong without printing it', () => {
    const load = () =>
      loadSettings({ SMS_ASK_HTTP_API_KEYS: 'soar:admin:short-secret-key, dash:read:k-read-0123456789abcdefghijkl' });
    expect(load).toThrow(ConfigError);
    try {
      load();
    } catch (err) {
      const message = (err as Error).message;
      expect(message).toMatch(/httpApiKeys\.0\.scope/);
      expect(message).toMatch(/httpApiKeys\.0\.key: at least 24 characters/);
      expect(message).not.toContain('short-secret-key');
    }
    expect(() =>
      loadSettings({
        SMS_ASK_HTTP_API_KEYS: 'dash:read:k-read-0123456789abcdefghijkl,dash:read:k-read-0123456789abcdefghijkm',
      }),
    ).toThrow(/the key name "dash" is used twice/);
    expect(() => loadSettings({ SMS_ASK_HTTP_API_KEYS: 'k-read-0123456789abcdefghijkl' })).toThrow(
      /entry 1 is not name:scope:key/,
    );
  });

  it('refuses a default webhook without a secret to sign it', () => {
    expect(() => loadSettings({ SMS_ASK_WEBHOOK_URL: 'https://soar.example.com/hooks' })).toThrow(
      /a default webhook needs a secret/,
    );
  });
});
