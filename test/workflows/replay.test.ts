/**
 * Workflows that earlier releases started, and that are still running when a new release's workers
 * take over, replay on the new code. Each history was recorded from a real run: two asks to one
 * phone, a wrong code (feedback SMS), then the right code for the first ask; an ask answered by SMS.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { temporal } from '@temporalio/proto';
import { Worker } from '@temporalio/worker';
import { describe, it } from 'vitest';
import { workflowBundle } from '../../src/worker/worker';

/** Saved as the client's fetchHistory() gives it, through JSON.stringify (protobufjs's own object form). */
const history = (file: string) =>
  temporal.api.history.v1.History.fromObject(JSON.parse(readFileSync(path.join(__dirname, 'histories', file), 'utf8')));

describe('a recipient workflow', () => {
  it.each([
    [
      'recipient-timer-per-pass.json',
      'started before the wake timer was kept between replies (a timer cancelled and started per reply)',
    ],
    [
      'recipient-kept-wake-timer.json',
      'started with the wake timer kept between replies (replies signalled to it, answers signalled on by it)',
    ],
    [
      'recipient-routed-by-update.json',
      'replies routed by update, answers handed over by the router (a wrong code, an answer, its redelivery)',
    ],
  ])('replays %s: %s', async (file) => {
    await Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, history(file), 'recipient');
  });
});

describe('an ask workflow', () => {
  it.each([
    [
      'ask-answered-by-sms.json',
      'ask/b73bfbb2-206f-40cf-9aaf-36962b4ceed4',
      'started before the ended-asks feed (no feed in its input), answered by SMS, with a callback',
    ],
  ])('replays %s (%s): %s', async (file, workflowId) => {
    await Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, history(file), workflowId);
  });
});
