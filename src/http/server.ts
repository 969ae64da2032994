/**
 * The HTTP API server (fastify): API-key auth, rate limiting, a body size limit, the operations of
 * operations.ts, the OpenAPI document generated from their schemas, the operator console's page
 * (console.ts), and Twilio's inbound webhook.
 * A Temporal client, like the CLI: the worker runs beside it (or in the same process).
 */
import rateLimit from '@fastify/rate-limit';
import { PublishCommand } from '@aws-sdk/client-sns';
import type { SNSClient } from '@aws-sdk/client-sns';
import type { Client } from '@temporalio/client';
import Fastify, { LogController } from 'fastify';
import type { FastifyBaseLogger, FastifyInstance, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { z } from 'zod';
import { routeReply, routeReplyDecided } from '../inbound/reply-router';
import { SmsAskClient } from '../client/sms-ask-client';
import { spendLimits, webhookDefaults } from '../config';
import type { Settings } from '../config';
import { ApiKeyAuthenticator, allows, isLoopbackHost } from './auth';
import { consoleRoutes } from './console';
import type { Caller } from './auth';
import { HttpError, invalidRequest, problemsOfZod, toHttpError } from './errors';
import type { Problem } from './errors';
import { OPENAPI_PATH, buildOpenApiDocument } from './openapi';
import { crossSiteRequest, foreignHost, hostRules, isJsonContentType } from './request-guard';
import { buildOperations } from './operations';
import { twilioInbound } from './twilio-inbound';
import type { TwoWayPayload } from './twilio-inbound';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Needs no API key: the OpenAPI document, and Twilio's webhook (signed by Twilio). */
    publicRoute?: boolean;
  }
}

export interface HttpServerDeps {
  settings: Settings;
  client: Client;
  sns: SNSClient;
  logger: Logger;
  /** The version the OpenAPI document states. */
  version?: string;
}

/** Thrown by createHttpServer when the settings would expose an API that has no keys. */
export class UnprotectedServerError extends Error {
  override name = 'UnprotectedServerError';
}

/** How long an operation may wait on Temporal and the worker before it answers 503, beyond a long poll's own wait. */
const TEMPORAL_DEADLINE_MS = 30_000;

const ERROR_CODES: Record<number, string> = {
  400: 'invalid_request',
  404: 'not_found',
  405: 'method_not_allowed',
  413: 'too_large',
  415: 'unsupported_media_type',
  429: 'rate_limited',
};

function parseInput<T>(schema: z.ZodType<T> | undefined, value: unknown, where: string, problems: Problem[]): T {
  if (!schema) return value as T;
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  problems.push(...problemsOfZod(parsed.error, where));
  return undefined as T;
}

