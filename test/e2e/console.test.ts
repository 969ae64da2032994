/**
 * The operator console in a real browser (Debian's chromium, headless) on the local stack: a real
 * worker, the Temporal dev server, moto, SNS → SQS replies, and the HTTP API that serves the page.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { provisionInboundResources } from '../../src/local-stack/local-stack';
import { publishPhoneReply, waitForSms } from '../../src/local-stack/phone-simulator';
import { maskPhone } from '../../src/domain/phone-mask';
import { ensureInboundPoller } from '../../src/worker/worker';
import { launchBrowser, screenshotPath } from '../support/browser';
import type { TestBrowser } from '../support/browser';
import { localAws, newPhone, sharedStack, startTestWorker } from '../support/harness';
import type { TestWorker } from '../support/harness';
import { startTestApi } from '../support/http';
import type { TestApi } from '../support/http';

const OPERATE_KEY = `op-${randomUUID()}`;
const READ_KEY = `ro-${randomUUID()}`;
/** Generous: the console polls every 5 s, and the machine may be busy. */
const SEEN_WITHIN = { timeout: 45_000 };

let worker: TestWorker;
let api: TestApi;
let topicArn: string;
let browser: TestBrowser;
/** Every URL the browser asked for, to check that nothing left sms-ask and no key went into one. */
const requested: string[] = [];
/** Script errors and refusals the page met (a Content-Security-Policy violation is one); the 403s and the 409 the tests ask for are not. */
const pageErrors: string[] = [];

beforeAll(async () => {
  const name = `console-${randomUUID().slice(0, 8)}`;
  const inbound = await provisionInboundResources({
    ...localAws(),
    queueName: name,
    topicName: name,
    visibilityTimeoutSeconds: 5,
    maxReceiveCount: 3,
  });
  topicArn = inbound.topicArn;
  worker = await startTestWorker({ queueUrl: inbound.queueUrl, pollWaitSeconds: 1 });
  await ensureInboundPoller(worker.client, worker.settings);
  api = await startTestApi(worker, {
    httpApiKeys: [
      { name: 'shift-lead', scope: 'operate', key: OPERATE_KEY },
      { name: 'wallboard', scope: 'read', key: READ_KEY },
    ],
  });
  browser = await launchBrowser();
  browser.context.on('request', (request) => requested.push(request.url()));
  browser.context.on('page', (page) => {
    page.on('pageerror', (err) => pageErrors.push(String(err)));
    page.on('console', (message) => {
      if (
        message.type() === 'error' &&
        !/Failed to load resource: the server responded with a status of (403|409)/.test(message.text())
      )
        pageErrors.push(message.text());
    });
  });
});
afterAll(async () => {
  await browser?.close();
  await api?.close();
  await worker?.stop();
});

const codeOf = (sms: string, label: string) => new RegExp(`${label} \\((\\d+)\\)`).exec(sms)![1]!;

async function startAsk(question: string, phone: string, extra: Record<string, unknown> = {}): Promise<string> {
  const entitlement = `console-${randomUUID()}`;
  const res = await api.call('POST', '/v1/asks', {
    key: OPERATE_KEY,
    body: { to: [phone], question, entitlement, timeout: '1h', ...extra },
  });
  expect(res.status).toBe(201);
  return res.body.askId as string;
}

/** A new tab on the console, signed in with the key as a person would: typed into the form. */
async function openConsole(key: string, viewport?: { width: number; height: number }): Promise<Page> {
  const page = await browser.context.newPage();
  if (viewport) await page.setViewportSize(viewport);
  await page.goto(`${api.url}/console`);
  await page.getByLabel('API key').fill(key);
  await page.getByLabel('API key').press('Enter');
  await page.locator('#list-view').waitFor(SEEN_WITHIN);
  return page;
}

