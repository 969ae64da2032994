/**
 * The OpenAPI 3.1 document, generated from the operations' own zod schemas (one source: what is
 * documented is what is validated). Served at /openapi.json.
 */
import { z } from 'zod';
import { askRequestSchema } from '../domain/ask-request';
import { policySchema } from '../domain/policy';
import type { Operation } from './operations';
import { errorSchema } from './schemas';
import { TWILIO_INBOUND_PATH, twilioFormSchema } from './twilio-inbound';

export const OPENAPI_PATH = '/openapi.json';

type JsonSchema = Record<string, unknown>;

function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
  const generated = z.toJSONSchema(schema, { io, unrepresentable: 'any', target: 'draft-2020-12' }) as JsonSchema;
  delete generated.$schema;
  // The ask's policy is checked by the policy schema once merged with a preset; document that schema.
  if (schema === askRequestSchema) {
    const properties = generated.properties as Record<string, JsonSchema>;
    properties.policy = {
      ...jsonSchema(policySchema, 'input'),
      description: properties.policy?.description ?? 'The policy, or the fields that override the preset',
    };
  }
  return generated;
}

function parametersOf(schema: z.ZodType | undefined, where: 'path' | 'query') {
  if (!schema) return [];
  const object = jsonSchema(schema, 'input');
  const required = new Set((object.required as string[] | undefined) ?? []);
  return Object.entries((object.properties as Record<string, JsonSchema>) ?? {}).map(([name, property]) => {
    const { description, ...rest } = property;
    return {
      name,
      in: where,
      required: where === 'path' || required.has(name),
      schema: rest,
      ...(description !== undefined && { description }),
    };
  });
}

const errorResponse = (description: string) => ({
  description,
  content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
});

export interface OpenApiOptions {
  version: string;
  /** API keys are configured: every operation needs one. */
  secured: boolean;
  twilio: boolean;
  publicUrl?: string;
}

export function buildOpenApiDocument(operations: readonly Operation[], options: OpenApiOptions) {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const op of operations) {
    const hasInput = Boolean(op.params || op.query || op.body);
    const responses: Record<string, unknown> = {};
    for (const [status, doc] of Object.entries(op.responses)) {
      responses[status] = {
        description: doc.description,
        ...(doc.schema && { content: { 'application/json': { schema: jsonSchema(doc.schema, 'output') } } }),
        ...(doc.links && {
          links: Object.fromEntries(
            doc.links.map((operationId) => [
              operationId,
              { operationId, parameters: { id: '$response.body#/entitlement' } },
            ]),
          ),
        }),
      };
    }
    if (hasInput) responses['400'] = errorResponse('The request is invalid: every problem, by field');
    if (options.secured) {
      responses['401'] = errorResponse('No API key, or not a known one');
      if (op.scope === 'operate') responses['403'] = errorResponse("The API key's scope is read; this needs operate");
      if (op.id === 'listPendingAsks')
        responses['403'] = errorResponse('codes=true needs an API key with the codes scope');
    }
    if (op.id === 'injectReply') {
      responses['403'] = errorResponse(
        `injected_replies_disabled: the deployment does not set SMS_ASK_HTTP_ALLOW_INJECTED_REPLIES=true${options.secured ? "; or the key's scope is read" : ''}`,
      );
    }
    if (op.onAsk) {
      responses['404'] = errorResponse('No ask with this id');
      responses['409'] = errorResponse('The ask has ended, or the workflow refused the change: its reason');
    }
    if (op.body) responses['413'] = errorResponse('The body is larger than the limit');
    if (op.method === 'POST')
      responses['415'] = errorResponse(
        'The request is not Content-Type: application/json (a POST needs it even with no body)',
      );
    if (op.id === 'sendSms') responses['502'] = errorResponse('SNS did not take the SMS');
    responses['403'] ??= errorResponse('A request a browser sent for a page of another site (Origin, Sec-Fetch-Site)');
    responses['421'] = errorResponse('The Host header is not a name of this server (SMS_ASK_HTTP_ALLOWED_HOSTS)');
    responses['429'] = errorResponse('Too many requests: wait for Retry-After seconds');
    // Node's HTTP parser answers it before any route runs, for a URL or headers over 16 KiB.
    if (op.query || op.params)
      responses['431'] = errorResponse('The URL (or the headers) is larger than the server reads');
    responses['503'] = errorResponse('Temporal did not answer in time: try again');

    paths[op.path] ??= {};
    paths[op.path]![op.method.toLowerCase()] = {
      operationId: op.id,
      summary: op.summary,
      ...(op.description && { description: op.description }),
      tags: [op.tag],
      ...(!options.secured && { security: [] }),
      'x-scope': op.scope,
      parameters: [...parametersOf(op.params, 'path'), ...parametersOf(op.query, 'query')],
      ...(op.body && {
        requestBody: {
          required: !op.bodyOptional,
          content: {
            'application/json': {
              schema: jsonSchema(op.body, 'input'),
              ...(op.example !== undefined && { example: op.example }),
            },
          },
        },
      }),
      responses,
    };
  }
  if (options.twilio) {
    paths[TWILIO_INBOUND_PATH] = {
      post: {
        operationId: 'twilioInbound',
        summary: "Twilio's messaging webhook: a reply, routed like one from SQS",
        description:
          'Signed by Twilio (X-Twilio-Signature) with the auth token; no API key. Answers with empty TwiML once Temporal has the reply.',
        tags: ['inbound'],
        security: [],
        parameters: [{ name: 'X-Twilio-Signature', in: 'header', required: true, schema: { type: 'string' } }],
        requestBody: {
          required: true,
          content: { 'application/x-www-form-urlencoded': { schema: jsonSchema(twilioFormSchema, 'input') } },
        },
        responses: {
          200: {
            description: 'Taken (or no ask was ever sent to this phone): empty TwiML',
            content: { 'text/xml': { schema: { type: 'string' } } },
          },
          400: errorResponse('Signed, but not a message (no From or MessageSid)'),
          403: errorResponse('Unsigned, or the signature does not match'),
          413: errorResponse('The body is larger than the limit'),
          415: errorResponse('The body is not form-encoded'),
          429: errorResponse('Too many requests'),
          503: errorResponse('Temporal did not take the reply; Twilio may retry'),
        },
      },
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'sms-ask',
      version: options.version,
      description:
        'Ask a person a question by SMS and wait, durably, for the answer. Operator actions are recorded under the API key’s name.',
    },
    ...(options.publicUrl && { servers: [{ url: options.publicUrl }] }),
    ...(options.secured && { security: [{ bearer: [] }] }),
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'An API key from SMS_ASK_HTTP_API_KEYS' },
      },
      schemas: { Error: jsonSchema(errorSchema, 'output') },
    },
    paths,
  };
}
