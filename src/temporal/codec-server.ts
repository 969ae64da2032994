/**
 * A remote codec endpoint for the Temporal UI and `temporal` CLI: they POST encrypted payloads to
 * /decode and see the clear ones, so the keys never leave the machine that runs this. It speaks
 * Temporal's codec server protocol: `{"payloads":[{"metadata":{k: base64},"data": base64}]}`.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Payload, PayloadCodec } from '@temporalio/common';
import { foreignHost, hostRules, isJsonContentType } from '../http/request-guard';
import type { HostRules } from '../http/request-guard';

interface JsonPayload {
  metadata?: Record<string, string>;
  data?: string;
}

const MAX_BODY_BYTES = 8 * 1024 * 1024;

function fromJson(payload: JsonPayload): Payload {
  const metadata = Object.fromEntries(
    Object.entries(payload.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64')]),
  );
  return { metadata, data: Buffer.from(payload.data ?? '', 'base64') };
}

function toJson(payload: Payload): JsonPayload {
  const metadata = Object.fromEntries(
    Object.entries(payload.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v ?? new Uint8Array()).toString('base64')]),
  );
  return { metadata, data: Buffer.from(payload.data ?? new Uint8Array()).toString('base64') };
}

export interface CodecServerOptions {
  /** Browser origins allowed to call it (the Temporal UI's), e.g. http://localhost:8233. */
  corsOrigins?: readonly string[];
  /** The Host names it answers to. Default: loopback names only (it listens on loopback). */
  hosts?: HostRules;
}

/** The Host names of a codec server listening on `bindHost`: loopback names, that address, and `allowedHosts`. */
export function codecServerHosts(bindHost: string, allowedHosts: readonly string[] = []): HostRules {
  return hostRules({ bindHost, allowedHosts, keyless: true });
}

const refuse = (res: http.ServerResponse, status: number, message: string) =>
  void res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify({ error: message }));

/**
 * Whoever can reach it can decode payloads they hold, so it answers only to its own Host names (a
 * DNS-rebinding page names another), only the listed browser origins, and only JSON (which a
 * cross-site form cannot send); a payload it cannot decode gets no detail of why.
 */
export function createCodecServer(codec: PayloadCodec, options: CodecServerOptions = {}): http.Server {
  const origins = new Set(options.corsOrigins ?? []);
  const hosts = options.hosts ?? codecServerHosts('127.0.0.1');
  return http.createServer((req, res) => {
    const foreign = foreignHost(req.headers.host, hosts);
    if (foreign) return refuse(res, 421, `refused: ${foreign} (--allowed-host adds a name)`);
    const origin = req.headers.origin;
    if (origin && !origins.has(origin))
      return refuse(res, 403, `refused: the origin ${origin} is not one of --cors-origin`);
    if (origin && origins.has(origin)) {
      res.setHeader('access-control-allow-origin', origin);
      res.setHeader('access-control-allow-methods', 'POST, OPTIONS');
      res.setHeader('access-control-allow-headers', 'content-type, x-namespace, authorization');
      res.setHeader('vary', 'origin');
    }
    if (req.method === 'OPTIONS') return void res.writeHead(204).end();
    const route = req.url?.split('?')[0] ?? '';
    const step = route.endsWith('/encode')
      ? codec.encode.bind(codec)
      : route.endsWith('/decode')
        ? codec.decode.bind(codec)
        : undefined;
    if (req.method !== 'POST' || !step)
      return void res.writeHead(404, { 'content-type': 'text/plain' }).end('POST /encode or /decode\n');
    if (!isJsonContentType(req.headers['content-type']))
      return refuse(res, 415, 'send the payloads as JSON, with Content-Type: application/json');
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
        let payloads: JsonPayload[];
        try {
          const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { payloads?: JsonPayload[] };
          if (!Array.isArray(body.payloads)) return refuse(res, 400, 'the body needs a "payloads" array');
          payloads = body.payloads;
        } catch {
          return refuse(res, 400, 'the body is not JSON');
        }
        try {
          const out = await step(payloads.map(fromJson));
          res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ payloads: out.map(toJson) }));
        } catch {
          // Which check failed (key id, tag) would help only someone probing the keys.
          refuse(res, 400, "the payloads could not be encoded or decoded with this server's keys");
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
