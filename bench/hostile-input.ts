/**
 * How long the inbound path takes on the worst replies an attacker can send: a maximal SQS message
 * (a 1,600-byte body of the costliest shape, in an SNS envelope) through the parser and the reply
 * grammar, and the grammar alone on bodies far over the cap. Run: npx tsx bench/hostile-input.ts
 */
import { parseInboundMessage } from '../src/domain/inbound-message';
import { DEFAULT_MAX_REPLY_BODY_BYTES } from '../src/domain/input-limits';
import { interpretReply } from '../src/domain/reply-grammar';
import type { PendingAskView } from '../src/domain/reply-grammar';

const pending: PendingAskView[] = [
  {
    askId: 'a',
    options: ['Yes', 'No'],
    codes: [
      { code: '4821', optionIndex: 0 },
      { code: '7302', optionIndex: 1 },
    ],
  },
];

/** Mean milliseconds per call, over up to 1,000 calls or 3 s. */
function time(run: () => unknown): number {
  const started = performance.now();
  let calls = 0;
  do {
    run();
    calls += 1;
  } while (calls < 1_000 && performance.now() - started < 3_000);
  return (performance.now() - started) / calls;
}

const shapes: Record<string, (chars: number) => string> = {
  'a, spaces, a': (n) => `a${' '.repeat(n - 2)}a`,
  numbers: (n) => Array.from({ length: Math.floor(n / 5) }, (_, i) => String(1000 + (i % 9000))).join(' '),
  'a! repeated': (n) => 'a! '.repeat(Math.ceil(n / 3)).slice(0, n),
};

console.log('shape | chars | parse + interpret (ms) | interpret only (ms)');
for (const [name, make] of Object.entries(shapes)) {
  const body = make(DEFAULT_MAX_REPLY_BODY_BYTES);
  const message = JSON.stringify({
    Type: 'Notification',
    MessageId: 'b9f2b0f4-3c1e-5b6a-9d0e-6f1f2a3b4c5d',
    Message: JSON.stringify({
      originationNumber: '+12065550142',
      destinationNumber: '+18885550100',
      messageBody: body,
      inboundMessageId: 'cae173d2-66b9-564c-8309-21f858e9fb84',
    }),
  });
  const both = time(() => {
    const parsed = parseInboundMessage(message, 'sqs-1');
    if (parsed.ok) interpretReply(parsed.reply.body, pending);
  });
  console.log(
    `${name} | ${body.length} | ${both.toFixed(3)} | ${time(() => interpretReply(body, pending)).toFixed(3)}`,
  );
  for (const chars of [64_000, 1_000_000]) {
    const big = make(chars);
    console.log(
      `${name} | ${big.length} (over the cap: the parser refuses it) | - | ${time(() => interpretReply(big, pending)).toFixed(3)}`,
    );
  }
}
