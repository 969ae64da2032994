/** Reads policies from files: the presets file (SMS_ASK_POLICY_FILE) and a single policy for `ask --policy file.yaml`. */
import { ConfigError, SETTINGS_ENV, readConfigFile } from '../config';
import { checkPresets, formatIssuePath, policySchema } from '../domain/policy';
import type { PolicyInput, PolicyPresets } from '../domain/policy';

/** The presets of a policy file, `{ presets: { name: policy } }`; each preset checked field by field. */
export function loadPolicyPresets(file: string): PolicyPresets {
  const setting = SETTINGS_ENV.policyFile;
  const { presets, problems } = checkPresets(readConfigFile(file, setting));
  if (problems.length) throw new ConfigError(problems.map((p) => `${setting} (${file}) ${p}`));
  return presets;
}

/** One policy written in its own JSON or YAML file. */
export function readPolicyFile(file: string): PolicyInput {
  const raw = readConfigFile(file, '--policy');
  const parsed = policySchema.safeParse(raw);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map(
        (issue) => `--policy ${file}: ${formatIssuePath(['policy', ...issue.path])}: ${issue.message}`,
      ),
    );
  }
  return raw as PolicyInput;
}
