/** Keys for payload encryption, from the SMS_ASK_PAYLOAD_KEYS setting. Free of Temporal's protobufs, so settings load fast. */

const KEY_BYTES = 32;
const KEY_ID_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;

export interface PayloadKey {
  id: string;
  key: Buffer;
}

/**
 * Reads `id:base64key,id:base64key…` (the first one encrypts). Throws a message that says what is
 * wrong with which entry, and never repeats a key.
 */
export function parsePayloadKeys(setting: string): PayloadKey[] {
  const keys = setting
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean)
    .map((entry, index) => {
      const colon = entry.indexOf(':');
      const id = colon > 0 ? entry.slice(0, colon) : '';
      if (!KEY_ID_PATTERN.test(id))
        throw new Error(`entry ${index + 1}: write it as <id>:<base64 key>, the id 1 to 64 letters, digits or ._-`);
      const key = Buffer.from(entry.slice(colon + 1), 'base64');
      if (key.length !== KEY_BYTES)
        throw new Error(
          `key "${id}" is ${key.length} bytes; AES-256 needs ${KEY_BYTES} (make one with: openssl rand -base64 32)`,
        );
      return { id, key };
    });
  if (keys.length === 0) throw new Error('no key given');
  const ids = new Set<string>();
  for (const { id } of keys) {
    if (ids.has(id)) throw new Error(`key id "${id}" is given twice`);
    ids.add(id);
  }
  return keys;
}
