/** The long-running processes: the worker, the HTTP API, the payload codec server. */
import type { Command } from 'commander';
import { loadSettings } from '../../config';
import { codecServerHosts, createCodecServer, listen } from '../../temporal/codec-server';
import { AesGcmPayloadCodec } from '../../temporal/payload-codec';
import { parsePayloadKeys } from '../../temporal/payload-keys';
import { action } from '../action';

/** worker and serve. */
export function addProcessCommands(program: Command): void {
  program
    .command('worker')
    .description('run the worker: workflows, activities and the inbound SQS poller')
    .action(action(async (settings) => (await import('../../worker/run-worker.js')).runWorker(settings)));

  program
    .command('serve')
    .description('serve the HTTP API (a Temporal client: run a worker beside it, or use --worker)')
    .option('--host <address>', 'listen on this address (SMS_ASK_HTTP_HOST; default 127.0.0.1)')
    .option('--port <port>', 'listen on this port (SMS_ASK_HTTP_PORT; default 8080)')
    .option('--worker', 'run the worker in this process too (SMS_ASK_SERVE_WORKER)')
    .option('--keyless', 'no API keys: loopback only, as the local operator (SMS_ASK_HTTP_KEYLESS)')
    .action(
      action(async (_settings, opts: { host?: string; port?: string; worker?: boolean; keyless?: boolean }) => {
        const settings = loadSettings(process.env, {
          ...(opts.keyless && { httpKeyless: true }),
          ...(opts.host !== undefined && { httpHost: opts.host }),
          ...(opts.port !== undefined && { httpPort: opts.port as unknown as number }),
          ...(opts.worker && { serveWorker: true }),
        });
        const { runServe } = await import('../../http/serve.js');
        await runServe(settings, (url: string) =>
          console.log(`sms-ask HTTP API on ${url} (OpenAPI: ${url}/openapi.json)`),
        );
      }),
    );
}

/** codec-server: the payload codec for the Temporal UI and CLI. */
export function addCodecServerCommand(program: Command): void {
  program
    .command('codec-server')
    .description('serve the payload codec (SMS_ASK_PAYLOAD_KEYS) for the Temporal UI and CLI: POST /encode and /decode')
    .option(
      '--host <host>',
      'address to listen on; keep it on loopback unless something in front authenticates',
      '127.0.0.1',
    )
    .option('--port <port>', 'port to listen on', '8888')
    .option(
      '--cors-origin <origin...>',
      "browser origins allowed to call it: the Temporal UI's, e.g. http://localhost:8233",
    )
    .option(
      '--allowed-host <name...>',
      'host names it answers to besides loopback names and --host (others are refused: DNS rebinding)',
    )
    .action(
      action(async (settings, opts: { host: string; port: string; corsOrigin?: string[]; allowedHost?: string[] }) => {
        if (!settings.payloadKeys) throw new Error('SMS_ASK_PAYLOAD_KEYS is not set: there is nothing to decode with.');
        const url = await listen(
          createCodecServer(new AesGcmPayloadCodec(parsePayloadKeys(settings.payloadKeys)), {
            corsOrigins: opts.corsOrigin,
            hosts: codecServerHosts(opts.host, opts.allowedHost),
          }),
          opts.host,
          Number(opts.port),
        );
        console.log(
          `codec server at ${url}; point the Temporal UI (Data Encoder) or \`temporal --codec-endpoint ${url}\` at it`,
        );
        // Serves until the process is stopped (Ctrl-C).
        await new Promise<never>(() => undefined);
      }),
    );
}
