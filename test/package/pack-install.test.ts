/**
 * sms-ask as a user gets it from a registry: `npm pack`, installed into an empty project, then
 * under plain node (no TypeScript loader, no sources): the library, the command, and a worker
 * that answers an ask on the local stack.
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SmsAskClient } from '../../src/client/sms-ask-client';
import { provisionInboundResources } from '../../src/local-stack/local-stack';
import { publishPhoneReply, waitForSms } from '../../src/local-stack/phone-simulator';
import { localAws, newPhone, sharedStack, sharedStackClient } from '../support/harness';
import { WorkerProcess, workerEnv } from '../support/worker-process';

const ROOT = path.resolve(__dirname, '../..');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const exec = promisify(execFile);

interface PackResult {
  filename: string;
  size: number;
  unpackedSize: number;
  files: { path: string }[];
}

let dir: string;
let project: string;
let packed: PackResult;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'sms-ask-pack-'));
  project = path.join(dir, 'project');
  // dist/ is current: the global setup built it. (`npm pack` alone runs the same build through prepack.)
  const { stdout } = await exec(npm, ['pack', '--json', '--ignore-scripts', '--pack-destination', dir], { cwd: ROOT });
  packed = (JSON.parse(stdout) as PackResult[])[0]!;
  mkdirSync(project);
  writeFileSync(
    path.join(project, 'package.json'),
    JSON.stringify({ name: 'uses-sms-ask', version: '1.0.0', private: true }),
  );
  await exec(npm, ['install', '--prefer-offline', '--no-audit', '--no-fund', path.join(dir, packed.filename)], {
    cwd: project,
    timeout: 600_000,
  });
}, 660_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Plain node in the user's project: no NODE_OPTIONS, no loader. */
const plainEnv = () => ({ PATH: process.env.PATH, HOME: process.env.HOME });

describe('the packed package', () => {
  it('holds the CLI, the compiled code with its declarations and the workflow bundle, and no sources', () => {
    const files = packed.files.map((file) => file.path);
    expect(files).toEqual(
      expect.arrayContaining([
        'bin/sms-ask',
        'dist/index.js',
        'dist/index.d.ts',
        'dist/cli/main.js',
        'dist/workflow-bundle.js',
        'dist/build-info.json',
        'package.json',
        'README.md',
      ]),
    );
    // The operator console's page and assets, which `sms-ask serve` serves from the package itself.
    expect(files).toEqual(
      expect.arrayContaining([
        'dist/http/console.js',
        'dist/http/console/index.html',
        'dist/http/console/console.mjs',
        'dist/http/console/format.mjs',
        'dist/http/console/console.css',
      ]),
    );
    expect(
      files.filter(
        (file) =>
          /^(src|test|bench|scripts|examples)\//.test(file) ||
          file.startsWith('dist/demo/') ||
          (file.endsWith('.ts') && !file.endsWith('.d.ts')),
      ),
    ).toEqual([]);
    console.log(
      `packed ${packed.filename}: ${(packed.size / 1024).toFixed(0)} KiB, ${(packed.unpackedSize / 1024).toFixed(0)} KiB unpacked, ${files.length} files`,
    );
  });

  it('imports SmsAskClient under plain node, with require and with import', async () => {
    const required = await exec(process.execPath, ['-e', "console.log(typeof require('sms-ask').SmsAskClient)"], {
      cwd: project,
      env: plainEnv(),
    });
    expect(required.stdout.trim()).toBe('function');
    const imported = await exec(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        "import { SmsAskClient, loadSettings } from 'sms-ask'; console.log(typeof SmsAskClient, typeof loadSettings)",
      ],
      { cwd: project, env: plainEnv() },
    );
    expect(imported.stdout.trim()).toBe('function function');
    expect(imported.stderr).toBe('');
  });

  it('runs `sms-ask --help` from node_modules/.bin', async () => {
    const { stdout, stderr } = await exec(path.join(project, 'node_modules/.bin/sms-ask'), ['--help'], {
      cwd: project,
      env: plainEnv(),
    });
    expect(stdout).toContain('Usage: sms-ask');
    expect(stdout).toContain('worker');
    expect(stderr).toBe('');
  });

  it("has the operator console's page beside the compiled server, where `sms-ask serve` loads it from", async () => {
    const script =
      "const { loadConsoleAssets } = require('./node_modules/sms-ask/dist/http/console.js'); console.log([...loadConsoleAssets().keys()].sort().join(' '))";
    const { stdout } = await exec(process.execPath, ['-e', script], { cwd: project, env: plainEnv() });
    expect(stdout.trim()).toBe('console.css console.mjs format.mjs icon.svg index.html');
  });

  it('starts a worker against the local stack that answers an ask', async () => {
    const aws = localAws();
    const name = `pack-${randomUUID().slice(0, 8)}`;
    const inbound = await provisionInboundResources({
      ...aws,
      queueName: name,
      topicName: name,
      visibilityTimeoutSeconds: 5,
      maxReceiveCount: 3,
    });
    const taskQueue = `pack-${randomUUID()}`;
    const worker = await WorkerProcess.start(
      [process.execPath, path.join(project, 'node_modules/.bin/sms-ask'), 'worker'],
      workerEnv(sharedStack(), { taskQueue, queueUrl: inbound.queueUrl }),
      project,
    );
    const client = await sharedStackClient();
    try {
      const phone = newPhone();
      const asks = new SmsAskClient(client, { taskQueue });
      const { askId } = await asks.start({
        to: phone,
        question: 'Block the sender domain?',
        options: ['Yes', 'No'],
        timeout: '10m',
      });
      const sms = await waitForSms(sharedStack().awsEndpoint, (m) => m.phoneNumber === phone, 30_000);
      const code = /No \((\d+)\)/.exec(sms.message)![1]!;
      await publishPhoneReply(aws.sns, inbound.topicArn, { from: phone, body: code });
      const result = await asks.result(askId);
      expect(result.status).toBe('answered');
      expect(result.answer).toMatchObject({ option: 'No', via: 'sms', by: phone });
    } finally {
      await client.connection.close();
      expect(await worker.stop()).toBe(0);
    }
    // The installed worker ran the bundle it shipped with, and printed no runtime warning.
    expect(worker.log).not.toMatch(/Warning|deprecat/i);
  });
});
