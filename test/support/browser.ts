/**
 * Debian's chromium, headless, driven by playwright-core (scripts/bootstrap.js --test-server
 * installs it: `npx playwright install` cannot download a browser here). Each launch gets a fresh
 * profile, and the browser's own background traffic (updates, sync, QUIC) is off: only the page's
 * requests go out, to loopback.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import type { BrowserContext } from 'playwright-core';

export const CHROMIUM = process.env.SMS_ASK_CHROMIUM ?? '/usr/bin/chromium';

/** Where browser tests put their screenshots (git-ignored). */
export const TEST_OUTPUT_DIR = path.resolve(__dirname, '../../test-results');

export interface TestBrowser {
  context: BrowserContext;
  close(): Promise<void>;
}

export async function launchBrowser(viewport = { width: 1280, height: 900 }): Promise<TestBrowser> {
  if (!existsSync(CHROMIUM))
    throw new Error(
      `No chromium at ${CHROMIUM}: run \`node scripts/bootstrap.js --test-server\` (apt-get install chromium), or set SMS_ASK_CHROMIUM.`,
    );
  const profile = mkdtempSync(path.join(tmpdir(), 'sms-ask-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  return {
    context,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** A path for a screenshot under the test output folder. */
export function screenshotPath(name: string): string {
  const dir = path.join(TEST_OUTPUT_DIR, 'console');
  mkdirSync(dir, { recursive: true });
  return path.join(dir, name);
}
