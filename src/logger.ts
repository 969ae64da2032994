import pino from 'pino';
import type { Logger } from 'pino';

/** JSON logs on stderr, so that stdout stays for command output. Credentials are never logged. */
export function createLogger(level: string, name = 'sms-ask'): Logger {
  return pino({ name, level, redact: ['*.secretAccessKey', '*.sessionToken', '*.apiKey', '*.awsSecretAccessKey', '*.awsSessionToken'] }, pino.destination(2));
}
