/**
 * Worker Versioning: which worker deployment and build a worker belongs to, and whether the server
 * can route by them. An ask is Pinned to the build it started on; the long-lived workflows are
 * Auto-Upgrade (each workflow file says which). Off by default: the worker then runs unversioned.
 */
import fs from 'node:fs';
import type { Client } from '@temporalio/client';
import type { WorkerDeploymentVersion } from '@temporalio/common';
import type { WorkerDeploymentOptions, WorkflowBundleOption } from '@temporalio/worker';
import type { Settings } from '../config';
import { WORKFLOW_BUNDLE_FILE, readBuildInfo, sha256 } from '../build/build-info';

/** Hex digits of the bundle's sha256 kept in a derived build ID: 48 bits, readable in a listing. */
const BUILD_ID_DIGITS = 12;

/** Versioning is on but no build ID can be told: the workflows come from a path, not a bundle. */
export class BuildIdUnknownError extends Error {
  constructor() {
    super(
      'SMS_ASK_WORKER_VERSIONING is on, but the workflows are not a bundle whose digest names the build: set SMS_ASK_BUILD_ID, or turn versioning off',
    );
    this.name = 'BuildIdUnknownError';
  }
}

/** The build ID of a workflow bundle: the start of its sha256, so the same workflow code is the same version. */
export function buildIdOfDigest(bundleSha256: string): string {
  if (!/^[0-9a-f]{64}$/.test(bundleSha256)) throw new Error(`not a sha256 digest: ${bundleSha256}`);
  return bundleSha256.slice(0, BUILD_ID_DIGITS);
}

/**
 * The digest of the workflow code a worker loads: the one `npm run build` recorded for its bundle
 * (dist/build-info.json; the worker has checked the file against it), a bundle file's own, or
 * that of a bundle made in memory from the sources. Undefined for workflows loaded by path.
 */
export function workflowBundleDigest(bundle: WorkflowBundleOption | undefined): string | undefined {
  if (!bundle) return undefined;
  if ('code' in bundle) return sha256(bundle.code);
  if (bundle.codePath === WORKFLOW_BUNDLE_FILE) {
    const recorded = readBuildInfo()?.workflowBundleSha256;
    if (recorded) return recorded;
  }
  return sha256(fs.readFileSync(bundle.codePath));
}

/** The worker deployment's name: the setting, else the task queue's. */
export function deploymentNameOf(settings: Pick<Settings, 'deploymentName' | 'taskQueue'>): string {
  return settings.deploymentName ?? settings.taskQueue;
}

/** This worker's version (deployment and build), or undefined when versioning is off. */
export function workerVersionOf(
  settings: Pick<Settings, 'workerVersioning' | 'deploymentName' | 'buildId' | 'taskQueue'>,
  bundleDigest: string | undefined,
): WorkerDeploymentVersion | undefined {
  if (!settings.workerVersioning) return undefined;
  const deploymentName = deploymentNameOf(settings);
  const buildId = settings.buildId ?? (bundleDigest && buildIdOfDigest(bundleDigest));
  if (!buildId) throw new BuildIdUnknownError();
  return { deploymentName, buildId };
}

/**
 * The SDK's deployment options for a version. Workflow types not marked otherwise are Pinned:
 * a short workflow ends on the code it started on.
 */
export function deploymentOptionsFor(version: WorkerDeploymentVersion): WorkerDeploymentOptions {
  return { version, useWorkerVersioning: true, defaultVersioningBehavior: 'PINNED' };
}

/** The version as the server writes it (search attribute TemporalWorkerDeploymentVersion, CLI): `name:buildId`. */
export function versionString(version: WorkerDeploymentVersion): string {
  return `${version.deploymentName}:${version.buildId}`;
}

export type VersioningSupport = { supported: true } | { supported: false; reason: string };

interface GrpcLikeError {
  code?: number;
  details?: string;
  message?: string;
}

const GRPC_NOT_FOUND = 5;
const GRPC_PERMISSION_DENIED = 7;
const GRPC_FAILED_PRECONDITION = 9;
const GRPC_UNIMPLEMENTED = 12;

/**
 * Whether the server has worker deployments, by describing one: a deployment not found yet is
 * fine (the first worker creates it); an unknown method, or the feature turned off, is not.
 * Other errors (the server unreachable) are thrown.
 */
export async function versioningSupport(client: Client, deploymentName: string): Promise<VersioningSupport> {
  try {
    await client.workflowService.describeWorkerDeployment({ namespace: client.options.namespace, deploymentName });
    return { supported: true };
  } catch (err) {
    const { code, details, message } = err as GrpcLikeError;
    if (code === GRPC_NOT_FOUND) return { supported: true };
    if (code === GRPC_UNIMPLEMENTED)
      return {
        supported: false,
        reason: 'the server has no worker deployments (Temporal Server 1.29.1 or later and Temporal Cloud have them)',
      };
    if (code === GRPC_FAILED_PRECONDITION || code === GRPC_PERMISSION_DENIED)
      return { supported: false, reason: `the server refuses worker deployments: ${details ?? message ?? code}` };
    throw err;
  }
}
