/**
 * What a deployment lets one SMS, one ask and one day cost, and where it may send: the checks made
 * before anything is sent. The ask workflow and the SMS activities hold the running totals. Free of
 * runtime imports: the ask workflow reads the defaults.
 */
import type { CountryCode } from 'libphonenumber-js';

/** Segments one SMS may be; the default of the maxSmsSegments setting. */
export const DEFAULT_MAX_SMS_SEGMENTS = 8;
/** Segments one ask may send over its life; the default of the askSegmentBudget setting. */
export const DEFAULT_ASK_SEGMENT_BUDGET = 200;
/** Countries sent to when neither smsCountries nor defaultCountry is set. */
export const DEFAULT_SMS_COUNTRIES: readonly CountryCode[] = ['US', 'CA'];

export interface SpendLimits {
  /** ISO countries that SMS may go to, or "*" for any. */
  smsCountries: readonly string[] | '*';
  maxSmsSegments: number;
  askSegmentBudget: number;
}

export const DEFAULT_SPEND_LIMITS: SpendLimits = {
  smsCountries: DEFAULT_SMS_COUNTRIES,
  maxSmsSegments: DEFAULT_MAX_SMS_SEGMENTS,
  askSegmentBudget: DEFAULT_ASK_SEGMENT_BUDGET,
};
