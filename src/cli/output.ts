/**
 * The command's output, written whole. On a pipe, Node writes stdout asynchronously: whatever did
 * not fit the pipe's buffer (64 KiB on Linux) is still queued when `process.exit` runs, and is lost.
 * So every command waits for its output to be flushed before it exits.
 */
import type { Settings } from '../config';

/** Resolves once `text` has been handed to the OS (or the reader has gone away). */
export function writeAll(stream: NodeJS.WritableStream, text: string): Promise<void> {
  return new Promise((resolve) => {
    // An error here is the reader closing the pipe (EPIPE): there is nobody left to write to. Without
    // a listener, the stream's 'error' event would crash the command with a stack trace.
    const done = () => {
      stream.off('error', done);
      resolve();
    };
    stream.on('error', done);
    stream.write(text, () => done());
  });
}

/** A reader that closes the pipe early (`sms-ask pending | head -1`) ends the command quietly, as for any Unix tool. */
export function endQuietlyOnClosedPipe(stream: NodeJS.WriteStream = process.stdout): void {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
    process.exit(0);
  });
}

/**
 * Every secret the settings and the environment hold, for redaction: an error message from AWS or a
 * report may quote a value it was given. Short values are left out, so that redacting cannot garble
 * the output.
 */
export function secretsOf(settings: Settings | undefined, env: NodeJS.ProcessEnv = process.env): string[] {
  const payloadKeys = (settings?.payloadKeys ?? env.SMS_ASK_PAYLOAD_KEYS ?? '')
    .split(',')
    .map((entry) => entry.slice(entry.indexOf(':') + 1).trim());
  return [
    settings?.awsSecretAccessKey,
    settings?.awsSessionToken,
    settings?.twilioAuthToken,
    ...(settings?.httpApiKeys ?? []).map((k) => k.key),
    ...Object.values(settings?.webhookSecrets ?? {}),
    ...Object.values(settings?.webhookAuthorizations ?? {}),
    ...payloadKeys,
    env.AWS_SECRET_ACCESS_KEY,
    env.AWS_SESSION_TOKEN,
    env.TEMPORAL_API_KEY,
  ].filter((value): value is string => Boolean(value && value.length >= 8));
}

export function redactSecrets(text: string, secrets: readonly string[]): string {
  return secrets.reduce((out, secret) => out.split(secret).join('[redacted]'), text);
}

/** Writes what the command has to say, with `secrets` redacted, then exits with `code`. */
export async function exitWith(
  code: number,
  output: { stdout?: string; stderr?: string },
  secrets: readonly string[] = [],
): Promise<never> {
  if (output.stdout !== undefined) await writeAll(process.stdout, `${redactSecrets(output.stdout, secrets)}\n`);
  if (output.stderr !== undefined) await writeAll(process.stderr, `${redactSecrets(output.stderr, secrets)}\n`);
  process.exit(code);
}
