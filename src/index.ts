// The public API of sms-ask for playbooks and for users' own Temporal workflows.
export { AskEndedError, SmsAskClient } from './client/sms-ask-client';
export type {
  ExtendOptions,
  PendingAsk,
  PendingFilter,
  SmsAskClientOptions,
  StartedAsk,
} from './client/sms-ask-client';
export { loadPolicyPresets } from './client/policy-file';
export type { AskPolicy, PolicyInput, PolicyOverride, PolicyPresets } from './domain/policy';
export { InvalidAskError } from './domain/ask-request';
export type { AskRequest } from './domain/ask-request';
export { askWorkflow } from './workflows/ask';
export type {
  AskAnswer,
  AskEvent,
  AskState,
  AskStatus,
  RecipientAnswer,
  RecipientState,
} from './workflows/definitions';
export { DEFAULT_TASK_QUEUE, loadSettings } from './config';
export type { Settings } from './config';
