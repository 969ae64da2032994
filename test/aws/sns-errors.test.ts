import { describe, expect, it } from 'vitest';
import { classifySnsError } from '../../src/aws/sns-errors';

const awsError = (name: string, status: number | undefined, fault: 'client' | 'server' = 'client') =>
  Object.assign(new Error(`${name} happened`), {
    name,
    $fault: fault,
    ...(status !== undefined && { $metadata: { httpStatusCode: status } }),
  });

describe('classifySnsError', () => {
  it.each([
    ['InvalidParameterException', 400, /E\.164/],
    ['AuthorizationErrorException', 403, /sns:Publish/],
    ['OptedOut', 400, /texted STOP.*START/],
    ['InvalidClientTokenId', 403, /access key is not valid/],
  ])('treats %s as permanent and says how to fix it', (name, status, fix) => {
    const err = classifySnsError(awsError(name, status), '+12065550142');
    expect(err.permanent).toBe(true);
    expect(err.code).toBe(name);
    expect(err.message).toMatch(fix);
    expect(err.message).toContain('…0142');
    expect(err.message).not.toContain('+12065550142');
  });

  it.each([
    ['ThrottledException', 400, 'client'],
    ['InternalErrorException', 500, 'server'],
    ['ServiceUnavailable', 503, 'server'],
  ] as const)('retries %s', (name, status, fault) => {
    expect(classifySnsError(awsError(name, status, fault), '+12065550142').permanent).toBe(false);
  });

  it('retries a network error that never got an HTTP response', () => {
    const err = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:4566'), { code: 'ECONNREFUSED' });
    expect(classifySnsError(err, '+12065550142').permanent).toBe(false);
  });

  it("does not retry an unknown client error, and keeps AWS's own words", () => {
    const err = classifySnsError(awsError('SomethingNew', 400), '+12065550142');
    expect(err.permanent).toBe(true);
    expect(err.message).toContain('SomethingNew happened');
  });
});
