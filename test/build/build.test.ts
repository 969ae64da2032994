/**
 * `npm run build` and what runs it: the command runs the compiled code with no TypeScript loader,
 * and a build older than its sources (any file under src/, not a fixed list) is refused, bundle
 * included. The global setup has already built dist/ from the current sources.
 */
import { execFile } from 'node:child_process';
import {
  appendFileSync,
  cpSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { changedSinceBuild, currentBuildInputs } from '../../src/build/build-info';

const ROOT = path.resolve(__dirname, '../..');

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

async function run(file: string, args: string[], env: NodeJS.ProcessEnv = {}, cwd = ROOT): Promise<Run> {
  try {
    const { stdout, stderr } = await promisify(execFile)(file, args, {
      cwd,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
      timeout: 60_000,
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

describe('the compiled sms-ask command', () => {
  it('runs `sms-ask --help` under plain node with no TypeScript loader in the process', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'sms-ask-probe-'));
    try {
      // Preloaded into the CLI's process: at exit, it lists every module loaded and the file extensions Node can require.
      const report = path.join(dir, 'report.json');
      const probe = path.join(dir, 'probe.cjs');
      writeFileSync(
        probe,
        `process.on('exit', () => require('node:fs').writeFileSync(${JSON.stringify(report)}, JSON.stringify({ modules: Object.keys(require.cache), extensions: Object.keys(require.extensions), execArgv: process.execArgv })));\n`,
      );
      const out = await run(process.execPath, ['bin/sms-ask', '--help'], { NODE_OPTIONS: `--require ${probe}` });
      expect(out.code, out.stderr).toBe(0);
      expect(out.stdout).toContain('Usage: sms-ask');
      expect(out.stderr).toBe('');
      const { modules, extensions, execArgv } = JSON.parse(readFileSync(report, 'utf8')) as {
        modules: string[];
        extensions: string[];
        execArgv: string[];
      };
      expect(modules).toContain(path.join(ROOT, 'dist/cli/main.js'));
      expect(
        modules.filter(
          (m) => /[\\/]node_modules[\\/](tsx|esbuild|typescript|ts-node|@swc)[\\/]/.test(m) || m.endsWith('.ts'),
        ),
      ).toEqual([]);
      expect(extensions).not.toContain('.ts');
      expect(execArgv.join(' ')).not.toMatch(/tsx|ts-node|loader/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('prints no deprecation or Node.js support warning, even with the AWS SDK loaded', async () => {
    // `reply` builds an SNS client, which by default warns on Node 20, and fails at once on a closed port.
    const aws = {
      AWS_REGION: 'us-east-1',
      AWS_ENDPOINT_URL: 'http://127.0.0.1:1',
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      SMS_ASK_AWS_MAX_ATTEMPTS: '1',
      SMS_ASK_INBOUND_TOPIC_ARN: 'arn:aws:sns:us-east-1:123456789012:sms-ask-inbound',
    };
    const out = await run(process.execPath, ['bin/sms-ask', 'reply', '--from', '+12065550142', '1418'], aws);
    expect(out.code).toBe(1);
    expect(out.stderr).toContain('ECONNREFUSED');
    expect(out.stderr).not.toMatch(/Warning|deprecat/i);
  });
});

describe('a build older than its sources', () => {
  let copy: string;

  /** A copy of the checkout (sources, manifests, dist/, bin/) sharing node_modules, to change sources in. */
  beforeAll(() => {
    copy = mkdtempSync(path.join(tmpdir(), 'sms-ask-checkout-'));
    for (const entry of [
      'src',
      'dist',
      'bin',
      'package.json',
      'package-lock.json',
      'tsconfig.json',
      'tsconfig.build.json',
    ]) {
      cpSync(path.join(ROOT, entry), path.join(copy, entry), { recursive: true });
    }
    symlinkSync(path.join(ROOT, 'node_modules'), path.join(copy, 'node_modules'));
  });
  afterAll(() => rmSync(copy, { recursive: true, force: true }));

  const loadBundle = () =>
    run(
      process.execPath,
      ['-e', "console.log(JSON.stringify(require('./dist/worker/workflow-bundle.js').builtWorkflowBundle()))"],
      {},
      copy,
    );

  it('loads the bundle by path while the sources match, and refuses it, naming the file, once a workflow file is added', async () => {
    const fresh = await loadBundle();
    expect(fresh.code, fresh.stderr).toBe(0);
    expect(JSON.parse(fresh.stdout)).toEqual({ codePath: path.join(copy, 'dist/workflow-bundle.js') });

    mkdirSync(path.join(copy, 'src/workflows'), { recursive: true });
    writeFileSync(path.join(copy, 'src/workflows/new-reminder-rule.ts'), 'export const rule = 1;\n');
    const stale = await loadBundle();
    expect(stale.code).not.toBe(0);
    expect(stale.stderr).toContain('StaleBuildError');
    expect(stale.stderr).toContain('src/workflows/new-reminder-rule.ts');
    expect(stale.stderr).toContain('npm run build');

    const cli = await run(process.execPath, ['bin/sms-ask', '--help'], {}, copy);
    expect(cli.code).toBe(1);
    expect(cli.stderr).toMatch(/does not match the sources .*new-reminder-rule\.ts.*npm run build/);
    rmSync(path.join(copy, 'src/workflows/new-reminder-rule.ts'));
  });

  it('refuses a bundle that is not the one the build wrote', async () => {
    appendFileSync(path.join(copy, 'dist/workflow-bundle.js'), '\n// edited by hand\n');
    const out = await loadBundle();
    expect(out.code).not.toBe(0);
    expect(out.stderr).toContain('dist/workflow-bundle.js is not the bundle this build wrote');
  });
});

describe('build inputs', () => {
  it('are every file under src/ with the compiler settings and the lockfile, each changed one reported', () => {
    const now = currentBuildInputs(ROOT);
    expect(Object.keys(now)).toEqual(
      expect.arrayContaining([
        'src/workflows/ask.ts',
        'src/workflows/index.ts',
        'src/cli/main.ts',
        'tsconfig.json',
        'package-lock.json',
      ]),
    );
    const changed: Record<string, string> = { ...now, 'src/workflows/ask.ts': 'edited' };
    delete changed['src/workflows/index.ts'];
    expect(
      changedSinceBuild(
        { inputs: now, workflowBundleSha256: '', node: '' },
        { ...changed, 'src/workflows/added.ts': 'x' },
      ),
    ).toEqual(['src/workflows/added.ts', 'src/workflows/ask.ts', 'src/workflows/index.ts']);
  });
});
