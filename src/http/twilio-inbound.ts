/**
 * Twilio's messaging webhook, taken straight in: no Lambda, no queue. The request is checked with
 * the official `twilio` package's signature validation, turned into the same two-way payload the
 * SQS path parses (so the parser's output and the dedupe key, MessageSid, are the same), and
 * handed to routeReply. It answers 2xx only once Temporal has the reply, so Twilio's retry covers
 * a failure, with empty TwiML so that Twilio sends nothing on its own.
 */
import formbody from '@fastify/formbody';
import type { FastifyInstance } from 'fastify';
import twilio from 'twilio';
import { z } from 'zod';
import type { RouteOutcome } from '../activities/inbound';
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

export interface TwilioInboundOptions {
  authToken: string;
  /** The URL Twilio calls, up to the path (behind a proxy); default: from the request. */
  publicUrl?: string;
  /** Largest reply body, in UTF-8 bytes (the maxReplyBytes setting), as on the SQS path. */
  maxReplyBytes?: number;
  route: (reply: InboundReply) => Promise<RouteOutcome>;
}

export async function twilioInbound(app: FastifyInstance, { authToken, publicUrl, maxReplyBytes, route }: TwilioInboundOptions): Promise<void> {
  // Form bodies only here: the JSON API does not take them.
  await app.register(formbody);
  app.post(TWILIO_INBOUND_PATH, { config: { publicRoute: true } }, async (request, reply) => {
    const signature = request.headers['x-twilio-signature'];
    const params = request.body;
    const url = `${publicUrl ?? `${request.protocol}://${request.host}`}${request.url}`;
    const signed =
      typeof signature === 'string' &&
      typeof params === 'object' &&
      params !== null &&
      twilio.validateRequest(authToken, signature, url, params as Record<string, unknown>);
    if (!signed) throw new HttpError(403, 'forbidden', 'The request is not signed by Twilio with this deployment\'s auth token (X-Twilio-Signature).');

    const form = twilioFormSchema.safeParse(params);
    if (!form.success) throw new HttpError(400, 'invalid_request', `Not a Twilio message: ${form.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
    const { MessageSid, From, To, Body } = form.data;
    // The two-way SMS payload the SQS path parses, so both ways in give the parser the same input.
    const payload = { originationNumber: From, messageBody: Body ?? '', destinationNumber: To, inboundMessageId: MessageSid };
    const parsed = parseInboundMessage(JSON.stringify(payload), MessageSid, { maxBodyBytes: maxReplyBytes });
    if (!parsed.ok) throw new HttpError(400, 'invalid_request', `Not a reply: ${parsed.reason}`);

    const outcome = await route(parsed.reply);
    if (outcome === 'failed' || outcome === 'held') throw new HttpError(503, 'unavailable', 'Temporal did not take the reply; retry.', undefined, { 'retry-after': '5' });
    return reply.type('text/xml').send(EMPTY_TWIML);
  });
}
