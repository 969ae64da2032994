/**
 * An HTTP proxy on loopback between the worker and the AWS emulator that injects faults by rule:
 * throttling and 5xx answers in each protocol's own error shape, added latency, and connections
 * dropped before the request reaches the emulator. The worker's SDK sees what it would see from AWS.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export type FaultKind = 'throttle' | 'error5xx' | 'latency' | 'drop';

export interface FaultRule {
  /** 'sns' or 'sqs'; any when absent. */
  service?: 'sns' | 'sqs';
  /** The API action, e.g. Publish, ReceiveMessage; any when absent. */
  action?: string;
  fault: FaultKind;
  /** Share of matching requests that get the fault, 0 to 1. */
  probability: number;
  /** For latency: the delay added before forwarding. */
  latencyMs?: number;
}

export interface ProxyCounts {
  /** Requests by `service:action`. */
  requests: Record<string, number>;
  /** Injected faults by `service:action:fault`. */
  injected: Record<string, number>;
}

interface CallInfo {
  service: 'sns' | 'sqs' | 'other';
  action: string;
}

/** SQS speaks JSON (X-Amz-Target: AmazonSQS.Action); SNS speaks the query protocol (Action=… in the form body). */
function identify(req: http.IncomingMessage, body: Buffer): CallInfo {
  const target = req.headers['x-amz-target'];
  if (typeof target === 'string' && target.startsWith('AmazonSQS.'))
    return { service: 'sqs', action: target.slice('AmazonSQS.'.length) };
  const action = /(?:^|&)Action=([A-Za-z]+)/.exec(body.toString('utf8'))?.[1];
  if (action) return { service: action.includes('Message') || action.includes('Queue') ? 'sqs' : 'sns', action };
  return { service: 'other', action: 'unknown' };
}

function errorResponse(res: http.ServerResponse, call: CallInfo, kind: 'throttle' | 'error5xx'): void {
  const throttle = kind === 'throttle';
  const status = throttle ? 400 : 500;
  if (call.service === 'sqs') {
    const type = throttle ? 'ThrottlingException' : 'InternalError';
    res.writeHead(status, {
      'content-type': 'application/x-amz-json-1.0',
      'x-amzn-query-error': `${type};${throttle ? 'Sender' : 'Receiver'}`,
    });
    res.end(
      JSON.stringify({
        __type: `com.amazonaws.sqs#${type}`,
        message: throttle ? 'Rate exceeded' : 'We encountered an internal error. Please try again.',
      }),
    );
    return;
  }
  const code = throttle ? 'Throttling' : 'InternalFailure';
  res.writeHead(status, { 'content-type': 'text/xml' });
  res.end(
    `<ErrorResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><Error><Type>${throttle ? 'Sender' : 'Receiver'}</Type>` +
      `<Code>${code}</Code><Message>${throttle ? 'Rate exceeded' : 'Internal failure'}</Message></Error>` +
      `<RequestId>fault-proxy</RequestId></ErrorResponse>`,
  );
}

export class FaultProxy {
  private rules: FaultRule[] = [];
  private readonly counts: ProxyCounts = { requests: {}, injected: {} };

  private readonly server: http.Server;
  private endpointUrl = '';

  private constructor(
    private readonly upstream: URL,
    private readonly sqsUpstream: URL,
    random: () => number,
  ) {
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => void this.handle(req, res, Buffer.concat(chunks), random));
    });
    // Keep-alive sockets would hold stop() open.
    this.server.keepAliveTimeout = 1_000;
  }

  get endpoint(): string {
    return this.endpointUrl;
  }

  /**
   * Listens on a free loopback port and forwards to `target` (http://host:port), SQS calls to
   * `sqsTarget` when given (an SQS server of its own, such as ElasticMQ).
   */
  static async start(target: string, options: { sqsTarget?: string; random?: () => number } = {}): Promise<FaultProxy> {
    const proxy = new FaultProxy(new URL(target), new URL(options.sqsTarget ?? target), options.random ?? Math.random);
    await new Promise<void>((resolve) => proxy.server.listen(0, '127.0.0.1', resolve));
    proxy.endpointUrl = `http://127.0.0.1:${(proxy.server.address() as AddressInfo).port}`;
    return proxy;
  }

  setRules(rules: FaultRule[]): void {
    this.rules = rules;
  }

  clearRules(): void {
    this.rules = [];
  }

  snapshot(): ProxyCounts {
    return structuredClone(this.counts);
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    body: Buffer,
    random: () => number,
  ): Promise<void> {
    const call = identify(req, body);
    const key = `${call.service}:${call.action}`;
    this.counts.requests[key] = (this.counts.requests[key] ?? 0) + 1;
    for (const rule of this.rules) {
      if (rule.service && rule.service !== call.service) continue;
      if (rule.action && rule.action !== call.action) continue;
      if (random() >= rule.probability) continue;
      const injected = `${key}:${rule.fault}`;
      this.counts.injected[injected] = (this.counts.injected[injected] ?? 0) + 1;
      if (rule.fault === 'drop') {
        req.socket.destroy();
        return;
      }
      if (rule.fault === 'latency') {
        await new Promise((resolve) => setTimeout(resolve, rule.latencyMs ?? 1_000));
        continue;
      }
      errorResponse(res, call, rule.fault);
      return;
    }
    this.forward(req, res, body, call.service === 'sqs' ? this.sqsUpstream : this.upstream);
  }

  private forward(req: http.IncomingMessage, res: http.ServerResponse, body: Buffer, upstream: URL): void {
    const out = http.request(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: req.method,
        path: req.url,
        headers: { ...req.headers, host: upstream.host },
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    out.on('error', () => res.destroy());
    res.on('close', () => out.destroy());
    out.end(body);
  }
}
