/** Pending asks for a scenario to answer: started through the public client, their codes read from the SMS the emulator recorded. */
import type { Fleet, PendingAsk } from '../bench/fleet';
import { mapConcurrently, sleep } from '../bench/pool';
import { listSentSms } from '../src/local-stack/phone-simulator';
import type { SentSms } from '../src/local-stack/phone-simulator';

const QUESTION = 'Fault run: isolate host WS-042 from the network?';
const START_CONCURRENCY = 16;
const STALL_TIMEOUT_MS = 120_000;

/** moto's SMS record; it answers slowly while busy, so a slow answer is asked again, not fatal. */
export async function sentSms(fleet: Fleet): Promise<SentSms[]> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await listSentSms(fleet.awsEndpoint);
    } catch (err) {
      if (attempt >= 10) throw err;
      await sleep(1_000);
    }
  }
}

/** Starts one ask per new phone and returns once every question SMS has gone out. */
export async function createAsks(fleet: Fleet, count: number, report: (line: string) => void): Promise<PendingAsk[]> {
  const phones = fleet.phones.take(count);
  const batch = new Set(phones);
  const askIds = new Map<string, string>();
  const codes = new Map<string, string>();
  let starting = true;
  const starts = mapConcurrently(phones, START_CONCURRENCY, async (phone) => {
    const { askId } = await fleet.asks.start({ to: phone, question: QUESTION, options: ['Yes', 'No'], timeout: '24h' });
    askIds.set(phone, askId);
  }).finally(() => (starting = false));
  let lastNew = Date.now();
  while (starting || codes.size < count) {
    await Promise.race([sleep(2_000), starts]);
    for (const sms of await sentSms(fleet)) {
      if (!batch.has(sms.phoneNumber) || codes.has(sms.phoneNumber) || !sms.message.startsWith(QUESTION)) continue;
      const code = /Yes \((\d+)\)/.exec(sms.message)?.[1];
      if (code === undefined) throw new Error(`the question SMS has no code for "Yes": ${sms.message}`);
      codes.set(sms.phoneNumber, code);
      lastNew = Date.now();
    }
    report(`asks started ${askIds.size}/${count}, questions sent ${codes.size}/${count}`);
    if (!starting && Date.now() - lastNew > STALL_TIMEOUT_MS)
      throw new Error(`only ${codes.size} of ${count} question SMS were sent`);
  }
  await starts;
  return phones.map((phone) => ({ askId: askIds.get(phone)!, phone, yesCode: codes.get(phone)! }));
}
