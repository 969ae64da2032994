import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { sharedStack } from '../support/harness';

/**
 * Every workflow evaluates the whole bundle in its context and keeps it while cached, so a heavy
 * library here costs CPU and memory per pending ask. Validation and phone-number parsing run in
 * the client and in activities instead.
 */
describe('the workflow bundle', () => {
  const bundledPackages = () => {
    const code = readFileSync(sharedStack().workflowBundlePath, 'utf8');
    return new Set([...code.matchAll(/\/node_modules\/((?:@[^/]+\/)?[^/]+)\//g)].map((match) => match[1]));
  };

  it('leaves out zod and libphonenumber-js', () => {
    const packages = bundledPackages();
    expect(packages).toContain('@temporalio/workflow');
    expect(packages).not.toContain('zod');
    expect(packages).not.toContain('libphonenumber-js');
  });
});
