import { workflowInfo } from '@temporalio/workflow';
import type { VersioningBehavior } from '@temporalio/common';

/**
 * A workflow type's Worker Versioning behaviour, given only on a versioned worker: an unversioned
 * one must not send any (the server refuses the task's completion).
 */
export function versioningBehavior(behavior: VersioningBehavior): () => { versioningBehavior?: VersioningBehavior } {
  return () => (workflowInfo().currentDeploymentVersion?.deploymentName ? { versioningBehavior: behavior } : {});
}
