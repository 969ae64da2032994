// The sms-ask workflows plus the child-workflow example, bundled together for one test worker.
export {
  askWorkflow,
  recipientWorkflow,
  inboundPollerWorkflow,
  webhookDeliveryWorkflow,
  dailySpendWorkflow,
  oneWaySmsWorkflow,
  askFeedWorkflow,
} from '../../src/workflows';
export { ransomwareContainmentPlaybook } from '../../examples/playbook-workflow';
