/**
 * Which permanent send refusals are about the phone (its number, its country, its opt-out): the
 * recipient cannot get the question, so the policy counts them out. The others (permissions,
 * credentials, a missing configuration set, the day's budget, a message too long) are the
 * deployment's to fix, and must never hand an ask to the next tier or its default answer.
 */
const REFUSALS_OF_THE_PHONE: ReadonlySet<string> = new Set([
  // SNS (classifySnsError's codes) and the spend guard.
  'OptedOut',
  'InvalidParameterException',
  'InvalidParameterValueException',
  'SmsCountryRefused',
  // End User Messaging (the error's Reason).
  'DESTINATION_PHONE_NUMBER_OPTED_OUT',
  'DESTINATION_PHONE_NUMBER_NOT_VERIFIED',
  'DESTINATION_COUNTRY_BLOCKED',
  'DESTINATION_COUNTRY_BLOCKED_BY_PROTECT_CONFIGURATION',
  'DESTINATION_PHONE_NUMBER_BLOCKED_BY_PROTECT_NUMBER_OVERRIDE',
  'COUNTRY_NOT_ENABLED',
  'INVALID_IDENTITY_FOR_DESTINATION_COUNTRY',
  'NO_ORIGINATION_IDENTITIES_FOUND',
  'INVALID_PARAMETER',
  'FIELD_VALIDATION_FAILED',
]);

export function refusesThePhone(code: string | undefined): boolean {
  return code !== undefined && REFUSALS_OF_THE_PHONE.has(code);
}
