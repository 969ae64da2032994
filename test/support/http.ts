/** The HTTP API on the shared stack, and a webhook receiver, for tests; both on loopback ports they pick. */
import { createServer } from 'node:http';
import type { IncomingHttpHeaders, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { loadSettings } from '../../src/config';
import type { SettingsInput } from '../../src/config';
import { createHttpServer } from '../../src/http/server';
import type { TestWorker } from './harness';
import { localAws } from './harness';

/** Tests read response fields by name, as JSON. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type ResponseBody = any;

export interface TestApi {
  app: FastifyInstance;
  url: string;
  /** fetch against the API with a key (or none). The body is parsed JSON, or the text. */
  call(
    method: string,
    path: string,
    options?: { key?: string; body?: unknown; headers?: Record<string, string> },
  ): Promise<{ status: number; body: ResponseBody; headers: Headers }>;
  close(): Promise<void>;
}

/** The HTTP API over a test worker's client and task queue, with the worker's settings plus `overrides`. */
export async function startTestApi(
  worker: TestWorker,
  overrides: SettingsInput = {},
  beforeListen?: (app: FastifyInstance) => void,
): Promise<TestApi> {
  const settings = loadSettings(
    {},
    { ...(worker.settings as SettingsInput), httpPort: 0, httpKeyless: true, ...overrides },
  );
  const app = await createHttpServer({
    settings,
    client: worker.client,
    sns: localAws().sns,
    logger: pino({ level: 'silent' }),
  });
  beforeListen?.(app);
  const url = await app.listen({ host: settings.httpHost, port: 0 });
  return {
    app,
    url,
    async call(method, path, { key, body, headers = {} } = {}) {
      const res = await fetch(`${url}${path}`, {
        method,
        headers: {
          ...(key && { authorization: `Bearer ${key}` }),
          ...(body !== undefined && { 'content-type': 'application/json' }),
          ...headers,
        },
        ...(body !== undefined && { body: typeof body === 'string' ? body : JSON.stringify(body) }),
      });
      const text = await res.text();
      let parsed: unknown = text;
      try {
        parsed = JSON.parse(text);
      } catch {
        // not JSON (TwiML)
      }
      return { status: res.status, body: parsed, headers: res.headers };
    },
    close: () => app.close(),
  };
}

export interface ReceivedWebhook {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  at: number;
}

/** An HTTP server that records every request; `statusFor` picks each answer (default 204). */
export async function startWebhookReceiver(statusFor: (path: string) => number = () => 204) {
  const received: ReceivedWebhook[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({
        path: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
        at: Date.now(),
      });
      res.statusCode = statusFor(req.url ?? '');
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
