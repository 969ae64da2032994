/** The HTTP guide's webhook verification snippets, run as a receiver would, against a real signature. */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { webhookSignature } from '../../src/webhooks/signature';

const README = readFileSync(path.resolve(__dirname, '../../docs/http-api.md'), 'utf8');

function snippet(marker: string): string {
  const match = new RegExp(`<!-- ${marker} -->\\s*\`\`\`\\w+\\n([\\s\\S]*?)\`\`\``).exec(README);
  if (!match) throw new Error(`docs/http-api.md has no snippet after <!-- ${marker} -->`);
  return match[1]!;
}

const secret = 'whsec-readme-0123456789';
const body = JSON.stringify({
  id: 'webhook/ask/readme-1042/ended',
  type: 'ask.ended',
  ask: { question: 'Isolate host WS-042? ✓' },
});
const header = webhookSignature(secret, Math.floor(Date.now() / 1000), body);
const stale = webhookSignature(secret, Math.floor(Date.now() / 1000) - 3600, body);

const cases: [string, string, string, string][] = [
  ['a real signature', secret, header, 'True'],
  ['another secret', 'whsec-not-the-secret-000', header, 'False'],
  ['an hour-old signature', secret, stale, 'False'],
  ['a header with no v1', secret, header.split(',')[0]!, 'False'],
];

describe("the HTTP guide's webhook verification", () => {
  it.each(cases)('in Python: %s', (_what, key, sig, expected) => {
    const program = `${snippet('webhook-verify-python')}\nimport sys\nprint(verify(sys.argv[1], sys.argv[2], sys.stdin.buffer.read()))\n`;
    expect(execFileSync('python3', ['-c', program, key, sig], { input: body, encoding: 'utf8' }).trim()).toBe(expected);
  });

  it.each(cases)('in Node: %s', (_what, key, sig, expected) => {
    const program = `${snippet('webhook-verify-node')}\nconst [key, sig] = process.argv.slice(1);\nconsole.log(verify(key, sig, require('node:fs').readFileSync(0)) ? 'True' : 'False');\n`;
    expect(execFileSync(process.execPath, ['-e', program, key, sig], { input: body, encoding: 'utf8' }).trim()).toBe(
      expected,
    );
  });
});
