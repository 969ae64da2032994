/**
 * Twilio's messaging webhook, taken straight in: no Lambda, no queue. The request is checked with
 * the official `twilio` package's signature validation, turned into the same two-way payload the
 * SQS path parses (so the parser's output and the dedupe key, MessageSid, are the same), and
 * handed to routeReply. Twilio does not retry on an HTTP status, only on a connection failure, so
 * a reply Temporal cannot take at once is kept by publishing it to the inbound topic (`keep`),
 * from where it reaches the queue like any AWS reply; Twilio is answered 200 once the reply is held
 * by Temporal or by SNS, with empty TwiML so that Twilio sends nothing on its own.
 */
import formbody from '@fastify/formbody';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import twilio from 'twilio';
import { z } from 'zod';
import type { RouteOutcome } from '../inbound/reply-router';
import type { InboundReply } from '../domain/inbound-message';
import { parseInboundMessage } from '../domain/inbound-message';
import { HttpError } from './errors';

export const TWILIO_INBOUND_PATH = '/inbound/twilio';
export const EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>';

/** The fields of Twilio's messaging webhook that a reply needs; Twilio sends many more. */
export const twilioFormSchema = z.looseObject({
  MessageSid: z.string().min(1).describe('Twilio message id: the dedupe key'),
  From: z.string().min(1).describe('The sender'),
  To: z.string().optional().describe('Your Twilio number'),
  Body: z.string().optional().describe('The text'),
});

/** AWS's two-way SMS payload, as the SQS path parses it and the inbound topic carries it. */
export interface TwoWayPayload {
  originationNumber: string;
  destinationNumber?: string;
  messageBody: string;
  inboundMessageId: string;
}

export interface TwilioInboundOptions {
  authToken: string;
  /** The URL Twilio calls, up to the path (behind a proxy); default: from the request. */
  publicUrl?: string;
  /** Largest reply body, in UTF-8 bytes (the maxReplyBytes setting), as on the SQS path. */
  maxReplyBytes?: number;
  /** Requests a minute per client address that are not signed by Twilio; signed ones are never limited. */
  unsignedPerMinute: number;
  route: (reply: InboundReply) => Promise<RouteOutcome>;
  /** Keeps a reply that Temporal did not take (publishes it to the inbound topic); undefined: no topic, so 503. */
  keep?: (payload: TwoWayPayload) => Promise<void>;
}

export async function twilioInbound(
  app: FastifyInstance,
  { authToken, publicUrl, maxReplyBytes, unsignedPerMinute, route, keep }: TwilioInboundOptions,
): Promise<void> {
  // Form bodies only here: the JSON API does not take them.
  await app.register(formbody);
  const signed = new WeakMap<FastifyRequest, boolean>();
  const isSigned = (request: FastifyRequest): boolean => {
    if (!signed.has(request)) {
      const signature = request.headers['x-twilio-signature'];
      const params = request.body;
      // The raw Host header, not X-Forwarded-Host: Twilio signs the URL it called.
      const url = `${publicUrl ?? `${request.protocol}://${request.headers.host ?? ''}`}${request.url}`;
      signed.set(
        request,
        typeof signature === 'string' &&
          typeof params === 'object' &&
          params !== null &&
          twilio.validateRequest(authToken, signature, url, params as Record<string, unknown>),
      );
    }
    return signed.get(request)!;
  };

  app.post(
    TWILIO_INBOUND_PATH,
    {
      config: {
        publicRoute: true,
        // Checked once the form is parsed, so that a signed request is told from anonymous traffic and never limited.
        rateLimit: {
          hook: 'preHandler',
          max: unsignedPerMinute,
          timeWindow: 60_000,
          allowList: (request) => isSigned(request),
        },
      },
    },
    async (request, reply) => {
      if (!isSigned(request))
        throw new HttpError(
          403,
          'forbidden',
          "The request is not signed by Twilio with this deployment's auth token (X-Twilio-Signature).",
        );

      const form = twilioFormSchema.safeParse(request.body);
      if (!form.success)
        throw new HttpError(
          400,
          'invalid_request',
          `Not a Twilio message: ${form.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
        );
      const { MessageSid, From, To, Body } = form.data;
      // The two-way SMS payload the SQS path parses, so both ways in give the parser the same input.
      const payload: TwoWayPayload = {
        originationNumber: From,
        messageBody: Body ?? '',
        destinationNumber: To,
        inboundMessageId: MessageSid,
      };
      const parsed = parseInboundMessage(JSON.stringify(payload), MessageSid, { maxBodyBytes: maxReplyBytes });
      if (!parsed.ok) throw new HttpError(400, 'invalid_request', `Not a reply: ${parsed.reason}`);

      const outcome = await route(parsed.reply);
      if (outcome === 'failed' || outcome === 'returned' || outcome === 'held') {
        if (!keep) {
          request.log.error(
            { messageSid: MessageSid },
            'Twilio reply not taken by Temporal and no inbound topic to keep it on (SMS_ASK_INBOUND_TOPIC_ARN): Twilio will not retry, the reply is lost',
          );
          throw new HttpError(
            503,
            'unavailable',
            'Temporal did not take the reply, and this deployment has no inbound topic to keep it on.',
            undefined,
            { 'retry-after': '5' },
          );
        }
        try {
          await keep(payload);
        } catch (err) {
          request.log.error(
            { err, messageSid: MessageSid },
            'Twilio reply neither taken by Temporal nor kept on the inbound topic: it is lost',
          );
          throw new HttpError(
            503,
            'unavailable',
            'Temporal did not take the reply, and it could not be kept on the inbound topic.',
            undefined,
            { 'retry-after': '5' },
          );
        }
        request.log.warn(
          { messageSid: MessageSid },
          'Twilio reply not taken by Temporal at once; kept on the inbound topic, the poller routes it from the queue',
        );
      }
      return reply.type('text/xml').send(EMPTY_TWIML);
    },
  );
}
