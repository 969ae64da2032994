/**
 * The operator console: one page and its assets (src/http/console/, copied into dist/ by the
 * build), served by sms-ask itself so that it needs no network beyond it. The page holds no data
 * and no key: it calls the same HTTP API with the key the person enters, so the assets need no key.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { FastifyInstance, FastifyReply } from 'fastify';

export const CONSOLE_PATH = '/console';

/** Where the assets are: beside this module, in src/ and in dist/ alike. */
export const CONSOLE_ASSETS_DIR = path.join(__dirname, 'console');

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

/**
 * Only the page's own files, no inline script or style, no frames, and no form that posts
 * anywhere (the key form never submits: the script reads it).
 */
export const CONSOLE_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  // Revalidated on every load (by ETag), so an upgrade's assets are never mixed with an old page's.
  'cache-control': 'no-cache',
};

interface Asset {
  body: Buffer;
  type: string;
  etag: string;
}

/** The console's files, read once: a few kilobytes. */
export function loadConsoleAssets(dir: string = CONSOLE_ASSETS_DIR): Map<string, Asset> {
  const assets = new Map<string, Asset>();
  for (const name of fs.readdirSync(dir)) {
    const type = CONTENT_TYPES[path.extname(name)];
    if (!type) continue;
    const body = fs.readFileSync(path.join(dir, name));
    assets.set(name, { body, type, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"` });
  }
  if (!assets.has('index.html')) throw new Error(`The console's page is missing from ${dir}; run \`npm run build\`.`);
  return assets;
}

export async function consoleRoutes(app: FastifyInstance): Promise<void> {
  const assets = loadConsoleAssets();
  const send = (asset: Asset, ifNoneMatch: string | undefined, reply: FastifyReply) => {
    reply.headers({ ...CONSOLE_HEADERS, etag: asset.etag });
    if (ifNoneMatch === asset.etag) return reply.code(304).send();
    return reply.type(asset.type).send(asset.body);
  };
  const publicRoute = { config: { publicRoute: true } };
  app.get('/', publicRoute, async (_request, reply) => reply.redirect(CONSOLE_PATH));
  app.get(CONSOLE_PATH, publicRoute, async (request, reply) =>
    send(assets.get('index.html')!, request.headers['if-none-match'], reply),
  );
  app.get<{ Params: { file: string } }>(`${CONSOLE_PATH}/:file`, publicRoute, async (request, reply) => {
    const asset = assets.get(request.params.file);
    if (!asset)
      return reply
        .code(404)
        .headers(CONSOLE_HEADERS)
        .send({ error: 'not_found', message: `The console has no file ${request.params.file}.` });
    return send(asset, request.headers['if-none-match'], reply);
  });
}
