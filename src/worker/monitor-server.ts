/**
 * The worker's monitoring endpoint, for Prometheus and for Kubernetes or ECS probes:
 *   /metrics  sms-ask's metrics (prom-client) followed by the Temporal SDK's worker metrics, which
 *             the SDK's core serves on a loopback port of its own that this relays;
 *   /healthz  200 while the process runs and no Temporal worker in it has failed, else 503 (liveness);
 *   /readyz   200 when Temporal, the queue and the poller's heartbeat are fine, else 503; 503 from
 *             the moment the worker starts draining (readiness).
 */
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { foreignHost, hostRules } from '../http/request-guard';
import type { HostRules } from '../http/request-guard';
import { collectProcessMetrics, metricsRegistry } from '../observability/metrics';
import type { Readiness } from './readiness';

export interface MonitorServerOptions {
  /** host:port to listen on, e.g. 127.0.0.1:9464 (port 0: any free port). */
  address: string;
  readiness: () => Promise<Readiness>;
  /** Whether the process still works (a failed SDK worker polls nothing). Default: always live. */
  liveness?: () => { live: boolean; detail: string };
  /** Where the SDK's core serves its Prometheus text, e.g. http://127.0.0.1:40123/metrics. */
  temporalMetricsUrl?: string;
  logger: Logger;
}

/** Readiness results are reused this long, so that probes and scrapes together cost a few calls a second at most. */
const READINESS_CACHE_MS = 1_000;
const RELAY_TIMEOUT_MS = 3_000;

/** Splits "host:port" (or "[v6]:port"); a bare port listens on loopback. */
export function parseListenAddress(address: string): { host: string; port: number } {
  const url = new URL(`http://${/^\d+$/.test(address) ? `127.0.0.1:${address}` : address}`);
  return { host: url.hostname.replace(/^\[|\]$/g, ''), port: Number(url.port || 80) };
}

/** A free loopback port, for the SDK core's own metrics server (which this server relays). */
export function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export class MonitorServer {
  private draining = false;
  private cached?: { at: number; result: Promise<Readiness> };

  private constructor(
    private readonly server: http.Server,
    private readonly options: MonitorServerOptions,
    /** http://host:port of the endpoint. */
    readonly url: string,
    /** On loopback, only loopback names (a DNS-rebinding page names its own); elsewhere probes come by any address. */
    private readonly hosts: HostRules,
  ) {}

  static async start(options: MonitorServerOptions): Promise<MonitorServer> {
    collectProcessMetrics();
    const { host, port } = parseListenAddress(options.address);
    const server = http.createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
    const bound = server.address() as AddressInfo;
    const url = `http://${bound.family === 'IPv6' ? `[${bound.address}]` : bound.address}:${bound.port}`;
    const monitor = new MonitorServer(server, options, url, hostRules({ bindHost: host, keyless: false }));
    server.on('request', (req, res) => void monitor.handle(req, res));
    options.logger.info({ url: monitor.url }, 'monitoring endpoint: /metrics, /healthz, /readyz');
    return monitor;
  }

  /** From now on /readyz answers 503: the worker is shutting down. */
  startDraining(): void {
    this.draining = true;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private readiness(): Promise<Readiness> {
    if (!this.cached || Date.now() - this.cached.at > READINESS_CACHE_MS) {
      this.cached = { at: Date.now(), result: this.options.readiness() };
    }
    return this.cached.result;
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    try {
      if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'text/plain', 'GET only\n');
      const foreign = foreignHost(req.headers.host, this.hosts);
      if (foreign) return send(res, 421, 'text/plain', `refused: ${foreign}\n`);
      if (path === '/healthz') {
        const liveness = this.options.liveness?.() ?? { live: true, detail: 'ok' };
        return liveness.live
          ? send(res, 200, 'text/plain', 'ok\n')
          : send(res, 503, 'text/plain', `${liveness.detail}\n`);
      }
      if (path === '/readyz') {
        if (this.draining)
          return send(res, 503, 'application/json', JSON.stringify({ ready: false, draining: true }) + '\n');
        const readiness = await this.readiness();
        return send(res, readiness.ready ? 200 : 503, 'application/json', JSON.stringify(readiness) + '\n');
      }
      if (path === '/metrics') {
        // The queue depth gauge is read with the readiness checks.
        await this.readiness();
        const [own, sdk] = await Promise.all([metricsRegistry.metrics(), this.temporalMetrics()]);
        return send(res, 200, metricsRegistry.contentType, `${own}\n${sdk}`);
      }
      return send(res, 404, 'text/plain', 'not found: try /metrics, /healthz or /readyz\n');
    } catch (err) {
      this.options.logger.warn({ err, path }, 'monitoring endpoint request failed');
      return send(res, 500, 'text/plain', 'internal error\n');
    }
  }

  private async temporalMetrics(): Promise<string> {
    if (!this.options.temporalMetricsUrl) return '';
    try {
      const res = await fetch(this.options.temporalMetricsUrl, { signal: AbortSignal.timeout(RELAY_TIMEOUT_MS) });
      return await res.text();
    } catch (err) {
      return `# Temporal SDK metrics unavailable: ${err instanceof Error ? err.message : String(err)}\n`;
    }
  }
}

function send(res: http.ServerResponse, status: number, contentType: string, body: string): void {
  res.writeHead(status, { 'content-type': contentType, 'cache-control': 'no-store' });
  res.end(body);
}
