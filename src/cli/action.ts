/**
 * What every command shares: how a result is printed (text or --json) and the process exits, a
 * client for the deployment's task queue, and the option parsers.
 */
import { InvalidArgumentError } from 'commander';
import type { Command } from 'commander';
import { SmsAskClient } from '../client/sms-ask-client';
import { loadSettings, spendLimits } from '../config';
import type { Settings } from '../config';
import { connectClient } from '../temporal/connection';
import { describeError } from './errors';
import { exitWith, secretsOf } from './output';

/** A whole number of 1 or more, for an option such as --limit; commander reports the error with the option's name. */
export function positiveInteger(value: string, option: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1)
    throw new InvalidArgumentError(`${option} takes a whole number of 1 or more, not ${JSON.stringify(value)}.`);
  return n;
}

interface GlobalOptions {
  json?: boolean;
}

/** Prints a result as JSON or as text, then exits; errors exit non-zero with what to do. */
export function action<A extends unknown[]>(
  body: (settings: Settings, ...args: A) => Promise<{ json: unknown; text: string } | void>,
) {
  return async (...args: A) => {
    const command = args[args.length - 1] as Command;
    const json = Boolean((command.optsWithGlobals() as GlobalOptions).json);
    let settings: Settings | undefined;
    try {
      settings = loadSettings();
      const out = await body(settings, ...args);
      await exitWith(
        0,
        out ? { stdout: json ? JSON.stringify(out.json, null, 2) : out.text } : {},
        secretsOf(settings),
      );
    } catch (err) {
      const message = describeError(err);
      await exitWith(
        1,
        json ? { stdout: JSON.stringify({ error: message }, null, 2) } : { stderr: `error: ${message}` },
        secretsOf(settings),
      );
    }
  };
}

export async function withClient<T>(settings: Settings, body: (client: SmsAskClient) => Promise<T>): Promise<T> {
  const temporal = await connectClient(settings);
  try {
    return await body(
      new SmsAskClient(temporal, {
        taskQueue: settings.taskQueue,
        defaultCountry: settings.defaultCountry,
        maxCodeLength: settings.codeLength,
        codeMode: settings.codeMode,
        policyFile: settings.policyFile,
        spend: spendLimits(settings),
      }),
    );
  } finally {
    await temporal.connection.close();
  }
}

export function jsonObjectOption(option: string, example: string) {
  return (value: string): Record<string, unknown> => {
    try {
      const parsed: unknown = JSON.parse(value);
      if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
    } catch {
      // fall through to the error below
    }
    throw new Error(`${option} must be a JSON object, e.g. '${example}'; got ${value}`);
  };
}

export const collect = (value: string, previous: string[] = []) => [...previous, value];
/** Operator actions are logged with who did them; by default, the logged-in user. */
export const operator = process.env.USER ?? 'operator';
