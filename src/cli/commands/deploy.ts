/**
 * `sms-ask deploy`: rolling out a new build under Worker Versioning. The report shows each version
 * of the deployment and what still runs on it; `current` and `ramp` move new asks to a build.
 */
import { InvalidArgumentError } from 'commander';
import type { Command } from 'commander';
import type { Client } from '@temporalio/client';
import type { Settings } from '../../config';
import { connectClient } from '../../temporal/connection';
import {
  formatDeploymentReport,
  readDeploymentReport,
  setCurrentVersion,
  setRampingVersion,
} from '../../temporal/worker-deployment';
import type { DeploymentReport } from '../../temporal/worker-deployment';
import { deploymentNameOf } from '../../worker/versioning';
import { action } from '../action';

interface DeployOptions {
  deployment?: string;
  allowNoPollers?: boolean;
}

function percentage(value: string): number {
  const n = Number(value);
  if (!/^\d+(\.\d+)?$/.test(value) || n > 100)
    throw new InvalidArgumentError(`a ramp is 0 to 100 percent, not ${JSON.stringify(value)}.`);
  return n;
}

async function withTemporal<T>(settings: Settings, body: (client: Client) => Promise<T>): Promise<T> {
  const client = await connectClient(settings);
  try {
    return await body(client);
  } finally {
    await client.connection.close();
  }
}

/**
 * The build to roll out when none is named: the newest version with workers polling that is not
 * current yet. Refused when there is none, or more than one could be meant.
 */
export function buildToRollOut(report: DeploymentReport): string {
  const candidates = report.versions.filter((v) => v.polled && v.state !== 'current');
  if (candidates.length === 1) return candidates[0]!.buildId;
  if (candidates.length === 0)
    throw new Error(
      `no version of ${report.deploymentName} with workers polling is waiting to be made current: start the new build's workers (SMS_ASK_WORKER_VERSIONING=true), or name the build`,
    );
  throw new Error(
    `more than one build has workers polling and is not current (${candidates.map((v) => v.buildId).join(', ')}): name the one to roll out`,
  );
}

async function report(client: Client, settings: Settings, opts: DeployOptions) {
  const deployment = opts.deployment ?? deploymentNameOf(settings);
  const result = await readDeploymentReport(client, deployment, settings.taskQueue);
  return { json: result, text: formatDeploymentReport(result) };
}

/** deploy [status], deploy current [build-id], deploy ramp <build-id> <percent>. */
export function addDeployCommands(program: Command): void {
  const deploy = program
    .command('deploy')
    .description(
      'roll out a new build with Worker Versioning: the versions, the pending asks on each, which to make current, and when old workers can stop',
    )
    .option('--deployment <name>', 'the worker deployment (SMS_ASK_DEPLOYMENT_NAME; default: the task queue)');

  const deploymentOptions = (command: Command): DeployOptions => command.optsWithGlobals() as DeployOptions;

  deploy
    .command('status', { isDefault: true })
    .description('each version of the deployment, what still runs on it, and whether its workers can stop')
    .action(
      action(async (settings, _opts: unknown, command: Command) =>
        withTemporal(settings, (client) => report(client, settings, deploymentOptions(command))),
      ),
    );

  deploy
    .command('current')
    .description('make a build current: new asks start on it, recipient and poller workflows move to it')
    .argument('[build-id]', 'default: the one new build whose workers poll and that is not current yet')
    .option('--allow-no-pollers', 'make it current even though no worker of it polls yet')
    .action(
      action(async (settings, buildId: string | undefined, _opts: unknown, command: Command) =>
        withTemporal(settings, async (client) => {
          const opts = deploymentOptions(command);
          const deployment = opts.deployment ?? deploymentNameOf(settings);
          const chosen = buildId ?? buildToRollOut(await readDeploymentReport(client, deployment, settings.taskQueue));
          await setCurrentVersion(client, deployment, chosen, { allowNoPollers: opts.allowNoPollers });
          const after = await report(client, settings, opts);
          return { json: after.json, text: `${chosen} is now current\n${after.text}` };
        }),
      ),
    );

  deploy
    .command('ramp')
    .description('send a share of new asks (and of the long-lived workflows) to a build, beside the current one')
    .argument('<build-id>', 'the build to ramp')
    .argument('<percent>', '0 to 100', percentage)
    .option('--allow-no-pollers', 'ramp it even though no worker of it polls yet')
    .action(
      action(async (settings, buildId: string, percent: number, _opts: unknown, command: Command) =>
        withTemporal(settings, async (client) => {
          const opts = deploymentOptions(command);
          const deployment = opts.deployment ?? deploymentNameOf(settings);
          await setRampingVersion(client, deployment, buildId, percent, { allowNoPollers: opts.allowNoPollers });
          const after = await report(client, settings, opts);
          return { json: after.json, text: `${buildId} ramps at ${percent}%\n${after.text}` };
        }),
      ),
    );
}
