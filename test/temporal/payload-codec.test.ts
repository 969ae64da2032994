import { randomBytes } from 'node:crypto';
import { defaultPayloadConverter } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { createCodecServer, listen } from '../../src/temporal/codec-server';
import { loadSettings } from '../../src/config';
import { AesGcmPayloadCodec } from '../../src/temporal/payload-codec';
import { rawRequest } from '../support/raw-request';
import { parsePayloadKeys } from '../../src/temporal/payload-keys';

const key = (id: string) => `${id}:${randomBytes(32).toString('base64')}`;
const text = (bytes: Uint8Array | null | undefined) => Buffer.from(bytes ?? []).toString();

describe('AesGcmPayloadCodec', () => {
  const question = defaultPayloadConverter.toPayload({ question: 'Isolate host WS-042?', to: '+12065550142' });

  it('encrypts a payload so that nothing of it is readable, and decrypts it back', async () => {
    const codec = new AesGcmPayloadCodec(parsePayloadKeys(key('k1')));
    const [sealed] = await codec.encode([question]);
    expect(text(sealed!.metadata!.encoding)).toBe('binary/encrypted');
    expect(text(sealed!.metadata!['encryption-key-id'])).toBe('k1');
    expect(Buffer.from(sealed!.data!).toString('latin1')).not.toContain('WS-042');
    expect(Buffer.from(sealed!.data!).toString('latin1')).not.toContain('json/plain');
    const [opened] = await codec.decode([sealed!]);
    expect(defaultPayloadConverter.fromPayload(opened!)).toEqual({
      question: 'Isolate host WS-042?',
      to: '+12065550142',
    });
  });

  it('rotates by adding a key: new payloads use the first key, old ones still decrypt', async () => {
    const old = key('2025');
    const [sealedOld] = await new AesGcmPayloadCodec(parsePayloadKeys(old)).encode([question]);
    const rotated = new AesGcmPayloadCodec(parsePayloadKeys(`${key('2026')},${old}`));
    const [sealedNew] = await rotated.encode([question]);
    expect(text(sealedNew!.metadata!['encryption-key-id'])).toBe('2026');
    const opened = await rotated.decode([sealedOld!, sealedNew!]);
    expect(opened.map((p) => defaultPayloadConverter.fromPayload(p))).toEqual([
      defaultPayloadConverter.fromPayload(question),
      defaultPayloadConverter.fromPayload(question),
    ]);
  });

  it('refuses a payload sealed with a key it does not hold, or tampered with', async () => {
    const [sealed] = await new AesGcmPayloadCodec(parsePayloadKeys(key('gone'))).encode([question]);
    const codec = new AesGcmPayloadCodec(parsePayloadKeys(key('k1')));
    await expect(codec.decode([sealed!])).rejects.toThrow('key "gone", which SMS_ASK_PAYLOAD_KEYS does not hold');

    const own = new AesGcmPayloadCodec(parsePayloadKeys(key('k1')));
    const [mine] = await own.encode([question]);
    const data = Buffer.from(mine!.data!);
    data[20] = data[20]! ^ 1;
    await expect(own.decode([{ ...mine!, data }])).rejects.toThrow();
  });

  it('reads payloads written in clear before encryption was turned on', async () => {
    const codec = new AesGcmPayloadCodec(parsePayloadKeys(key('k1')));
    expect(await codec.decode([question])).toEqual([question]);
  });
});

describe('SMS_ASK_PAYLOAD_KEYS', () => {
  it('names what is wrong with a key', () => {
    expect(() => loadSettings({ SMS_ASK_PAYLOAD_KEYS: 'k1:c2hvcnQ=' })).toThrow(
      /SMS_ASK_PAYLOAD_KEYS \(payloadKeys\): key "k1" is 5 bytes; AES-256 needs 32/,
    );
    expect(() => loadSettings({ SMS_ASK_PAYLOAD_KEYS: randomBytes(32).toString('base64') })).toThrow(
      /entry 1: write it as <id>:<base64 key>/,
    );
    const dup = key('k1');
    expect(() => loadSettings({ SMS_ASK_PAYLOAD_KEYS: `${dup},${dup}` })).toThrow(/key id "k1" is given twice/);
  });
});

