import { DefaultLogger, Runtime } from '@temporalio/worker';

/**
 * Keeps the Temporal core's own logging to warnings and errors (our logs go through pino).
 * The runtime is a process-wide singleton fixed on first use, so call this before anything
 * else touches Temporal's native side; later calls are no-ops.
 */
export function installQuietRuntime(): void {
  try {
    Runtime.install({ logger: new DefaultLogger('WARN') });
  } catch {
    // Already instantiated (e.g. by the local stack's dev server): keep the one in place.
  }
}
