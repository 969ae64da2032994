import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { once } from 'node:events';
import { loadSettings } from '../config';
import { startLocalStack } from '../local-stack/local-stack';
import { installQuietRuntime } from '../worker/runtime';
import { installWorkerRuntime, runWorker } from '../worker/run-worker';

const pidFileOf = (envFile: string) => `${envFile}.pid`;

/** Runs the local stack in this process until SIGINT/SIGTERM, with a worker unless told not to. */
export async function runStack({ envFile, worker }: { envFile: string; worker: boolean }): Promise<void> {
  // The dev server's start makes Temporal's runtime: set it up for the worker first.
  if (worker) await installWorkerRuntime(loadSettings());
  else installQuietRuntime();
  // The env file appears once the stack runs (scripts wait for it), so a stale one must not linger.
  rmSync(envFile, { force: true });
  const stack = await startLocalStack({ log: (line) => console.error(line) });
  try {
    mkdirSync(dirname(envFile), { recursive: true });
    writeFileSync(
      envFile,
      Object.entries(stack.env)
        .map(([k, v]) => `${k}=${v}`)
        .join('\n') + '\n',
    );
    writeFileSync(pidFileOf(envFile), `${process.pid}\n`);
    Object.assign(process.env, stack.env);
    console.error(`Local stack ready. Settings written to ${envFile}; load them with:  set -a; . ${envFile}; set +a`);
    if (worker) {
      await runWorker(loadSettings());
    } else {
      await Promise.race([once(process, 'SIGINT'), once(process, 'SIGTERM')]);
    }
  } finally {
    rmSync(envFile, { force: true });
    rmSync(pidFileOf(envFile), { force: true });
    await stack.stop();
  }
}

/** Stops a stack started with `stack up` in the background; returns its pid. */
export async function stopBackgroundStack(envFile: string): Promise<number> {
  let pid: number;
  try {
    pid = Number(readFileSync(pidFileOf(envFile), 'utf8').trim());
  } catch {
    throw new Error(`No local stack is running (no ${pidFileOf(envFile)}).`);
  }
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    rmSync(pidFileOf(envFile), { force: true });
    throw new Error(`The local stack (pid ${pid}) was not running; removed its stale pid file.`);
  }
  for (let waited = 0; waited < 30_000; waited += 200) {
    try {
      process.kill(pid, 0);
    } catch {
      return pid;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`The local stack (pid ${pid}) did not stop within 30 s; kill it with: kill -9 ${pid}`);
}
