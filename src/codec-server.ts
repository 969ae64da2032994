/**
 * A remote codec endpoint for the Temporal UI and `temporal` CLI: they POST encrypted payloads to
 * /decode and see the clear ones, so the keys never leave the machine that runs this. It speaks
 * Temporal's codec server protocol: `{"payloads":[{"metadata":{k: base64},"data": base64}]}`.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Payload, PayloadCodec } from '@temporalio/common';

interface JsonPayload {
  metadata?: Record<string, string>;
  data?: string;
}

const MAX_BODY_BYTES = 8 * 1024 * 1024;

function fromJson(payload: JsonPayload): Payload {
  const metadata = Object.fromEntries(Object.entries(payload.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64')]));
  return { metadata, data: Buffer.from(payload.data ?? '', 'base64') };
}

function toJson(payload: Payload): JsonPayload {
  const metadata = Object.fromEntries(Object.entries(payload.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v ?? new Uint8Array()).toString('base64')]));
  return { metadata, data: Buffer.from(payload.data ?? new Uint8Array()).toString('base64') };
}

export interface CodecServerOptions {
  /** Browser origins allowed to call it (the Temporal UI's), e.g. http://localhost:8233. */
  corsOrigins?: readonly string[];
}

export function createCodecServer(codec: PayloadCodec, options: CodecServerOptions = {}): http.Server {
  const origins = new Set(options.corsOrigins ?? []);
  return http.createServer((req, res) => {
    const origin = req.headers.origin;
    if (origin && origins.has(origin)) {
      res.setHeader('access-control-allow-origin', origin);
      res.setHeader('access-control-allow-methods', 'POST, OPTIONS');
      res.setHeader('access-control-allow-headers', 'content-type, x-namespace, authorization');
      res.setHeader('vary', 'origin');
    }
    if (req.method === 'OPTIONS') return void res.writeHead(204).end();
    const route = req.url?.split('?')[0] ?? '';
    const step = route.endsWith('/encode') ? codec.encode.bind(codec) : route.endsWith('/decode') ? codec.decode.bind(codec) : undefined;
    if (req.method !== 'POST' || !step) return void res.writeHead(404, { 'content-type': 'text/plain' }).end('POST /encode or /decode\n');
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        res.writeHead(413).end();
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      void (async () => {
        try {
          const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { payloads?: JsonPayload[] };
          if (!Array.isArray(body.payloads)) throw new Error('the body needs a "payloads" array');
          const out = await step(body.payloads.map(fromJson));
          res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ payloads: out.map(toJson) }));
        } catch (err) {
          res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ error: (err as Error).message }));
        }
      })();
    });
  });
}

/** Listens on `host:port` (port 0: any free one); resolves with the URL. */
export async function listen(server: http.Server, host: string, port: number): Promise<string> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return `http://${host}:${(server.address() as AddressInfo).port}`;
}
