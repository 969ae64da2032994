import { describe, expect, it } from 'vitest';
import { InvalidAskError, normalizeAskRequest } from '../../src/domain/ask-request';
import type { AskRequest } from '../../src/domain/ask-request';
import { mergePolicies } from '../../src/domain/policy';
import type { PolicyPresets } from '../../src/domain/policy';
import { DEFAULT_SPEND_LIMITS } from '../../src/domain/spend';
import type { SpendLimits } from '../../src/domain/spend';

const presets: PolicyPresets = {
  'critical-approval': {
    timeout: '1h',
    reminders: { every: '10m', max: 3 },
    escalation: [{ after: '15m', to: ['+12065550188'], message: 'Escalated: on-call has not answered.' }],
    onTimeout: { answer: 'No' },
  },
};

function normalize(request: Partial<AskRequest>, spend?: SpendLimits) {
  return normalizeAskRequest(
    { to: '+12065550142', question: 'Isolate WS-042?', ...request },
    { newEntitlement: () => 'e-1', presets, spend },
  );
}

function problemsOf(request: Partial<AskRequest>): readonly string[] {
  try {
    normalize(request);
  } catch (err) {
    if (err instanceof InvalidAskError) return err.problems;
    throw err;
  }
  throw new Error('the request was accepted');
}

describe('policy', () => {
  it('defaults to a 24h timeout, any responder, no reminders or tiers, and every notice on', () => {
    const { policy, policyName } = normalize({});
    expect(policy).toEqual({
      timeout: 86_400_000,
      escalation: [],
      onTimeout: {},
      responders: 'any',
      notify: { outcome: true, escalation: true },
      acceptLabels: false,
      undelivered: 'escalate',
    });
    expect(policyName).toBe('default');
  });

  it('resolves a preset into milliseconds and E.164, and names the ask after it', () => {
    const { policy, policyName } = normalize({ preset: 'critical-approval' });
    expect(policy).toMatchObject({
      timeout: 3_600_000,
      reminders: { every: 600_000, max: 3 },
      escalation: [{ after: 900_000, to: ['+12065550188'], message: 'Escalated: on-call has not answered.' }],
      onTimeout: { answer: 'No' },
    });
    expect(policyName).toBe('critical-approval');
  });

  it('lets an inline policy override a preset field by field', () => {
    const { policy } = normalize({
      preset: 'critical-approval',
      policy: { reminders: { max: 1 }, responders: { quorum: 2 } },
    });
    expect(policy.reminders).toEqual({ every: 600_000, max: 1 });
    expect(policy.responders).toEqual({ quorum: 2 });
    expect(policy.escalation).toHaveLength(1);
    expect(policy.timeout).toBe(3_600_000);
  });

  it('replaces a list, rather than merging it, and merges nested objects key by key', () => {
    expect(
      mergePolicies(
        {
          escalation: [
            { after: '1m', to: 'a' },
            { after: '2m', to: 'b' },
          ],
          notify: { outcome: false },
        },
        { escalation: [{ after: '5m', to: 'c' }], notify: { escalation: false } },
      ),
    ).toEqual({
      escalation: [{ after: '5m', to: 'c' }],
      notify: { outcome: false, escalation: false },
    });
  });

  it('keeps timeout and defaultAnswer as shorthands, over the preset', () => {
    const { policy, policyName } = normalize({ preset: 'critical-approval', timeout: '2h', defaultAnswer: 'yes' });
    expect(policy).toMatchObject({ timeout: 7_200_000, onTimeout: { answer: 'Yes' } });
    expect(policyName).toBe('critical-approval');
    expect(normalize({ timeout: '5m' }).policyName).toBe('custom');
  });

  it('refuses an unknown preset, naming the presets there are', () => {
    expect(problemsOf({ preset: 'critcal' })).toEqual([
      'preset: unknown preset "critcal"; the policy file defines critical-approval',
    ]);
  });

  it('refuses a bad duration, naming the field', () => {
    expect(problemsOf({ policy: { reminders: { every: 'soon', max: 2 } } })).toEqual([
      'policy.reminders.every: "soon" is not a duration between 1s and 366d; use e.g. 90s, 15m, 4h or 2d',
    ]);
  });

  it('refuses an escalation tier at or after the timeout, and tiers out of order', () => {
    expect(
      problemsOf({
        policy: {
          timeout: '2h',
          escalation: [
            { after: '1h', to: '+12065550188' },
            { after: '30m', to: '+12065550177' },
            { after: '3h', to: '+12065550166' },
          ],
        },
      }),
    ).toEqual([
      'policy.escalation[1].after: 30m is not later than escalation[0].after (1h); list the tiers in order',
      'policy.escalation[2].after: 3h is not before the timeout (2h), so this tier would never be reached',
    ]);
  });

  it('refuses a quorum larger than every recipient in to and the tiers together', () => {
    expect(
      problemsOf({
        to: ['+12065550142', '+12065550143'],
        policy: { responders: { quorum: 4 }, escalation: [{ after: '1m', to: '+12065550188' }] },
      }),
    ).toEqual(['policy.responders.quorum: 4 is more than the 3 recipient(s) in to and every escalation tier']);
  });

  it('refuses a phone listed twice, in to or across tiers, whatever its format', () => {
    expect(
      problemsOf({
        to: ['+12065550142'],
        policy: {
          escalation: [
            { after: '1m', to: ['+1 206-555-0142', '+12065550188'] },
            { after: '2m', to: ['+1 (206) 555-0188'] },
          ],
        },
      }),
    ).toEqual([
      'policy.escalation[0].to[0]: +12065550142 is already a recipient (to[0])',
      'policy.escalation[1].to[0]: +12065550188 is already a recipient (escalation[0].to[1])',
    ]);
  });

  it('refuses reminders that could never fire, an unknown default and an unknown field', () => {
    expect(problemsOf({ policy: { timeout: '10m', reminders: { every: '10m', max: 2 } } })).toEqual([
      'policy.reminders.every: 10m is not shorter than the timeout (10m), so no reminder would go out',
    ]);
    expect(problemsOf({ policy: { onTimeout: { answer: 'Maybe' } } })).toEqual([
      'policy.onTimeout.answer: "Maybe" is not one of the options (Yes, No)',
    ]);
    expect(problemsOf({ policy: { retries: 3 } as never })[0]).toMatch(/^policy: Unrecognized key: "retries"/);
  });

  it('refuses a field given both as a shorthand and in the policy', () => {
    expect(problemsOf({ timeout: '1h', policy: { timeout: '2h' } })).toEqual([
      'timeout: give timeout or policy.timeout, not both',
    ]);
  });

  it('counts an escalation message and the reminder prefix in the SMS size check', () => {
    // 10 segments: over the default cap, which a deployment may raise up to SNS's byte limit.
    const question = 'x'.repeat(1500);
    expect(() => normalize({ question }, { ...DEFAULT_SPEND_LIMITS, maxSmsSegments: 30 })).not.toThrow();
    expect(
      problemsOf({
        question,
        policy: { escalation: [{ after: '1m', to: '+12065550188', message: 'y'.repeat(120) }] },
      })[0],
    ).toMatch(/^question: the SMS would be up to \d+ bytes/);
  });

  it('gives the workflow a policy that normalizes to itself', () => {
    const first = normalize({ preset: 'critical-approval', policy: { responders: 'all' } });
    const again = normalize({ to: first.recipients, policy: first.policy, policyName: first.policyName });
    expect(again.policy).toEqual(first.policy);
    expect(again.policyName).toBe('critical-approval');
  });
});
