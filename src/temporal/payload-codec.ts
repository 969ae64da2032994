/**
 * Encryption of Temporal payloads (workflow inputs and results, signals, updates, queries, activity
 * inputs and results, heartbeats, memos, failure details when the failure converter encodes them),
 * so that questions, phone numbers, replies and codes are not stored in clear on the Temporal server.
 * AES-256-GCM with a random 96-bit nonce per payload; each encrypted payload names the key that
 * sealed it, so keys rotate by adding one: the first key encrypts, every key decrypts.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { Payload, PayloadCodec } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { parsePayloadKeys } from './payload-keys';
import type { PayloadKey } from './payload-keys';

const ENCODING = 'binary/encrypted';
const CIPHER_NAME = 'AES256GCM';
const NONCE_BYTES = 12;
const TAG_BYTES = 16;

/** What an unencrypted payload decodes to when encryption is required: `undefined`, which every handler ignores. */
const REFUSED: Payload = { metadata: { encoding: new TextEncoder().encode('binary/null') } };

const utf8 = (text: string) => new TextEncoder().encode(text);
const text = (bytes: Uint8Array | null | undefined) => (bytes ? new TextDecoder().decode(bytes) : undefined);

export class AesGcmPayloadCodec implements PayloadCodec {
  private readonly byId: Map<string, Buffer>;
  private readonly current: PayloadKey;

  /** `requireEncryption`: payloads not sealed by a key decode as nothing (SMS_ASK_PAYLOAD_REQUIRE_ENCRYPTION). Default false. */
  constructor(
    keys: readonly PayloadKey[],
    private readonly options: { requireEncryption?: boolean; onRefused?: () => void } = {},
  ) {
    if (!keys[0]) throw new Error('the payload codec needs at least one key');
    this.current = keys[0];
    this.byId = new Map(keys.map((k) => [k.id, k.key]));
  }

  async encode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => {
      const plain = temporal.api.common.v1.Payload.encode(payload).finish();
      const nonce = randomBytes(NONCE_BYTES);
      const cipher = createCipheriv('aes-256-gcm', this.current.key, nonce);
      // The key id is bound to the ciphertext: a payload cannot be passed off as sealed by another key.
      cipher.setAAD(utf8(this.current.id));
      const sealed = Buffer.concat([nonce, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
      return {
        metadata: {
          encoding: utf8(ENCODING),
          'encryption-cipher': utf8(CIPHER_NAME),
          'encryption-key-id': utf8(this.current.id),
        },
        data: sealed,
      };
    });
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => {
      if (text(payload.metadata?.encoding) !== ENCODING) {
        // Payloads written before encryption was turned on stay readable, unless the deployment says
        // none is left: then a plaintext signal or update (sent without the codec) carries nothing.
        if (!this.options.requireEncryption) return payload;
        this.options.onRefused?.();
        return REFUSED;
      }
      const keyId = text(payload.metadata?.['encryption-key-id']) ?? '';
      const key = this.byId.get(keyId);
      if (!key)
        throw new Error(
          `a payload is encrypted with key "${keyId}", which SMS_ASK_PAYLOAD_KEYS does not hold; add that key (new keys go first)`,
        );
      const sealed = Buffer.from(payload.data ?? new Uint8Array());
      if (sealed.length < NONCE_BYTES + TAG_BYTES) throw new Error('an encrypted payload is too short to be one');
      const decipher = createDecipheriv('aes-256-gcm', key, sealed.subarray(0, NONCE_BYTES));
      decipher.setAAD(utf8(keyId));
      decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
      const plain = Buffer.concat([
        decipher.update(sealed.subarray(NONCE_BYTES, sealed.length - TAG_BYTES)),
        decipher.final(),
      ]);
      return temporal.api.common.v1.Payload.decode(plain);
    });
  }
}

/** The codecs for a client's or worker's data converter: none without keys. */
export function payloadCodecsFor(
  payloadKeys: string | undefined,
  options: { requireEncryption?: boolean; onRefused?: () => void } = {},
): PayloadCodec[] {
  return payloadKeys ? [new AesGcmPayloadCodec(parsePayloadKeys(payloadKeys), options)] : [];
}
