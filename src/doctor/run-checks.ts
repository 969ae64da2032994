import type { Check } from './checks';
import { CheckSkipped, FactUnavailable } from './context';
import type { CheckResult, DoctorContext } from './context';

export interface CheckReport {
  ok: boolean;
  checks: CheckResult[];
  durationMs: number;
}

const errorText = (err: unknown) =>
  err instanceof Error ? `${err.name === 'Error' ? '' : `${err.name}: `}${err.message}` : String(err);

/** Runs the checks in order (they share what they fetch); ok unless one fails. A thrown error is a fail. */
export async function runChecks(checks: Check[], ctx: DoctorContext): Promise<CheckReport> {
  const started = Date.now();
  const results: CheckResult[] = [];
  for (const check of checks) {
    try {
      results.push({ name: check.name, ...(await check.run(ctx)) });
    } catch (err) {
      if (err instanceof CheckSkipped) {
        results.push({ name: check.name, status: 'skip', saw: 'not checked', fix: err.message });
      } else if (err instanceof FactUnavailable && err.owner !== check.name) {
        results.push({
          name: check.name,
          status: 'skip',
          saw: 'not checked',
          fix: `needs what "${err.owner}" could not read`,
        });
      } else {
        const cause = err instanceof FactUnavailable ? err.error : err;
        results.push({
          name: check.name,
          status: 'fail',
          saw: errorText(cause),
          fix: /AccessDenied|AuthorizationError|not authorized/i.test(errorText(cause))
            ? 'grant the action it names: `sms-ask setup --dry-run` prints the IAM policy the worker needs'
            : 'fix what the error names, then run this again',
        });
      }
    }
  }
  return { ok: results.every((r) => r.status !== 'fail'), checks: results, durationMs: Date.now() - started };
}
