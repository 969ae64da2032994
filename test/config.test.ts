import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadSettings } from '../src/config';

describe('loadSettings', () => {
  it('has working defaults with no configuration at all', () => {
    const settings = loadSettings({});
    expect(settings).toMatchObject({
      taskQueue: 'sms-ask',
      smsType: 'Transactional',
      codeMode: 'random',
      codeLength: 7,
      pollWaitSeconds: 20,
    });
    expect(settings.feedback.success).toEqual({ enabled: true, template: 'Got it: {chosen_option} for {question}' });
  });

  it('reads sms-ask settings from SMS_ASK_* variables', () => {
    const settings = loadSettings({
      SMS_ASK_CODE_MODE: 'sequential',
      SMS_ASK_CODE_LENGTH: '6',
      SMS_ASK_MAX_PRICE: '0.5',
      SMS_ASK_FEEDBACK_FAILURE_ENABLED: 'off',
      SMS_ASK_FEEDBACK_SUCCESS_TEMPLATE: 'OK {chosen_option}',
    });
    expect(settings).toMatchObject({ codeMode: 'sequential', codeLength: 6, maxPrice: 0.5 });
    expect(settings.feedback.failure.enabled).toBe(false);
    expect(settings.feedback.success.template).toBe('OK {chosen_option}');
  });

  it('reads a YAML config file, and lets the environment override it', () => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'sms-ask-config-')), 'sms-ask.yaml');
    writeFileSync(file, 'senderId: SecOps\ncodeLength: 5\nfeedback:\n  help:\n    enabled: false\n');
    const settings = loadSettings({ SMS_ASK_CONFIG: file, SMS_ASK_CODE_LENGTH: '7' });
    expect(settings).toMatchObject({ senderId: 'SecOps', codeLength: 7 });
    expect(settings.feedback.help.enabled).toBe(false);
  });

  it('names every bad setting by its variable, with the reason', () => {
    let error: unknown;
    try {
      loadSettings({
        SMS_ASK_CODE_LENGTH: '12',
        SMS_ASK_ORIGINATION_NUMBER: '555-0100',
        SMS_ASK_QUEUE_URL: 'not a url',
      });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems.join('\n');
    expect(problems).toMatch(/SMS_ASK_CODE_LENGTH \(codeLength\): .*8/);
    expect(problems).toMatch(/SMS_ASK_ORIGINATION_NUMBER \(originationNumber\): .*E\.164/);
    expect(problems).toMatch(/SMS_ASK_QUEUE_URL \(queueUrl\)/);
  });

  it('refuses End User Messaging with nothing to send from, naming the setting', () => {
    expect(() => loadSettings({ SMS_ASK_SMS_SENDER: 'end-user-messaging' })).toThrow(
      /SMS_ASK_ORIGINATION_IDENTITY \(originationIdentity\): End User Messaging sends from a pool or phone number/,
    );
    expect(
      loadSettings({ SMS_ASK_SMS_SENDER: 'end-user-messaging', SMS_ASK_ORIGINATION_NUMBER: '+18885550100' }).smsSender,
    ).toBe('end-user-messaging');
  });

  it('says which config file could not be read', () => {
    expect(() => loadSettings({ SMS_ASK_CONFIG: '/nonexistent/sms-ask.yaml' })).toThrow(
      /SMS_ASK_CONFIG: cannot read \/nonexistent\/sms-ask.yaml/,
    );
  });
});
