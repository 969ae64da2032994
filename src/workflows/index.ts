// The workflow bundle's entry point: only workflow functions are exported here.
export { askWorkflow } from './ask';
export { recipientWorkflow } from './recipient';
export { inboundPollerWorkflow } from './inbound-poller';
export { webhookDeliveryWorkflow } from './webhook-delivery';
export { dailySpendWorkflow } from './daily-spend';
export { oneWaySmsWorkflow } from './one-way-sms';
export { askFeedWorkflow } from './ask-feed';
