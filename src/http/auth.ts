/**
 * Bearer API keys: each has a name (recorded as the operator in event logs) and a scope. Keys are
 * compared as SHA-256 digests in constant time, against every configured key, so neither the
 * position nor the length of a match shows in the timing. Keys are never logged.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';
import type { ApiKey } from '../config';

/** read < operate < codes: each allows what the one before it does. */
export type Scope = 'read' | 'operate' | 'codes';

const RANK: Record<Scope, number> = { read: 0, operate: 1, codes: 2 };

export interface Caller {
  /** The key's name, or "local" when no keys are configured (loopback only). */
  name: string;
  scope: Scope;
}

/** The caller a server without keys grants: only ever on a loopback address. */
export const LOCAL_CALLER: Caller = { name: 'local', scope: 'operate' };

const digest = (value: string) => createHash('sha256').update(value, 'utf8').digest();

export class ApiKeyAuthenticator {
  private readonly keys: { digest: Buffer; caller: Caller }[];

  constructor(keys: readonly ApiKey[]) {
    this.keys = keys.map((k) => ({ digest: digest(k.key), caller: { name: k.name, scope: k.scope } }));
  }

  get open(): boolean {
    return this.keys.length === 0;
  }

  /** The caller an Authorization header names, or undefined. With no keys configured, everyone is LOCAL_CALLER. */
  identify(authorization: string | undefined): Caller | undefined {
    if (this.open) return LOCAL_CALLER;
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
    if (!match) return undefined;
    const given = digest(match[1]!);
    let found: Caller | undefined;
    for (const key of this.keys) {
      // No early exit: every key is compared.
      if (timingSafeEqual(given, key.digest)) found = key.caller;
    }
    return found;
  }
}

export function allows(caller: Caller, needed: Scope): boolean {
  return RANK[caller.scope] >= RANK[needed];
}

/** True for addresses only this machine can reach: 127.0.0.0/8, ::1, localhost. */
export function isLoopbackHost(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, '');
  if (bare === 'localhost') return true;
  if (isIP(bare) === 4) return bare.startsWith('127.');
  if (isIP(bare) === 6) return bare === '::1' || /^::ffff:127\./i.test(bare);
  return false;
}