describe('codec server', () => {
  it('decodes for the Temporal UI, and answers its CORS preflight only for the origins given', async () => {
    const codec = new AesGcmPayloadCodec(parsePayloadKeys(key('k1')));
    const server = createCodecServer(codec, { corsOrigins: ['http://localhost:8233'] });
    const url = await listen(server, '127.0.0.1', 0);
    try {
      const [sealed] = await codec.encode([question()]);
      const json = {
        payloads: [
          {
            metadata: Object.fromEntries(
              Object.entries(sealed!.metadata!).map(([k, v]) => [k, Buffer.from(v).toString('base64')]),
            ),
            data: Buffer.from(sealed!.data!).toString('base64'),
          },
        ],
      };
      const res = await fetch(`${url}/decode`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-namespace': 'default' },
        body: JSON.stringify(json),
      });
      expect(res.status).toBe(200);
      const body = (await res.json()) as { payloads: { data: string }[] };
      expect(Buffer.from(body.payloads[0]!.data, 'base64').toString()).toBe('"Yes"');

      const allowed = await fetch(`${url}/decode`, { method: 'OPTIONS', headers: { origin: 'http://localhost:8233' } });
      expect(allowed.headers.get('access-control-allow-origin')).toBe('http://localhost:8233');
      const other = await fetch(`${url}/decode`, { method: 'OPTIONS', headers: { origin: 'https://evil.example' } });
      expect(other.headers.get('access-control-allow-origin')).toBeNull();

      expect(
        (
          await fetch(`${url}/decode`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: 'not json',
          })
        ).status,
      ).toBe(400);
    } finally {
      server.close();
    }
  });

  it('answers only its own host names, the listed origins and JSON, and says nothing of why a payload did not decode', async () => {
    const codec = new AesGcmPayloadCodec(parsePayloadKeys(key('k1')));
    const server = createCodecServer(codec, { corsOrigins: ['http://localhost:8233'] });
    const url = await listen(server, '127.0.0.1', 0);
    const post = (headers: Record<string, string>, body: string) =>
      rawRequest(`${url}/decode`, { method: 'POST', headers, body });
    try {
      const [sealed] = await codec.encode([question()]);
      const json = JSON.stringify({
        payloads: [
          {
            metadata: Object.fromEntries(
              Object.entries(sealed!.metadata!).map(([k, v]) => [k, Buffer.from(v).toString('base64')]),
            ),
            data: Buffer.from(sealed!.data!).toString('base64'),
          },
        ],
      });
      const jsonType = { 'content-type': 'application/json' };
      expect((await post({ ...jsonType, host: 'localhost' }, json)).status).toBe(200);
      // A page that rebound its own name to 127.0.0.1, a page of another origin, a form post.
      const rebound = await post({ ...jsonType, host: 'rebind.evil.example' }, json);
      expect(rebound.status).toBe(421);
      expect(rebound.body).not.toContain('Yes');
      expect((await post({ ...jsonType, origin: 'https://evil.example' }, json)).status).toBe(403);
      expect((await post({ 'content-type': 'text/plain' }, json)).status).toBe(415);

      const otherKeys = new AesGcmPayloadCodec(parsePayloadKeys(key('k1')));
      const [foreign] = await otherKeys.encode([question()]);
      const tampered = JSON.stringify({
        payloads: [
          {
            metadata: Object.fromEntries(
              Object.entries(foreign!.metadata!).map(([k, v]) => [k, Buffer.from(v).toString('base64')]),
            ),
            data: Buffer.from(foreign!.data!).toString('base64'),
          },
        ],
      });
      const refused = await post(jsonType, tampered);
      expect(refused.status).toBe(400);
      expect(JSON.parse(refused.body)).toEqual({
        error: "the payloads could not be encoded or decoded with this server's keys",
      });
    } finally {
      server.close();
    }
  });

  function question() {
    return defaultPayloadConverter.toPayload('Yes');
  }
});