const pendingRow = (page: Page, question: string) => page.locator('#pending tbody tr', { hasText: question });
const recentRow = (page: Page, question: string) => page.locator('#recent tbody tr', { hasText: question });
const actionButtons = (page: Page) => page.getByRole('button', { name: /^(Answer|Extend|Resend|Cancel)…$/ });

describe('the operator console', () => {
  it('lists new asks with masked numbers, filters them, and moves one to Recent with its answer once the phone replies', async () => {
    const page = await openConsole(OPERATE_KEY);
    expect(await page.locator('#who').textContent()).toBe('shift-lead (operate)');
    const phone = newPhone();
    const tag = randomUUID().slice(0, 6);
    const question = `Isolate host WS-${tag}?`;
    const escalating = `Page the backup on-call for DB-${tag}?`;
    const other = `Reset MFA for asmith-${tag}?`;
    const [, escalatingId, otherId] = await Promise.all([
      startAsk(question, phone, { context: { incident: '1042' } }),
      startAsk(escalating, newPhone(), {
        timeout: undefined,
        policy: { timeout: '2h', escalation: [{ after: '2s', to: [newPhone()] }] },
        context: { incident: '1043' },
      }),
      startAsk(other, newPhone(), { timeout: '30m', context: { incident: '1044' } }),
    ]);

    const row = pendingRow(page, question);
    await row.waitFor(SEEN_WITHIN);
    const cells = await row.locator('td').allTextContents();
    expect(cells[1]).toBe(maskPhone(phone));
    expect(cells[7]).toBe('1042');
    expect(cells[5]).toMatch(/^(\d+m \d\ds|1h 00m)$/);
    expect(await row.locator('.countdown').getAttribute('class')).not.toContain('overdue');
    expect(await page.locator('body').textContent()).not.toContain(phone.slice(1));
    expect(await page.locator('#updated').textContent()).toMatch(/^Updated \d/);
    // Soonest deadline first; the escalation shows without a reload.
    await pendingRow(page, escalating).locator('td[data-label="Tier"]', { hasText: '1' }).waitFor(SEEN_WITHIN);
    const order = await page.locator('#pending tbody tr td[data-label="Question"]').allTextContents();
    expect(order.filter((q) => q.endsWith(`-${tag}?`))).toEqual([other, question, escalating]);
    await page.screenshot({ path: screenshotPath('pending.png'), fullPage: true });

    await page.getByLabel('Escalated').check();
    await page.getByRole('button', { name: 'Filter' }).click();
    await row.waitFor({ state: 'detached', ...SEEN_WITHIN });
    expect(await pendingRow(page, escalating).count()).toBe(1);
    await page.getByRole('button', { name: 'Clear' }).click();
    await row.waitFor(SEEN_WITHIN);

    const sms = await waitForSms(sharedStack().awsEndpoint, (m) => m.phoneNumber === phone, 30_000);
    await publishPhoneReply(localAws().sns, topicArn, { from: phone, body: codeOf(sms.message, 'Yes') });

    // No reload: the next polls drop the row and list it as ended.
    await row.waitFor({ state: 'detached', ...SEEN_WITHIN });
    const ended = recentRow(page, question);
    await ended.waitFor(SEEN_WITHIN);
    const endedCells = await ended.locator('td').allTextContents();
    expect(endedCells[1]).toBe('answered');
    expect(endedCells[2]).toBe(`Yes, by SMS from ${maskPhone(phone)}`);
    expect(endedCells[3]).toMatch(/^\d+(s|m \d\ds)$/);
    await page.setViewportSize({ width: 1100, height: 200 }); // the page's own height, for the README
    await page.screenshot({ path: screenshotPath('console.png'), fullPage: true });
    for (const askId of [escalatingId, otherId])
      await api.call('POST', `/v1/asks/${encodeURIComponent(askId)}/cancel`, {
        key: OPERATE_KEY,
        body: { reason: 'test done' },
      });
    await page.close();
  });

  it('answers an ask by hand with a reason, shows it in the timeline under the key, and shows the refusal once it has ended', async () => {
    const page = await openConsole(OPERATE_KEY);
    const question = `Disable VPN for jdoe-${randomUUID().slice(0, 6)}?`;
    const askId = await startAsk(question, newPhone(), { options: ['Disable', 'Keep'] });

    // By keyboard: to the ask's link, and Enter.
    const link = pendingRow(page, question).getByRole('link', { name: question });
    await link.waitFor(SEEN_WITHIN);
    await link.focus();
    await page.keyboard.press('Enter');
    await page.locator('#ask-question', { hasText: question }).waitFor(SEEN_WITHIN);
    expect(page.url()).toBe(`${api.url}/console#/ask/${encodeURIComponent(askId)}`);

    // The skip link moves the focus past the header, and leaves the page where it is.
    await page.locator('a.skip').focus();
    await page.keyboard.press('Enter');
    expect(await page.evaluate<string | undefined>('document.activeElement?.id')).toBe('main');
    expect(page.url()).toBe(`${api.url}/console#/ask/${encodeURIComponent(askId)}`);

    await page.getByRole('button', { name: 'Answer…' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByLabel('Answer').selectOption('Keep');
    await dialog.getByLabel('Reason (for the timeline)').fill('jdoe called the SOC from a landline');
    await dialog.getByRole('button', { name: 'Answer', exact: true }).click();
    await page.locator('#action-result', { hasText: 'Answered: Keep.' }).waitFor(SEEN_WITHIN);
    expect(await page.locator('#ask-status').textContent()).toBe('answered');

    const answered = page.locator('#timeline li.answered');
    expect(await answered.locator('.by').textContent()).toBe('by shift-lead');
    expect(await answered.locator('.detail').textContent()).toContain('jdoe called the SOC from a landline');
    await page.screenshot({ path: screenshotPath('ask-timeline.png'), fullPage: true });

    // The ask has ended: the workflow refuses, and the page says why.
    await page.getByRole('button', { name: 'Cancel…' }).click();
    await dialog.getByLabel('Reason (for the timeline)').fill('too late');
    await dialog.getByRole('button', { name: 'Cancel the ask' }).click();
    const refusal = dialog.getByRole('alert');
    await refusal.filter({ hasText: /already ended/ }).waitFor(SEEN_WITHIN);
    expect(await refusal.textContent()).toMatch(/has already ended \(answered\); nothing was changed/);
    await page.keyboard.press('Escape');
    expect(await dialog.isVisible()).toBe(false);
    const { body: state } = await api.call('GET', `/v1/asks/${encodeURIComponent(askId)}`, { key: READ_KEY });
    expect(state).toMatchObject({ status: 'answered', answer: { option: 'Keep', via: 'manual', by: 'shift-lead' } });
    await page.close();
  });

  it('gives a read-only key every ask but no action buttons, and the server refuses its direct calls', async () => {
    const question = `Rotate the key of svc-${randomUUID().slice(0, 6)}?`;
    const askId = await startAsk(question, newPhone());
    const page = await openConsole(READ_KEY);
    expect(await page.locator('#who').textContent()).toBe('wallboard (read)');
    const link = pendingRow(page, question).getByRole('link', { name: question });
    await link.waitFor(SEEN_WITHIN);
    await link.click();
    await page.locator('#timeline li.sent').first().waitFor(SEEN_WITHIN);
    expect(await actionButtons(page).count()).toBe(0);

    // The key straight from the page, past the missing buttons: refused.
    const statuses = await page.evaluate(
      async ({ askId, key }) => {
        const post = (action: string, body: unknown) =>
          fetch(`/v1/asks/${encodeURIComponent(askId)}/${action}`, {
            method: 'POST',
            headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
            body: JSON.stringify(body),
          }).then((res) => res.status);
        return [await post('cancel', { reason: 'from a read key' }), await post('answer', { option: 'Yes' })];
      },
      { askId, key: READ_KEY },
    );
    expect(statuses).toEqual([403, 403]);
    expect((await api.call('GET', `/v1/asks/${encodeURIComponent(askId)}`, { key: READ_KEY })).body.status).toBe(
      'waiting',
    );
    await api.call('POST', `/v1/asks/${encodeURIComponent(askId)}/cancel`, {
      key: OPERATE_KEY,
      body: { reason: 'test done' },
    });
    await page.close();
  });

  it('fits a phone screen, keeps the key in the tab only, and loads nothing from anywhere but sms-ask', async () => {
    const question = `Block IP 203.0.113.${Math.floor(Math.random() * 200)} at the edge?`;
    const askId = await startAsk(question, newPhone(), { context: { incident: '2077' } });
    const page = await openConsole(OPERATE_KEY, { width: 390, height: 844 });
    await pendingRow(page, question).waitFor(SEEN_WITHIN);
    expect(await page.evaluate<number>('document.documentElement.scrollWidth')).toBeLessThanOrEqual(390);
    await page.screenshot({ path: screenshotPath('pending-phone.png'), fullPage: true });

    // A reload keeps the key (sessionStorage); signing out forgets it.
    await page.reload();
    await pendingRow(page, question).waitFor(SEEN_WITHIN);
    expect(await page.evaluate(() => Object.keys(sessionStorage))).toEqual(['sms-ask.apiKey']);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('API key').waitFor(SEEN_WITHIN);
    expect(await page.evaluate(() => sessionStorage.length)).toBe(0);

    const res = await fetch(`${api.url}/console`);
    expect(res.headers.get('content-security-policy')).toMatch(
      /default-src 'none'; script-src 'self'; style-src 'self'/,
    );
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(await res.text()).not.toMatch(/<script>|<style>| on\w+=|style="/);
    expect(requested.length).toBeGreaterThan(0);
    expect(requested.filter((url) => !url.startsWith(`${api.url}/`))).toEqual([]);
    expect(requested.filter((url) => url.includes(OPERATE_KEY) || url.includes(READ_KEY))).toEqual([]);
    expect(pageErrors).toEqual([]);
    await api.call('POST', `/v1/asks/${encodeURIComponent(askId)}/cancel`, {
      key: OPERATE_KEY,
      body: { reason: 'test done' },
    });
    await page.close();
  });

  it('keeps the key through a reload while sms-ask does not answer, says so, and comes back by itself', async () => {
    const question = `Quarantine laptop LT-${Math.floor(Math.random() * 9000) + 1000}?`;
    const askId = await startAsk(question, newPhone());
    const page = await openConsole(READ_KEY);
    await pendingRow(page, question).waitFor(SEEN_WITHIN);

    const errorsBefore = pageErrors.length;
    let refused = 0;
    await page.route('**/v1/caller', (route) => {
      refused++;
      return route.abort('connectionrefused');
    });
    await page.reload();
    await page.getByText(/sms-ask did not answer .* Trying again/).waitFor(SEEN_WITHIN);
    expect(await page.evaluate(() => sessionStorage.getItem('sms-ask.apiKey'))).toBe(READ_KEY);
    await page.unroute('**/v1/caller');
    await pendingRow(page, question).waitFor(SEEN_WITHIN);
    await expect(page.locator('#who').textContent()).resolves.toBe('wallboard (read)');
    expect(refused).toBeGreaterThan(0);
    // The browser reports each refused request; nothing else went wrong.
    expect(pageErrors.slice(errorsBefore).filter((e) => !/ERR_CONNECTION_REFUSED/.test(e))).toEqual([]);
    await api.call('POST', `/v1/asks/${encodeURIComponent(askId)}/cancel`, {
      key: OPERATE_KEY,
      body: { reason: 'test done' },
    });
    await page.close();
  });
});
