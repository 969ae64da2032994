/**
 * What a browser can be made to send to a server on loopback: a page on another site may POST a
 * form or a no-cors fetch to http://127.0.0.1:8080 (cross-site request), or point a name it owns at
 * 127.0.0.1 and read the answers as its own origin (DNS rebinding). The first carries an Origin or
 * Sec-Fetch-Site header of that site; the second a Host header of that name. Servers without keys
 * and servers on loopback answer only to their own names, and the API refuses cross-site requests.
 */
import { isLoopbackHost } from './auth';

export interface HostRules {
  /** Whether Host is checked at all: a server on 0.0.0.0 with keys and no list cannot know its names. */
  enforced: boolean;
  /** Host names (no port) the server answers to. */
  names: ReadonlySet<string>;
  /** Also every loopback name: localhost, *.localhost, 127.0.0.0/8, [::1]. */
  loopback: boolean;
}

const WILDCARD_HOSTS = new Set(['0.0.0.0', '::', '[::]']);

/**
 * The names a server listening on `bindHost` answers to. A loopback or keyless server always checks;
 * one on another address checks when the deployment lists its names (or gives its public URL).
 */
export function hostRules({
  bindHost,
  publicUrl,
  allowedHosts = [],
  keyless,
}: {
  bindHost: string;
  publicUrl?: string;
  allowedHosts?: readonly string[];
  keyless: boolean;
}): HostRules {
  const names = new Set(allowedHosts.map(bareHostName));
  if (publicUrl) names.add(bareHostName(new URL(publicUrl).host));
  const onLoopback = isLoopbackHost(bindHost);
  if (!onLoopback && !WILDCARD_HOSTS.has(bindHost)) names.add(bareHostName(bindHost));
  return { enforced: keyless || onLoopback || allowedHosts.length > 0, names, loopback: onLoopback || keyless };
}

/** "Example.COM:8080" → "example.com"; "[::1]:80" → "[::1]". */
export function bareHostName(host: string): string {
  const lower = host.trim().toLowerCase().replace(/\.$/, '');
  if (lower.startsWith('[')) return lower.slice(0, lower.indexOf(']') + 1);
  const colons = lower.split(':').length - 1;
  // A bare IPv6 address (more than one colon) has no port to strip.
  const name = colons === 1 ? lower.slice(0, lower.indexOf(':')) : colons > 1 ? `[${lower}]` : lower;
  return name.replace(/\.$/, '');
}

function isLoopbackName(name: string): boolean {
  return name === 'localhost' || name.endsWith('.localhost') || isLoopbackHost(name);
}

/** Why a request's Host header is refused, or undefined when the server answers to it. */
export function foreignHost(host: string | undefined, rules: HostRules): string | undefined {
  if (!rules.enforced) return undefined;
  if (!host) return 'the request has no Host header';
  const name = bareHostName(host);
  if (rules.names.has(name) || (rules.loopback && isLoopbackName(name))) return undefined;
  return `this server does not answer to the host "${name}"`;
}

/**
 * Why a request is taken for one a page of another site made the browser send, or undefined.
 * Clients other than browsers send neither header and pass; a browser's same-origin request passes.
 */
export function crossSiteRequest(
  headers: { origin?: string; host?: string; 'sec-fetch-site'?: string },
  allowedOrigins: ReadonlySet<string> = new Set(),
): string | undefined {
  const site = headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin' && site !== 'none')
    return `the browser says this request comes from a ${site} page`;
  const origin = headers.origin;
  if (origin === undefined) return undefined;
  if (allowedOrigins.has(origin.toLowerCase())) return undefined;
  let originHost: string;
  try {
    originHost = new URL(origin).host.toLowerCase();
  } catch {
    return `the request comes from the origin "${origin}"`;
  }
  return originHost === (headers.host ?? '').toLowerCase()
    ? undefined
    : `the request comes from the origin "${origin}", not this server's`;
}

/** Whether a Content-Type header says JSON (application/json, with or without parameters). */
export function isJsonContentType(contentType: string | undefined): boolean {
  return /^application\/json\s*(;|$)/i.test(contentType ?? '');
}
