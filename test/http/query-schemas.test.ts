import { describe, expect, it } from 'vitest';
import { endedQuery, feedQuery, pendingQuery, resultQuery } from '../../src/http/schemas';

describe('whole numbers in a query string', () => {
  const cases = [
    ['result wait', resultQuery(30), 'wait'],
    ['feed wait', feedQuery, 'wait'],
    ['feed limit', feedQuery, 'limit'],
    ['pending limit', pendingQuery, 'limit'],
    ['ended limit', endedQuery, 'limit'],
  ] as const;

  it.each(cases)('%s: refuses what is not digits, which coercion alone would read as a number', (_, schema, field) => {
    for (const raw of ['', ' ', '%20', '0x10', '1e1', '+5', '-1', '1.5', ' 5', 'NaN', 'Infinity', '9'.repeat(20)]) {
      const parsed = schema.safeParse({ [field]: raw });
      expect(parsed.success, `${field}=${JSON.stringify(raw)}`).toBe(false);
      expect(parsed.error!.issues[0]!.path).toEqual([field]);
    }
  });

  it.each(cases)('%s: takes digits within its bounds, and nothing at all', (_, schema, field) => {
    expect(schema.safeParse({ [field]: '5' }).data).toEqual({ [field]: 5 });
    expect(schema.safeParse({ [field]: '05' }).data).toEqual({ [field]: 5 });
    expect(schema.safeParse({}).success).toBe(true);
    expect(schema.safeParse({ [field]: '600' }).success).toBe(false);
  });
});
