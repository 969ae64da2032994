/** An ask's state as the status query returns it, for tests of what is shown or sent of it. */
import type { AskState, RecipientState } from '../../src/workflows/definitions';

export function askState(recipients: RecipientState[], extra: Partial<AskState> = {}): AskState {
  return {
    askId: 'ask/e-1',
    entitlement: 'e-1',
    question: 'Isolate WS-042?',
    options: ['Yes', 'No'],
    status: 'waiting',
    recipients,
    policy: {
      timeout: 3600_000,
      escalation: [],
      onTimeout: {},
      responders: 'any',
      notify: { outcome: true, escalation: true },
      acceptLabels: false,
      undelivered: 'escalate',
    },
    policyName: 'default',
    tier: 0,
    remindersSent: 0,
    startedAt: '2026-12-01T09:00:00.000Z',
    deadline: '2026-12-01T10:00:00.000Z',
    context: {},
    events: [],
    ...extra,
  };
}
