/** What the CLI prints never holds a secret from its settings: API keys, webhook secrets, payload keys, tokens. */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { redactSecrets, secretsOf } from '../../src/cli/output';
import { loadSettings } from '../../src/config';

describe('CLI output redaction', () => {
  const apiKey = randomBytes(24).toString('hex');
  const webhookSecret = randomBytes(16).toString('hex');
  const payloadKey = randomBytes(32).toString('base64');
  const env = {
    SMS_ASK_HTTP_API_KEYS: `soar:operate:${apiKey}`,
    SMS_ASK_WEBHOOK_SECRETS: `soar=${webhookSecret}`,
    SMS_ASK_PAYLOAD_KEYS: `k1:${payloadKey}`,
    SMS_ASK_TWILIO_AUTH_TOKEN: 'twilio-auth-token-0123456789',
    TEMPORAL_API_KEY: 'temporal-cloud-api-key-0123',
  };

  it('removes every secret the settings and the environment hold, and nothing else', () => {
    const secrets = secretsOf(loadSettings(env), env);
    const text = `error: refused ${apiKey}; signed with ${webhookSecret}; key ${payloadKey}; token twilio-auth-token-0123456789; temporal-cloud-api-key-0123 for soar at +12065550142`;
    const printed = redactSecrets(text, secrets);
    for (const secret of [
      apiKey,
      webhookSecret,
      payloadKey,
      'twilio-auth-token-0123456789',
      'temporal-cloud-api-key-0123',
    ])
      expect(printed).not.toContain(secret);
    expect(printed).toBe(
      'error: refused [redacted]; signed with [redacted]; key [redacted]; token [redacted]; [redacted] for soar at +12065550142',
    );
  });

  it('still redacts what the environment holds when the settings did not load', () => {
    expect(redactSecrets(`bad key ${payloadKey}`, secretsOf(undefined, env))).toBe('bad key [redacted]');
  });
});
