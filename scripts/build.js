#!/usr/bin/env node
// `npm run build`: compiles src/ to dist/ (JavaScript and declarations, tsconfig.build.json),
// copies the operator console's page and assets (src/http/console/, no compile step) beside the
// compiled server, bundles the workflow code once into dist/workflow-bundle.js, and records in
// dist/build-info.json a digest of every input (each file under src/, the tsconfigs, the lockfile)
// and of the bundle, so that nothing runs a build that is older than its sources.
//   --if-stale   do nothing when dist/ matches the sources (what `npm run demo`/`npm test` use)
'use strict';

const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');

const ROOT = path.resolve(__dirname, '..');
const DIST = path.join(ROOT, 'dist');
const BUILD_INFO = path.join(DIST, 'build-info.json');
/** Held while building, so that two test runs that both find dist/ stale do not build over each other. */
const LOCK = path.join(ROOT, '.build.lock');
const LOCK_WAIT_MS = 10 * 60 * 1000;
const say = (line) => console.log(`[build] ${line}`);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return err.code === 'EPERM';
  }
}

/** Takes the build lock, waiting for another build to finish; a lock whose process is gone is taken over. */
async function lock() {
  const deadline = Date.now() + LOCK_WAIT_MS;
  let waiting = false;
  for (;;) {
    try {
      fs.writeFileSync(LOCK, String(process.pid), { flag: 'wx' });
      return () => fs.rmSync(LOCK, { force: true });
    } catch (err) {
      if (err.code !== 'EEXIST') throw err;
    }
    const holder = Number(fs.readFileSync(LOCK, 'utf8').trim() || NaN);
    if (!alive(holder)) {
      fs.rmSync(LOCK, { force: true });
      continue;
    }
    if (Date.now() > deadline) throw new Error(`another build (pid ${holder}) holds ${LOCK}`);
    if (!waiting) say(`waiting for another build (pid ${holder}) to finish …`);
    waiting = true;
    await sleep(250);
  }
}

/** Build inputs that changed since the last build; undefined when there is no usable build. */
function changedSinceBuild() {
  let buildInfo;
  try {
    buildInfo = require(path.join(DIST, 'build', 'build-info.js'));
  } catch {
    return undefined;
  }
  const info = buildInfo.readBuildInfo();
  return info ? buildInfo.changedSinceBuild(info) : undefined;
}

async function build() {
  const started = Date.now();
  const seconds = () => `${((Date.now() - started) / 1000).toFixed(1)} s`;
  fs.rmSync(DIST, { recursive: true, force: true });
  say('compiling src/ to dist/ (tsc -p tsconfig.build.json) …');
  const tsc = spawnSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.build.json'], {
    cwd: ROOT,
    stdio: 'inherit',
  });
  if (tsc.status !== 0) throw new Error('tsc failed (see above)');
  fs.cpSync(path.join(ROOT, 'src', 'http', 'console'), path.join(DIST, 'http', 'console'), {
    recursive: true,
    filter: (file) => !file.endsWith('.d.mts'),
  });
  say(`bundling the workflow code (${seconds()}) …`);
  const { bundleWorkflows } = require(path.join(DIST, 'worker', 'workflow-bundle.js'));
  const { currentBuildInputs, sha256, WORKFLOW_BUNDLE_FILE } = require(path.join(DIST, 'build', 'build-info.js'));
  const { code } = await bundleWorkflows();
  fs.writeFileSync(WORKFLOW_BUNDLE_FILE, code);
  const info = { inputs: currentBuildInputs(ROOT), workflowBundleSha256: sha256(code), node: process.version };
  fs.writeFileSync(BUILD_INFO, JSON.stringify(info, null, 2) + '\n');
  say(`dist/ built in ${seconds()} (workflow bundle ${(code.length / 1024 / 1024).toFixed(1)} MB)`);
}

async function main() {
  const unlock = await lock();
  try {
    if (process.argv.includes('--if-stale')) {
      const changed = changedSinceBuild();
      if (changed && changed.length === 0) {
        say('dist/ is up to date');
        return;
      }
      say(
        changed
          ? `sources changed since the last build: ${changed.slice(0, 3).join(', ')}${changed.length > 3 ? ' …' : ''}`
          : 'no build yet',
      );
    }
    await build();
  } finally {
    unlock();
  }
}

main().catch((err) => {
  console.error(`[build] FAILED: ${err instanceof Error ? err.message : err}`);
  process.exit(1);
});
