import { describe, expect, it } from 'vitest';
import { verifyWebhookSignature, webhookSignature } from '../../src/webhooks/signature';

const secret = 'whsec-0123456789abcdef';
const body = '{"id":"webhook/ask/x/ended","type":"ask.ended"}';
const now = Date.parse('2026-11-30T12:00:00Z');
const t = now / 1000;

describe('webhook signatures', () => {
  it('signs the timestamp and the body with HMAC-SHA256, as t=…,v1=…', () => {
    expect(webhookSignature(secret, t, body)).toMatch(new RegExp(`^t=${t},v1=[0-9a-f]{64}$`));
    expect(() => verifyWebhookSignature(webhookSignature(secret, t, body), body, secret, { now })).not.toThrow();
  });

  it('refuses another body, another secret, a stale timestamp and a missing header', () => {
    const header = webhookSignature(secret, t, body);
    expect(() => verifyWebhookSignature(header, body.replace('ended', 'escalated'), secret, { now })).toThrow(
      /does not match/,
    );
    expect(() => verifyWebhookSignature(header, body, 'whsec-another-secret', { now })).toThrow(/does not match/);
    expect(() => verifyWebhookSignature(header, body, secret, { now: now + 301_000 })).toThrow(/too old/);
    expect(() => verifyWebhookSignature(undefined, body, secret, { now })).toThrow(/no sms-ask-signature header/);
    // The timestamp is signed: moving it forward breaks the signature.
    expect(() => verifyWebhookSignature(header.replace(`t=${t}`, `t=${t + 1}`), body, secret, { now })).toThrow(
      /does not match/,
    );
  });

  it('accepts any of several v1 signatures, so a secret can be rotated', () => {
    const old = webhookSignature('whsec-old-secret-0000', t, body).split(',')[1]!;
    expect(() =>
      verifyWebhookSignature(`${webhookSignature(secret, t, body)},${old}`, body, 'whsec-old-secret-0000', { now }),
    ).not.toThrow();
  });
});