export async function createHttpServer({
  settings,
  client,
  sns,
  logger,
  version = '0',
}: HttpServerDeps): Promise<FastifyInstance> {
  const auth = new ApiKeyAuthenticator(settings.httpApiKeys);
  if (auth.open && !settings.httpKeyless) {
    throw new UnprotectedServerError(
      'No API key is configured (SMS_ASK_HTTP_API_KEYS). Add a key (name:scope:key, e.g. playbook:operate:$(openssl rand -hex 24)), ' +
        'or choose keyless mode on loopback, as the local operator: SMS_ASK_HTTP_KEYLESS=true (sms-ask serve --keyless).',
    );
  }
  if (auth.open && !isLoopbackHost(settings.httpHost)) {
    throw new UnprotectedServerError(
      `No API key is configured (SMS_ASK_HTTP_API_KEYS), so the HTTP API may listen only on a loopback address, not ${settings.httpHost}. ` +
        'Add a key (name:scope:key, e.g. playbook:operate:$(openssl rand -hex 24)), or set SMS_ASK_HTTP_HOST=127.0.0.1.',
    );
  }
  const asks = new SmsAskClient(client, {
    taskQueue: settings.taskQueue,
    defaultCountry: settings.defaultCountry,
    maxCodeLength: settings.codeLength,
    codeMode: settings.codeMode,
    policyFile: settings.policyFile,
    webhooks: webhookDefaults(settings),
    spend: spendLimits(settings),
  });
  const injectLogger = logger.child({ component: 'injected-replies' });
  const operations = buildOperations({
    settings,
    asks,
    sns,
    routeReply: (reply) => routeReplyDecided({ client, logger: injectLogger, settings }, settings.taskQueue, reply),
  });
  const openapi = buildOpenApiDocument(operations, {
    version,
    secured: !auth.open,
    twilio: settings.twilioAuthToken !== undefined,
    publicUrl: settings.httpPublicUrl,
  });

  const app = Fastify({
    loggerInstance: logger.child({ component: 'http' }) as FastifyBaseLogger,
    bodyLimit: settings.httpBodyLimitBytes,
    // Our own line per request (below): the route's pattern, never its URL (ids, phone numbers) or headers (keys).
    logController: new LogController({ disableRequestLogging: true }),
    routerOptions: { maxParamLength: 2048 },
    // The client address behind a proxy (rate limits, logs); no X-Forwarded-For is believed unless set.
    // A hop count is accepted by fastify (proxy-addr) though its types omit it.
    trustProxy: settings.httpTrustProxy as boolean | string,
  });

  // An empty JSON body is an operation's empty body (resend, cancel), not an error.
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) =>
    body === '' ? done(null, undefined) : parseJson(request, body as string, done),
  );

  const callers = new WeakMap<FastifyRequest, Caller | undefined>();
  const callerOf = (request: FastifyRequest): Caller | undefined => {
    if (!callers.has(request)) callers.set(request, auth.identify(request.headers.authorization));
    return callers.get(request);
  };

  await app.register(rateLimit, {
    max: settings.httpRateLimitPerMinute,
    timeWindow: 60_000,
    // Per key; per address for requests without a valid key, so wrong keys cannot each get a bucket.
    keyGenerator: (request) => {
      const caller = auth.open ? undefined : callerOf(request);
      return caller ? `key:${caller.name}` : `ip:${request.ip}`;
    },
    errorResponseBuilder: (_request, context) => ({
      statusCode: 429,
      error: 'rate_limited',
      message: `Too many requests: at most ${context.max} a minute. Retry in ${Math.ceil(context.ttl / 1000)} s.`,
    }),
  });

  // Before the key: a page that rebinds a name to loopback or posts across sites must learn nothing.
  const hosts = hostRules({
    bindHost: settings.httpHost,
    publicUrl: settings.httpPublicUrl,
    allowedHosts: settings.httpAllowedHosts,
    keyless: auth.open,
  });
  const ownOrigins = new Set(settings.httpPublicUrl ? [new URL(settings.httpPublicUrl).origin.toLowerCase()] : []);
  app.addHook('onRequest', async (request) => {
    const foreign = foreignHost(request.headers.host, hosts);
    if (foreign)
      throw new HttpError(
        421,
        'foreign_host',
        `Refused: ${foreign}. If it is this server's name, list it in SMS_ASK_HTTP_ALLOWED_HOSTS (or set SMS_ASK_HTTP_PUBLIC_URL).`,
      );
    const { config } = request.routeOptions;
    // The console's page and the OpenAPI document may be opened from a link; everything else is the API's.
    if (config.publicRoute && request.method === 'GET') return;
    const crossSite = crossSiteRequest(request.headers as Record<string, string | undefined>, ownOrigins);
    if (crossSite)
      throw new HttpError(
        403,
        'cross_site',
        `Refused: ${crossSite}; the API answers only its own pages and clients that are not browsers.`,
      );
  });

  app.addHook('onRequest', async (request) => {
    if (request.routeOptions.config.publicRoute) return;
    if (!callerOf(request)) {
      throw new HttpError(401, 'unauthorized', 'Give an API key: Authorization: Bearer <key>.', undefined, {
        'www-authenticate': 'Bearer',
      });
    }
  });

  app.addHook('onResponse', async (request, reply) => {
    request.log.info(
      {
        method: request.method,
        route: request.routeOptions.url ?? 'unknown',
        status: reply.statusCode,
        ms: Math.round(reply.elapsedTime),
        caller: callers.get(request)?.name,
      },
      'http request',
    );
  });

  app.setErrorHandler((err, request, reply) => {
    const mapped = toHttpError(err);
    if (mapped) return reply.headers(mapped.headers).code(mapped.statusCode).send(mapped.body());
    const e = err as { statusCode?: number; error?: string; message?: string };
    if (e.statusCode && e.statusCode >= 400 && e.statusCode < 500) {
      const code = e.statusCode === 429 ? 'rate_limited' : (ERROR_CODES[e.statusCode] ?? 'bad_request');
      const message = e.message ?? 'Bad request';
      return reply
        .code(e.statusCode)
        .send({ error: code, message, ...(e.statusCode === 400 && { problems: [{ field: 'body', message }] }) });
    }
    request.log.error({ err }, 'request failed');
    return reply.code(500).send({ error: 'internal', message: 'Internal error; the server log has the details.' });
  });

  app.setNotFoundHandler((request, reply) =>
    reply.code(404).send({
      error: 'not_found',
      message: `No such endpoint: ${request.method} ${request.url.split('?')[0]}. See ${OPENAPI_PATH}.`,
    }),
  );

  app.get(OPENAPI_PATH, { config: { publicRoute: true } }, async () => openapi);
  await app.register(consoleRoutes);

  for (const op of operations) {
    app.route({
      method: op.method,
      url: op.path.replace(/\{(\w+)\}/g, ':$1'),
      handler: async (request, reply) => {
        // A form or a no-cors fetch cannot send JSON: requiring it keeps every browser that ignores the checks above out too.
        if (op.method === 'POST' && !isJsonContentType(request.headers['content-type'])) {
          throw new HttpError(
            415,
            'unsupported_media_type',
            'Send the body as JSON, with Content-Type: application/json (an empty body or {} where the operation needs none).',
          );
        }
        const caller = callerOf(request)!;
        if (!allows(caller, op.scope)) {
          throw new HttpError(
            403,
            'forbidden',
            `The API key "${caller.name}" has the ${caller.scope} scope; ${op.id} needs the ${op.scope} scope.`,
          );
        }
        const problems: Problem[] = [];
        const params = parseInput(op.params, request.params, 'path', problems);
        const query = parseInput(op.query, request.query, 'query', problems);
        const body = parseInput(
          op.body,
          request.body === undefined && op.bodyOptional ? {} : request.body,
          'body',
          problems,
        );
        if (problems.length) throw invalidRequest(problems);
        const gone = new AbortController();
        reply.raw.once('close', () => {
          if (!reply.raw.writableFinished) gone.abort();
        });
        // Never an endless wait on a worker that is down or stuck: a 503 the client can retry.
        const result = await client.withDeadline(Date.now() + TEMPORAL_DEADLINE_MS + (op.longPollMs ?? 0), () =>
          op.handle({ params, query, body, caller, signal: gone.signal }),
        );
        return reply.code(result.status).send(result.body);
      },
    });
  }

  if (settings.twilioAuthToken !== undefined) {
    const routeLogger = logger.child({ component: 'twilio-inbound' });
    await app.register(twilioInbound, {
      authToken: settings.twilioAuthToken,
      publicUrl: settings.httpPublicUrl,
      maxReplyBytes: settings.maxReplyBytes,
      unsignedPerMinute: settings.httpRateLimitPerMinute,
      ...(settings.inboundTopicArn !== undefined && {
        keep: async (payload: TwoWayPayload) => {
          await sns.send(new PublishCommand({ TopicArn: settings.inboundTopicArn, Message: JSON.stringify(payload) }));
        },
      }),
      route: (inbound) => routeReply({ client, logger: routeLogger }, settings.taskQueue, inbound),
    });
  }
  return app;
}
