import { ParseError, parsePhoneNumberWithError, validatePhoneNumberLength } from 'libphonenumber-js';
import type { CountryCode, PhoneNumber } from 'libphonenumber-js';
import { MAX_ADDRESS_LENGTH } from './input-limits';

const E164 = /^\+[1-9]\d{6,14}$/;
const EXAMPLE = '+12065550142';

/** Thrown by normalizeRecipientPhone when a recipient number cannot be used. */
export class InvalidPhoneNumberError extends Error {
  readonly input: string;
  readonly reason: string;

  constructor(input: string, reason: string) {
    super(
      `"${input}" is not a valid phone number (${reason}). ` +
        `Give it in E.164 form with a country code, e.g. ${EXAMPLE}.`,
    );
    this.name = 'InvalidPhoneNumberError';
    this.input = input;
    this.reason = reason;
  }
}

const PARSE_REASONS: Readonly<Record<string, string>> = {
  NOT_A_NUMBER: 'not a number',
  INVALID_COUNTRY: 'no known country code',
  TOO_SHORT: 'too short',
  TOO_LONG: 'too long',
  INVALID_LENGTH: 'wrong length for its country',
};

function parseReason(code: string): string {
  return PARSE_REASONS[code] ?? code.toLowerCase().replace(/_/g, ' ');
}

/**
 * Strict: the number must be valid in its country's numbering plan, because
 * SNS charges for (and silently loses) messages to numbers that cannot exist.
 */
export function normalizeRecipientPhone(input: string, defaultCountry?: CountryCode): string {
  const text = input.trim();
  if (text === '') throw new InvalidPhoneNumberError(input, 'empty');
  if (text.length > MAX_ADDRESS_LENGTH)
    throw new InvalidPhoneNumberError(`${text.slice(0, 20)}…`, `longer than ${MAX_ADDRESS_LENGTH} characters`);

  let parsed: PhoneNumber;
  try {
    // extract: false so "call +1206…" is rejected instead of guessed at.
    parsed = parsePhoneNumberWithError(text, { defaultCountry, extract: false });
  } catch (err) {
    if (err instanceof ParseError) throw new InvalidPhoneNumberError(input, parseReason(err.message));
    throw err;
  }

  if (parsed.ext !== undefined) {
    throw new InvalidPhoneNumberError(input, 'has an extension, which SMS cannot reach');
  }
  if (!parsed.isValid()) {
    const lengthProblem = validatePhoneNumberLength(text, { defaultCountry });
    throw new InvalidPhoneNumberError(
      input,
      lengthProblem !== undefined ? parseReason(lengthProblem) : 'not a number in use in its country',
    );
  }
  return parsed.number;
}

/**
 * Lenient: a sender is whoever AWS says sent the reply. Test and drama ranges
 * (e.g. +44 7700 900xxx) fail isValid() but must still reach their asks.
 */
export function normalizeSenderPhone(input: string): string | undefined {
  const text = input.trim();
  if (text === '' || text.length > MAX_ADDRESS_LENGTH) return undefined;
  try {
    const parsed = parsePhoneNumberWithError(text, { extract: false });
    if (parsed.isPossible()) return parsed.number;
  } catch (err) {
    if (!(err instanceof ParseError)) throw err;
  }
  return E164.test(text) ? text : undefined;
}

/** The ISO country of an E.164 number, by its numbering plan (+1 876 is JM, not US); undefined for non-geographic numbers. */
export function phoneCountry(e164: string): CountryCode | undefined {
  try {
    return parsePhoneNumberWithError(e164, { extract: false }).country;
  } catch (err) {
    if (err instanceof ParseError) return undefined;
    throw err;
  }
}

/** Why `phone` (E.164) may not be sent to, or undefined when it may. */
export function countryProblem(phone: string, allowed: readonly string[] | '*'): string | undefined {
  if (allowed === '*') return undefined;
  const country = phoneCountry(phone);
  if (country !== undefined && allowed.includes(country)) return undefined;
  const where = country === undefined ? 'in no country (a non-geographic number)' : `in ${country}`;
  return `${phone} is ${where}, and this deployment sends SMS only to ${allowed.join(', ')} (smsCountries, SMS_ASK_SMS_COUNTRIES)`;
}
