/**
 * What `npm run build` records beside its output (dist/build-info.json), and the check that the
 * compiled code and the workflow bundle were built from the sources that sit next to them.
 * An installed package has no sources beside it: there, only the bundle's own digest is checked.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

/** The package's root: the nearest folder at or above this module that holds a package.json (from src/ and from dist/). */
export const PACKAGE_ROOT: string = findPackageRoot(__dirname);

function findPackageRoot(start: string): string {
  for (let dir = start; ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'package.json'))) return dir;
    if (path.dirname(dir) === dir) return path.resolve(__dirname, '..', '..');
  }
}

export const DIST_DIR = path.join(PACKAGE_ROOT, 'dist');
export const BUILD_INFO_FILE = path.join(DIST_DIR, 'build-info.json');
export const WORKFLOW_BUNDLE_FILE = path.join(DIST_DIR, 'workflow-bundle.js');

/** Inputs of the build besides src/: compiler settings and the locked dependencies that the bundle includes. */
const BUILD_INPUT_FILES = ['tsconfig.json', 'tsconfig.build.json', 'package-lock.json'];

export interface BuildInfo {
  /** sha256 of every build input (each file under src/, plus BUILD_INPUT_FILES), by path from the package root. */
  inputs: Record<string, string>;
  /** sha256 of dist/workflow-bundle.js. */
  workflowBundleSha256: string;
  /** The Node.js that built it, for the record. */
  node: string;
}

/** Thrown when dist/ is missing, or older than the sources beside it; says which files changed and what to run. */
export class StaleBuildError extends Error {
  constructor(readonly changed: readonly string[]) {
    const listed = changed.slice(0, 5).join(', ') + (changed.length > 5 ? ` and ${changed.length - 5} more` : '');
    super(`the build in dist/ does not match the sources (${listed}): run \`npm run build\``);
    this.name = 'StaleBuildError';
  }
}

export function sha256(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

function filesUnder(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return filesUnder(full);
    return entry.isFile() ? [full] : [];
  });
}

/** sha256 of each build input as it is now: whatever src/ holds today, not a fixed list. */
export function currentBuildInputs(root: string = PACKAGE_ROOT): Record<string, string> {
  const files = [
    ...filesUnder(path.join(root, 'src')),
    ...BUILD_INPUT_FILES.map((file) => path.join(root, file)).filter((file) => fs.existsSync(file)),
  ];
  const relative = (file: string) => path.relative(root, file).split(path.sep).join('/');
  return Object.fromEntries(
    files.map((file) => [relative(file), sha256(fs.readFileSync(file))]).sort(([a], [b]) => (a! < b! ? -1 : 1)),
  );
}

export function readBuildInfo(): BuildInfo | undefined {
  try {
    return JSON.parse(fs.readFileSync(BUILD_INFO_FILE, 'utf8')) as BuildInfo;
  } catch {
    return undefined;
  }
}

/** Build inputs added, removed or changed since the build; empty when it is current. */
export function changedSinceBuild(info: BuildInfo, now: Record<string, string> = currentBuildInputs()): string[] {
  const paths = new Set([...Object.keys(info.inputs), ...Object.keys(now)]);
  return [...paths].filter((file) => info.inputs[file] !== now[file]).sort();
}

/** True in a source checkout (src/ beside dist/), where the build can fall behind the sources. */
export function isSourceCheckout(root: string = PACKAGE_ROOT): boolean {
  return fs.existsSync(path.join(root, 'src'));
}

/**
 * Throws StaleBuildError unless dist/ was built from the sources beside it. In an installed
 * package there are no sources, and the package was built when it was packed.
 */
export function assertBuildCurrent(): void {
  if (!isSourceCheckout()) return;
  const info = readBuildInfo();
  if (!info) throw new StaleBuildError(['dist/build-info.json is missing']);
  const changed = changedSinceBuild(info);
  if (changed.length > 0) throw new StaleBuildError(changed);
}
