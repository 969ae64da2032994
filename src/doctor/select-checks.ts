/** Which checks `doctor` runs: the SNS account checks, or End User Messaging's in their place. */
import type { Settings } from '../config';
import { DOCTOR_CHECKS, phoneNumberCheck, smsSandboxCheck, spendLimitCheck } from './checks';
import type { Check } from './checks';
import { END_USER_MESSAGING_CHECKS } from './end-user-messaging-checks';

/** SNS's origination number, sandbox and spend limit say nothing about sends through End User Messaging. */
const SNS_ACCOUNT_CHECKS = new Set<Check>([phoneNumberCheck, smsSandboxCheck, spendLimitCheck]);

export function doctorChecksFor(settings: Pick<Settings, 'smsSender'>): Check[] {
  if (settings.smsSender !== 'end-user-messaging') return DOCTOR_CHECKS;
  return [...DOCTOR_CHECKS.filter((check) => !SNS_ACCOUNT_CHECKS.has(check)), ...END_USER_MESSAGING_CHECKS];
}
