import { inspect } from 'node:util';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import type { LogEntry } from '@temporalio/worker';
import { maskPhonesIn } from '../domain/phone-mask';

/** The SMS worker polls activities only, by design; the SDK warns about that on every start. */
const EXPECTED_NOTICES = [/^No workflows registered, not polling for workflow tasks/];

function writeUnlessExpected({ level, message, meta, timestampNanos }: LogEntry): void {
  if (EXPECTED_NOTICES.some((notice) => notice.test(message))) return;
  // Number() takes a bigint or a number; dividing by 1_000_000n threw on entries that carry a number,
  // and a logger that throws breaks the worker it logs for.
  const at = new Date(Number(timestampNanos) / 1e6).toISOString();
  // The SDK's own lines name workflows, and a recipient workflow's id holds its phone number.
  const line = `${at} [${level}] ${message}${meta ? ` ${inspect(meta, { breakLength: Infinity })}` : ''}`;
  process.stderr.write(`${maskPhonesIn(line)}\n`);
}

/**
 * Keeps the Temporal core's own logging to warnings and errors (our logs go through pino); with
 * `prometheusBindAddress`, the core also serves the SDK's worker metrics there (the worker's
 * /metrics relays them). The runtime is a process-wide singleton fixed on first use, so call this
 * before anything else touches Temporal's native side; later calls are no-ops. Returns whether
 * this call installed it.
 */
export function installQuietRuntime(options: { prometheusBindAddress?: string } = {}): boolean {
  try {
    // The native core's own lines go through the same writer (forward), not straight to the console,
    // so they are masked like the rest.
    Runtime.install({
      logger: new DefaultLogger('WARN', writeUnlessExpected),
      telemetryOptions: {
        logging: { filter: { core: 'WARN', other: 'ERROR' }, forward: {} },
        ...(options.prometheusBindAddress && {
          metrics: { prometheus: { bindAddress: options.prometheusBindAddress } },
        }),
      },
    });
    return true;
  } catch {
    // Already instantiated (e.g. by the local stack's dev server): keep the one in place.
    return false;
  }
}
