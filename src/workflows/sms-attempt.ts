/**
 * One SMS attempt's limits, shared by the workflows that schedule SMS activities and the activities
 * themselves. An attempt must outlast the AWS SDK's own retries (with the default settings up to 3
 * tries of 20 s plus 20 s pauses, for the opt-out check and again for the publish), or the
 * activity's retry would publish while the first attempt still does: the SMS twice. The activity
 * aborts its AWS calls `SMS_ATTEMPT_MARGIN_MS` before the timeout for the same reason. The
 * heartbeat lets a crashed worker's send be retried in seconds instead of minutes.
 */
export const SMS_ATTEMPT_START_TO_CLOSE_MS = 4 * 60_000;
export const SMS_ATTEMPT_HEARTBEAT_TIMEOUT_MS = 20_000;
export const SMS_ATTEMPT_MARGIN_MS = 5_000;
