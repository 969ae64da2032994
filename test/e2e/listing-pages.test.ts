/**
 * The listings a page at a time, on the local stack: every ask exactly once across the pages, in
 * the listing's order, however the asks' deadlines tie; codes read for a page's asks only.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { eventually, newPhone, startTestWorker } from '../support/harness';
import type { TestWorker } from '../support/harness';
import { startTestApi } from '../support/http';
import type { TestApi } from '../support/http';

const CODES_KEY = `codes-${randomUUID()}`;
let worker: TestWorker;
let api: TestApi;

beforeAll(async () => {
  worker = await startTestWorker();
  api = await startTestApi(worker, {
    httpKeyless: false,
    httpApiKeys: [{ name: 'helpdesk', scope: 'codes', key: CODES_KEY }],
  });
});
afterAll(async () => {
  await api?.close();
  await worker?.stop();
});

const get = async (path: string) => {
  const res = await api.call('GET', path, { key: CODES_KEY });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body as { asks: { askId: string; deadline?: string; codes?: Record<string, unknown[]> }[]; next?: string };
};

async function allPages(path: string) {
  const pages: string[][] = [];
  let next: string | undefined;
  do {
    const page = await get(`${path}${next ? `&after=${next}` : ''}`);
    pages.push(page.asks.map((a) => a.askId));
    next = page.next;
  } while (next && pages.length < 20);
  return pages;
}

it('gives every pending ask once across pages, soonest deadline first, and every ended one once, most recent first', async () => {
  const incident = `pages-${randomUUID()}`;
  // Three deadlines, two of them shared: the cursor must tell tied asks apart.
  const timeouts = ['3h', '1h', '2h', '2h', '1h', '3h', '2h'];
  const started = [];
  for (const timeout of timeouts) {
    started.push(
      await worker.asks.start({ to: newPhone(), question: 'Lock account jdoe?', timeout, context: { incident } }),
    );
  }
  const ids = started.map((s) => s.askId);
  await eventually(
    async () =>
      (await get(`/v1/asks/pending?incident=${incident}&limit=500`)).asks.length === ids.length ? true : undefined,
    'all 7 asks listed',
    30_000,
  );

  const whole = (await get(`/v1/asks/pending?incident=${incident}`)).asks;
  expect(whole.map((a) => a.deadline)).toEqual([...whole.map((a) => a.deadline!)].sort());
  const pages = await allPages(`/v1/asks/pending?incident=${incident}&limit=2`);
  expect(pages.map((p) => p.length)).toEqual([2, 2, 2, 1]);
  expect(pages.flat()).toEqual(whole.map((a) => a.askId));
  expect(new Set(pages.flat())).toEqual(new Set(ids));

  // Codes for the page's asks, once each phone's registration has handed them out.
  const withCodes = await eventually(
    async () => {
      const page = await get(`/v1/asks/pending?incident=${incident}&limit=3&codes=true`);
      return page.asks.every((ask) => Object.values(ask.codes ?? {})[0]?.length === 2) ? page : undefined;
    },
    'the codes of the first page',
    30_000,
  );
  expect(withCodes.asks.map((a) => a.askId)).toEqual(pages.flat().slice(0, 3));

  for (const askId of ids) await worker.asks.cancel(askId, { by: 'test' });
  const endedPath = `/v1/asks/ended?since=1h&limit=3`;
  await eventually(
    async () => {
      const listed = (await allPages(endedPath)).flat();
      return ids.every((id) => listed.includes(id)) ? true : undefined;
    },
    'all 7 asks in the ended listing',
    30_000,
  );
  const ended = await allPages(endedPath);
  const flat = ended.flat();
  expect(new Set(flat).size).toBe(flat.length);
  for (const id of ids) expect(flat).toContain(id);
  expect(ended.slice(0, -1).every((page) => page.length === 3)).toBe(true);
  // Most recent first: the last cancelled comes before the first.
  expect(flat.indexOf(ids.at(-1)!)).toBeLessThan(flat.indexOf(ids[0]!));
}, 120_000);

it('refuses a cursor it did not give, and a page larger than its limit, naming the field', async () => {
  for (const [path, field] of [
    ['/v1/asks/pending?after=bm90LWEtY3Vyc29y', 'after'],
    ['/v1/asks/pending?after=%3Cscript%3E', 'after'],
    ['/v1/asks/ended?after=eyJwIjpbIjIwMjYtMDEtMDFUMDA6MDA6MDBaIiwiYXNrL3giXX0', 'after'],
    ['/v1/asks/pending?limit=501', 'limit'],
    ['/v1/asks/ended?limit=0', 'limit'],
  ] as const) {
    const res = await api.call('GET', path, { key: CODES_KEY });
    expect(res.status, path).toBe(400);
    expect(
      res.body.problems.map((p: { field: string }) => p.field),
      path,
    ).toContain(field);
  }
});
