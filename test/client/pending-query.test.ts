import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadPolicyPresets } from '../../src/client/policy-file';
import { pendingAsksVisibilityQuery } from '../../src/client/sms-ask-client';

describe('pending filters', () => {
  const now = new Date('2025-01-06T09:00:00Z');

  it('lists only running asks of this task queue by default', () => {
    expect(pendingAsksVisibilityQuery('sms-ask', {}, now)).toBe(
      "WorkflowType = 'askWorkflow' AND ExecutionStatus = 'Running' AND TaskQueue = 'sms-ask'",
    );
  });

  it('turns every filter into a search attribute condition', () => {
    expect(
      pendingAsksVisibilityQuery(
        'q',
        {
          recipient: '+12065550142',
          entitlement: 'e-1',
          incident: '1042',
          policy: 'critical-approval',
          overdue: true,
          escalated: true,
        },
        now,
      ),
    ).toBe(
      "WorkflowType = 'askWorkflow' AND ExecutionStatus = 'Running' AND TaskQueue = 'q'" +
        " AND SmsAskRecipients = '+12065550142' AND SmsAskEntitlement = 'e-1' AND SmsAskIncident = '1042'" +
        " AND SmsAskPolicy = 'critical-approval' AND SmsAskDeadline < '2025-01-06T09:00:00.000Z' AND SmsAskTier > 0",
    );
  });

  it('quotes values, so that a filter cannot change the query', () => {
    expect(pendingAsksVisibilityQuery('q', { entitlement: "x' OR WorkflowType = 'y" }, now)).toContain(
      "SmsAskEntitlement = 'x\\' OR WorkflowType = \\'y'",
    );
  });

  it('refuses a control character, on which the visibility store would hang', () => {
    expect(() => pendingAsksVisibilityQuery('q', { incident: 'inc\u0000-1' }, now)).toThrow(/control characters/);
  });
});

describe('policy file', () => {
  const write = (text: string) => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'sms-ask-policies-')), 'policies.yaml');
    writeFileSync(file, text);
    return file;
  };

  it('reads the presets of examples/policies.yaml', () => {
    const presets = loadPolicyPresets(path.resolve(__dirname, '../../examples/policies.yaml'));
    expect(Object.keys(presets)).toEqual(['critical-approval', 'two-person-rule', 'low-priority']);
  });

  it('names the preset and the field that is wrong', () => {
    const file = write('presets:\n  urgent:\n    timeout: soon\n');
    expect(() => loadPolicyPresets(file)).toThrow(
      `SMS_ASK_POLICY_FILE (${file}) presets.urgent.timeout: "soon" is not a duration`,
    );
  });
});
