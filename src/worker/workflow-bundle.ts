/**
 * The workflow code as the worker loads it. `npm run build` bundles it once (webpack, through the
 * SDK's bundleWorkflowCode) into dist/workflow-bundle.js; the compiled worker loads that file by
 * path and never runs webpack. Run from the TypeScript sources (tests, tsx), it bundles them instead.
 */
import fs from 'node:fs';
import path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import type { BundleOptions, WorkflowBundlePath, WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { StaleBuildError, WORKFLOW_BUNDLE_FILE, assertBuildCurrent, readBuildInfo, sha256 } from '../build/build-info';

// Directories and extension-less paths: the bundler finds index.ts or index.js, x.ts or x.js, itself.
const WORKFLOWS_DIR = path.resolve(__dirname, '../workflows');
/** Workflow interceptors that every sms-ask worker runs; with a prebuilt bundle they must be inside it. */
export const WORKFLOW_INTERCEPTOR_MODULES: readonly string[] = [path.join(WORKFLOWS_DIR, 'metrics-interceptor')];

const quietBundlerLogger = {
  log: () => undefined,
  trace: () => undefined,
  debug: () => undefined,
  info: () => undefined,
  warn: (message: string) => console.warn(message),
  error: (message: string) => console.error(message),
};

/** The same options for the build, for tests that bundle their own workflows, and for bundling from source. */
export function workflowBundleOptions(workflowsPath: string = WORKFLOWS_DIR): BundleOptions {
  return { workflowsPath, workflowInterceptorModules: [...WORKFLOW_INTERCEPTOR_MODULES], logger: quietBundlerLogger };
}

/** Bundles the workflows this module sits beside (src/ or dist/): what `npm run build` writes, and what tests load. */
export function bundleWorkflows(): Promise<WorkflowBundleWithSourceMap> {
  return bundleWorkflowCode(workflowBundleOptions());
}

/** True when this module is the compiled JavaScript in dist/, not the TypeScript source. */
export const RUNNING_COMPILED = __filename.endsWith('.js');

/**
 * The prebuilt bundle, by path, once it is known to match: its digest is the one the build
 * recorded, and (in a source checkout) the sources have not changed since. Never a stale bundle.
 */
export function builtWorkflowBundle(): WorkflowBundlePath {
  assertBuildCurrent();
  const info = readBuildInfo();
  if (!info) throw new StaleBuildError(['dist/build-info.json is missing']);
  let code: Buffer;
  try {
    code = fs.readFileSync(WORKFLOW_BUNDLE_FILE);
  } catch {
    throw new StaleBuildError(['dist/workflow-bundle.js is missing']);
  }
  if (sha256(code) !== info.workflowBundleSha256)
    throw new StaleBuildError(['dist/workflow-bundle.js is not the bundle this build wrote']);
  return { codePath: WORKFLOW_BUNDLE_FILE };
}
