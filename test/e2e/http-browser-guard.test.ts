/**
 * What a web page open in the operator's browser can make it send to a keyless API on loopback:
 * cross-site form posts and no-cors fetches, and requests by a name the page rebound to 127.0.0.1.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestWorker } from '../support/harness';
import type { TestWorker } from '../support/harness';
import { startTestApi } from '../support/http';
import { rawRequest } from '../support/raw-request';
import type { TestApi } from '../support/http';
import { newPhone } from '../support/harness';

let worker: TestWorker;
let api: TestApi;

beforeAll(async () => {
  worker = await startTestWorker();
  api = await startTestApi(worker, { httpKeyless: true });
});
afterAll(async () => {
  await api?.close();
  await worker?.stop();
});

/** What a browser would send: Host and its own headers exactly as given. */
const send = (method: string, path: string, headers: Record<string, string>, body?: string) =>
  rawRequest(`${api.url}${path}`, { method, headers, ...(body !== undefined && { body }) });

async function waitingAsk(): Promise<string> {
  const entitlement = `guard-${randomUUID()}`;
  const started = await api.call('POST', '/v1/asks', {
    body: { to: newPhone(), question: 'Isolate host WS-042?', entitlement, timeout: '1h' },
  });
  expect(started.status).toBe(201);
  return entitlement;
}

const statusOf = async (entitlement: string) =>
  (await api.call('GET', `/v1/asks/${entitlement}`)).body.status as string;

describe('keyless API on loopback', () => {
  it('refuses cross-site posts of every kind a page can send without a preflight, and the ask goes on waiting', async () => {
    const entitlement = await waitingAsk();
    const cancel = `/v1/asks/${entitlement}/cancel`;
    const evil = { origin: 'https://evil.example', 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'no-cors' };
    // fetch(url, {method: 'POST', mode: 'no-cors'}) with no body; an HTML form; a text/plain fetch.
    expect((await send('POST', cancel, evil)).status).toBe(403);
    expect(
      (await send('POST', cancel, { ...evil, 'content-type': 'application/x-www-form-urlencoded' }, 'reason=x')).status,
    ).toBe(403);
    expect((await send('POST', cancel, { ...evil, 'content-type': 'text/plain' }, '{"reason":"x"}')).status).toBe(403);
    // A browser that sends only Origin, or only Sec-Fetch-Site; another port of the same machine.
    expect((await send('POST', cancel, { origin: 'https://evil.example' })).status).toBe(403);
    expect((await send('POST', cancel, { 'sec-fetch-site': 'same-site' })).status).toBe(403);
    expect(
      (await send('POST', cancel, { origin: 'http://127.0.0.1:1', 'content-type': 'application/json' }, '{}')).status,
    ).toBe(403);
    // A browser that sends neither: its form or no-cors fetch cannot send JSON.
    const bare = await send('POST', cancel, {});
    expect(bare.status).toBe(415);
    expect(JSON.parse(bare.body).message).toMatch(/Content-Type: application\/json/);
    expect(
      (await send('POST', cancel, { 'content-type': 'application/x-www-form-urlencoded' }, 'reason=x')).status,
    ).toBe(415);
    expect((await send('POST', cancel, { 'content-type': 'text/plain' }, '{"reason":"x"}')).status).toBe(415);
    expect(await statusOf(entitlement)).toBe('waiting');

    // The console's own page (same origin) and clients that are not browsers still act.
    const host = new URL(api.url).host;
    const own = await send(
      'POST',
      `/v1/asks/${entitlement}/resend`,
      { origin: api.url, 'sec-fetch-site': 'same-origin', 'content-type': 'application/json', host },
      '',
    );
    expect(own.status).toBe(200);
    const cancelled = await send('POST', cancel, { 'content-type': 'application/json' }, '{"reason":"test done"}');
    expect(cancelled.status).toBe(200);
    expect(await statusOf(entitlement)).toBe('cancelled');
  });

  it('answers nothing to a name a page rebound to 127.0.0.1, so the page can read no ask and no code', async () => {
    const entitlement = await waitingAsk();
    const port = new URL(api.url).port;
    for (const path of ['/v1/asks/pending', `/v1/asks/${entitlement}`, '/console', '/v1/openapi.json']) {
      const rebound = await send('GET', path, { host: `rebind.evil.example:${port}` });
      expect(rebound.status, path).toBe(421);
      expect(rebound.body).not.toContain(entitlement);
      expect(rebound.body).toMatch(/SMS_ASK_HTTP_ALLOWED_HOSTS/);
    }
    const posted = await send(
      'POST',
      `/v1/asks/${entitlement}/cancel`,
      { host: `rebind.evil.example:${port}`, 'content-type': 'application/json' },
      '{}',
    );
    expect(posted.status).toBe(421);
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`]) {
      const res = await send('GET', `/v1/asks/${entitlement}`, { host });
      expect(res.status, host).toBe(200);
    }
    expect(await statusOf(entitlement)).toBe('waiting');
    await api.call('POST', `/v1/asks/${entitlement}/cancel`, { body: { reason: 'test done' } });
  });
});

describe('a listed host name', () => {
  it('is answered, beside the loopback names', async () => {
    const named = await startTestApi(worker, { httpKeyless: true, httpAllowedHosts: 'sms-ask.internal' });
    try {
      const port = new URL(named.url).port;
      const get = async (host: string) => (await rawRequest(`${named.url}/v1/caller`, { headers: { host } })).status;
      expect(await get(`sms-ask.internal:${port}`)).toBe(200);
      expect(await get(`localhost:${port}`)).toBe(200);
      expect(await get(`sms-ask.internal.evil.example:${port}`)).toBe(421);
    } finally {
      await named.close();
    }
  });
});
