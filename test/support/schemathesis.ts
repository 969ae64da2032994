/** Schemathesis, installed by `scripts/bootstrap.js --test-server` into its own venv under .tools. */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { TOOLS_DIR } from '../../src/local-stack/tools';

export function schemathesisBinary(): string {
  const bin =
    process.env.SMS_ASK_SCHEMATHESIS ??
    path.join(TOOLS_DIR, 'schemathesis', 'venv', process.platform === 'win32' ? 'Scripts' : 'bin', 'schemathesis');
  if (!existsSync(bin))
    throw new Error(`schemathesis is not installed at ${bin}: run \`node scripts/bootstrap.js --test-server\``);
  return bin;
}
