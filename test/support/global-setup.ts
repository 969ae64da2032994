import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import type { TestProject } from 'vitest/node' with { 'resolution-mode': 'import' };
import { WORKFLOW_BUNDLE_FILE } from '../../src/build/build-info';
import { startLocalStack } from '../../src/local-stack/local-stack';

export interface SharedStack {
  temporalAddress: string;
  namespace: string;
  region: string;
  awsEndpoint: string;
  /** The workflow bundle of `npm run build`, built from the current sources for every test file. */
  workflowBundlePath: string;
}

declare module 'vitest' {
  export interface ProvidedContext {
    stack: SharedStack;
  }
}

/** `npm run build` unless dist/ already matches the sources: the CLI tests run the compiled command. */
async function buildIfStale(): Promise<void> {
  const script = path.resolve(__dirname, '../../scripts/build.js');
  await promisify(execFile)(process.execPath, [script, '--if-stale'], { timeout: 300_000 }).catch(
    (err: { stdout?: string; stderr?: string }) => {
      throw new Error(`npm run build failed:\n${err.stdout ?? ''}${err.stderr ?? ''}`);
    },
  );
}

/** One Temporal dev server and one moto for the whole run; each test uses its own task queue. */
export default async function setup(project: TestProject) {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const [stack] = await Promise.all([startLocalStack(), buildIfStale()]);
  const workflowBundlePath = WORKFLOW_BUNDLE_FILE;
  project.provide('stack', {
    temporalAddress: stack.temporalAddress,
    namespace: stack.namespace,
    region: stack.region,
    awsEndpoint: stack.awsEndpoint,
    workflowBundlePath,
  });
  return async () => {
    await stack.stop();
  };
}
