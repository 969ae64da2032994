import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node' with { 'resolution-mode': 'import' };
import { startLocalStack } from '../../src/local-stack/local-stack';
import { workflowBundle } from '../../src/worker/worker';

export interface SharedStack {
  temporalAddress: string;
  namespace: string;
  region: string;
  awsEndpoint: string;
  /** The workflow bundle, built once for every test file. */
  workflowBundlePath: string;
}

declare module 'vitest' {
  export interface ProvidedContext {
    stack: SharedStack;
  }
}

/** One Temporal dev server and one moto for the whole run; each test uses its own task queue. */
export default async function setup(project: TestProject) {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const [stack, bundle] = await Promise.all([startLocalStack(), workflowBundle()]);
  const dir = mkdtempSync(join(tmpdir(), 'sms-ask-test-'));
  const workflowBundlePath = join(dir, 'workflow-bundle.js');
  writeFileSync(workflowBundlePath, bundle.code);
  project.provide('stack', {
    temporalAddress: stack.temporalAddress,
    namespace: stack.namespace,
    region: stack.region,
    awsEndpoint: stack.awsEndpoint,
    workflowBundlePath,
  });
  return async () => {
    await stack.stop();
    rmSync(dir, { recursive: true, force: true });
  };
}
