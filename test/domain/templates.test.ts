import { describe, it, expect } from 'vitest';
import { renderTemplate } from '../../src/domain/templates';

describe('renderTemplate', () => {
  it('replaces every known placeholder, including repeated ones', () => {
    expect(renderTemplate('{answer} recorded for {ask}. ({answer})', { answer: 'Yes', ask: 'WS-042' })).toBe(
      'Yes recorded for WS-042. (Yes)',
    );
  });

  it('leaves unknown placeholders as they are', () => {
    expect(renderTemplate('Codes: {codes}. {unknown}', { codes: '4821, 7302' })).toBe('Codes: 4821, 7302. {unknown}');
  });

  it('does not expand placeholders that appear inside substituted values', () => {
    expect(renderTemplate('{a} and {b}', { a: '{b}', b: 'B' })).toBe('{b} and B');
  });

  it('ignores properties inherited from Object.prototype', () => {
    expect(renderTemplate('{constructor} {toString}', {})).toBe('{constructor} {toString}');
  });

  it('leaves braces that are not placeholders alone', () => {
    expect(renderTemplate('{} { code } {1x}', { code: 'X' })).toBe('{} { code } {1x}');
  });

  it('substitutes an empty string value', () => {
    expect(renderTemplate('[{note}]', { note: '' })).toBe('[]');
  });
});
