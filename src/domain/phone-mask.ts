/**
 * Masked phone numbers for logs and SMS. Free of libphonenumber so that workflow code can use it
 * without loading the phone-number metadata into every workflow.
 */

/** Last 4 digits only, so logs and third parties never see a full number. */
export function maskPhone(e164: string): string {
  return `…${lastFourDigits(e164)}`;
}

/**
 * The same mask inside an SMS: "..." is in the GSM-7 alphabet, whereas "…" would turn the whole
 * SMS into UCS-2, with 70 characters a segment instead of 160.
 */
export function maskPhoneForSms(e164: string): string {
  return `...${lastFourDigits(e164)}`;
}

function lastFourDigits(e164: string): string {
  return e164.replace(/\D/g, '').slice(-4);
}

/** Anything in free text that looks like a full international number (+ and 7 to 15 digits). */
const FULL_NUMBER = /\+[1-9]\d{6,14}(?!\d)/g;

/**
 * Masks every full number in free text (an error message, a workflow id, a log line), keeping the
 * last four digits, so a line can still be matched to a number someone already knows.
 */
export function maskPhonesIn(text: string): string {
  return text.replace(FULL_NUMBER, (number) => maskPhone(number));
}
