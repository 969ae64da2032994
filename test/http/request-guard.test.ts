import { describe, expect, it } from 'vitest';
import {
  bareHostName,
  crossSiteRequest,
  foreignHost,
  hostRules,
  isJsonContentType,
} from '../../src/http/request-guard';

describe('host rules', () => {
  it('a keyless or loopback server answers only to loopback names, its public URL and the listed names', () => {
    const rules = hostRules({
      bindHost: '127.0.0.1',
      publicUrl: 'https://sms-ask.example.com',
      allowedHosts: ['ops.example.net'],
      keyless: true,
    });
    for (const host of [
      '127.0.0.1:8080',
      'localhost:8080',
      'LOCALHOST',
      'app.localhost:3000',
      '[::1]:8080',
      '127.8.9.10',
      'sms-ask.example.com',
      'ops.example.net:443',
    ]) {
      expect(foreignHost(host, rules), host).toBeUndefined();
    }
    // A page that pointed its own name at 127.0.0.1 (DNS rebinding), and look-alikes of allowed names.
    for (const host of [
      'evil.example:8080',
      'sms-ask.example.com.evil.example',
      'localhost.evil.example',
      '127.0.0.1.nip.io',
      '0.0.0.0:8080',
    ]) {
      expect(foreignHost(host, rules), host).toMatch(/does not answer to the host/);
    }
    expect(foreignHost(undefined, rules)).toMatch(/no Host header/);
  });

  it('a keyed server on every address cannot know its names and checks none until they are listed', () => {
    expect(foreignHost('anything.example', hostRules({ bindHost: '0.0.0.0', keyless: false }))).toBeUndefined();
    const listed = hostRules({ bindHost: '0.0.0.0', allowedHosts: ['sms-ask.internal'], keyless: false });
    expect(foreignHost('sms-ask.internal:8080', listed)).toBeUndefined();
    expect(foreignHost('localhost:8080', listed)).toMatch(/does not answer/);
    // Bound to one address: that address is its name.
    expect(
      foreignHost('10.0.0.5:8080', hostRules({ bindHost: '10.0.0.5', allowedHosts: ['a.example'], keyless: false })),
    ).toBeUndefined();
  });

  it('reads host names without their port, IPv6 included', () => {
    expect(bareHostName('Example.COM:8080')).toBe('example.com');
    expect(bareHostName('example.com.')).toBe('example.com');
    expect(bareHostName('[::1]:8080')).toBe('[::1]');
    expect(bareHostName('::1')).toBe('[::1]');
  });
});

describe('cross-site requests', () => {
  it('refuses what a page of another site makes the browser send, and passes clients that are not browsers', () => {
    expect(crossSiteRequest({ host: '127.0.0.1:8080' })).toBeUndefined();
    expect(
      crossSiteRequest({ host: '127.0.0.1:8080', origin: 'http://127.0.0.1:8080', 'sec-fetch-site': 'same-origin' }),
    ).toBeUndefined();
    expect(crossSiteRequest({ host: '127.0.0.1:8080', 'sec-fetch-site': 'none' })).toBeUndefined();
    expect(crossSiteRequest({ host: '127.0.0.1:8080', origin: 'https://evil.example' })).toMatch(
      /origin "https:\/\/evil.example"/,
    );
    // Another port of the same machine is another origin (a dev server, a malicious local page).
    expect(crossSiteRequest({ host: '127.0.0.1:8080', origin: 'http://127.0.0.1:3000' })).toMatch(/not this server's/);
    expect(crossSiteRequest({ host: '127.0.0.1:8080', origin: 'null' })).toMatch(/origin "null"/);
    expect(crossSiteRequest({ host: '127.0.0.1:8080', 'sec-fetch-site': 'cross-site' })).toMatch(/cross-site page/);
    expect(crossSiteRequest({ host: '127.0.0.1:8080', 'sec-fetch-site': 'same-site' })).toMatch(/same-site page/);
    // The server's public origin, behind a proxy that rewrites Host.
    expect(
      crossSiteRequest(
        { host: '127.0.0.1:8080', origin: 'https://sms-ask.example.com' },
        new Set(['https://sms-ask.example.com']),
      ),
    ).toBeUndefined();
  });

  it('knows JSON by its media type, with or without parameters', () => {
    expect(isJsonContentType('application/json')).toBe(true);
    expect(isJsonContentType('Application/JSON; charset=utf-8')).toBe(true);
    for (const type of [
      undefined,
      '',
      'text/plain',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
      'application/jsonp',
      'text/plain; application/json',
    ]) {
      expect(isJsonContentType(type), String(type)).toBe(false);
    }
  });
});
