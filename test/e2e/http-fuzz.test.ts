/**
 * The HTTP API fuzzed from its own OpenAPI document by schemathesis, against a real worker on the
 * local stack: every response must be documented (status, content type, schema), never a 5xx, and
 * a request the API refuses must never send an SMS.
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { normalizeRecipientPhone } from '../../src/domain/phone';
import { listSentSms } from '../../src/local-stack/phone-simulator';
import { sharedStack, startTestWorker } from '../support/harness';
import type { TestWorker } from '../support/harness';
import { startTestApi } from '../support/http';
import type { TestApi } from '../support/http';
import { schemathesisBinary } from '../support/schemathesis';

const KEY = `fuzz-${randomUUID()}`;

interface Seen {
  route: string;
  method: string;
  status: number;
  body: unknown;
  response?: string;
}

let worker: TestWorker;
let api: TestApi;
const seen: Seen[] = [];

beforeAll(async () => {
  const webhooks = { webhookSecrets: { fuzz: `whsec-${randomUUID()}` } };
  worker = await startTestWorker(webhooks);
  api = await startTestApi(
    worker,
    {
      ...webhooks,
      httpApiKeys: [{ name: 'fuzzer', scope: 'operate', key: KEY }],
      httpRateLimitPerMinute: 1_000_000,
      httpMaxWaitSeconds: 1,
      twilioAuthToken: `twilio-${randomUUID()}`,
    },
    (app) => {
      app.addHook('onSend', async (request, reply, payload) => {
        seen.push({
          route: request.routeOptions.url ?? 'unknown',
          method: request.method,
          status: reply.statusCode,
          body: request.body,
          response: typeof payload === 'string' ? payload : undefined,
        });
        return payload;
      });
    },
  );
});
afterAll(async () => {
  await api?.close();
  await worker?.stop();
});

/** The phones a request named, as the API would read them (unreadable ones cannot be sent to). */
function phonesOf(body: unknown): string[] {
  const to = (body as { to?: unknown } | undefined)?.to;
  return (Array.isArray(to) ? to : [to]).flatMap((raw) => {
    try {
      return typeof raw === 'string' ? [normalizeRecipientPhone(raw)] : [];
    } catch {
      return [];
    }
  });
}

it('answers every generated request with a documented response, never a 5xx, and sends nothing for a refused one', async () => {
  const reportDir = mkdtempSync(path.join(tmpdir(), 'sms-ask-schemathesis-'));
  const args = [
    'run',
    `${api.url}/openapi.json`,
    '--header',
    `Authorization: Bearer ${KEY}`,
    '--checks',
    'not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,negative_data_rejection',
    '--phases',
    'examples,coverage,fuzzing,stateful',
    '--max-examples',
    '30',
    '--workers',
    '2',
    // Beyond the server's own 30 s deadline on Temporal: a slow machine gets a 503, not a client timeout.
    '--request-timeout',
    '60',
    '--suppress-health-check',
    'all',
    // No example database: nothing written outside the report folder, and no cross-run replays.
    '--generation-database',
    'none',
    // SMS_ASK_FUZZ_SEED replays a run (its seed is in its output).
    ...(process.env.SMS_ASK_FUZZ_SEED ? ['--seed', process.env.SMS_ASK_FUZZ_SEED] : []),
    '--report',
    'junit',
    '--report-dir',
    reportDir,
  ];
  const run = await new Promise<{ code: number; output: string }>((resolve) => {
    execFile(
      schemathesisBinary(),
      args,
      {
        cwd: reportDir,
        timeout: 400_000,
        maxBuffer: 20_000_000,
        env: { ...process.env, NO_COLOR: '1', SCHEMATHESIS_TELEMETRY: 'false' },
      },
      (err, stdout, stderr) =>
        resolve({ code: err ? ((err as { code?: number }).code ?? -1) : 0, output: `${stdout}${stderr}` }),
    );
  });
  writeFileSync(path.join(reportDir, 'output.txt'), run.output);

  const statuses: Record<string, number> = {};
  for (const s of seen) statuses[s.status] = (statuses[s.status] ?? 0) + 1;
  console.log(
    `schemathesis: ${seen.length} requests; statuses ${JSON.stringify(statuses)}; exit ${run.code}; report ${reportDir}`,
  );
  // Every check on every response passed. Schemathesis's own crashes ("Runtime Error": its engine or
  // Hypothesis's, now and then) end that operation's run early and are reported, not a finding
  // about the API; a timeout or a refused connection ("Network Error") is one.
  const junit = readFileSync(
    path.join(
      reportDir,
      readdirSync(reportDir).find((f) => f.endsWith('.xml'))!,
    ),
    'utf8',
  );
  const failures = [...junit.matchAll(/<failure\b[^>]*>([^<]*)/g)].map((m) => m[1]!.trim());
  const errors = [...junit.matchAll(/<testcase name="([^"]*)"[^>]*>\s*<error\b[^>]*>([^<]*)/g)].map((m) => ({
    operation: m[1]!,
    text: m[2]!.trim(),
  }));
  const toolCrashes = errors.filter((e) => e.text.startsWith('Runtime Error'));
  if (toolCrashes.length)
    console.log(
      `schemathesis crashed inside itself on ${toolCrashes.map((e) => e.operation).join(', ')}; see ${reportDir}/output.txt`,
    );
  expect(failures, run.output.slice(-6000)).toEqual([]);
  expect(
    errors.filter((e) => !e.text.startsWith('Runtime Error')),
    run.output.slice(-6000),
  ).toEqual([]);
  expect(toolCrashes.length, run.output.slice(-6000)).toBeLessThanOrEqual(2);
  expect(run.code === 0 || toolCrashes.length > 0, run.output.slice(-6000)).toBe(true);
  expect(seen.length).toBeGreaterThan(200);
  expect(seen.filter((s) => s.status >= 500)).toEqual([]);

  // A refused ask or SMS sent nothing: none of its phones got an SMS unless an accepted request named it.
  await new Promise((r) => setTimeout(r, 3000));
  const sending = seen.filter((s) => s.method === 'POST' && (s.route === '/v1/asks' || s.route === '/v1/sms'));
  const accepted = new Set(sending.filter((s) => s.status < 300).flatMap((s) => phonesOf(s.body)));
  const refused = new Set(
    sending
      .filter((s) => s.status >= 400)
      .flatMap((s) => phonesOf(s.body))
      .filter((p) => !accepted.has(p)),
  );
  const sentToRefused = (await listSentSms(sharedStack().awsEndpoint)).filter((sms) => refused.has(sms.phoneNumber));
  expect(sentToRefused).toEqual([]);

  // Every ask on this task queue came from an accepted request.
  const askIds = new Set(
    sending
      .filter((s) => s.route === '/v1/asks' && s.status < 300)
      .map((s) => (JSON.parse(s.response ?? '{}') as { askId?: string }).askId),
  );
  for await (const execution of worker.client.workflow.list({
    query: `WorkflowType = 'askWorkflow' AND TaskQueue = '${worker.taskQueue}'`,
  })) {
    expect(askIds.has(execution.workflowId), execution.workflowId).toBe(true);
    if (process.env.SMS_ASK_FUZZ_DEBUG) {
      const described = await worker.client.workflow.getHandle(execution.workflowId).describe();
      console.log(
        execution.workflowId,
        described.status.name,
        JSON.stringify(described.raw.pendingWorkflowTask ?? null),
      );
    }
  }
}, 480_000);
