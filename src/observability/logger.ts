import pino from 'pino';
import type { DestinationStream, Logger } from 'pino';
import { maskPhonesIn } from '../domain/phone-mask';

/**
 * Every line leaves with full phone numbers masked, wherever they came from (a field, an error
 * message, a workflow id that holds the number), so no log line carries one.
 */
export function phoneMaskingStream(target: DestinationStream): DestinationStream {
  return { write: (line: string) => target.write(maskPhonesIn(line)) };
}

/** JSON logs on stderr, so that stdout stays for command output. Credentials and full phone numbers are never logged. */
export function createLogger(level: string, name = 'sms-ask'): Logger {
  return pino(
    {
      name,
      level,
      redact: [
        '*.secretAccessKey',
        '*.sessionToken',
        '*.apiKey',
        '*.awsSecretAccessKey',
        '*.awsSessionToken',
        '*.payloadKeys',
        '*.webhookSecrets',
        '*.webhookAuthorizations',
      ],
    },
    phoneMaskingStream(pino.destination(2)),
  );
}
