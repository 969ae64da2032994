import type { Client } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerSearchAttributes } from '../../src/temporal/search-attribute-registration';
import { SEARCH_ATTRIBUTE_KEYS } from '../../src/workflows/search-attributes';
import { sharedStackClient } from '../support/harness';

describe('search attributes', () => {
  let client: Client;
  beforeAll(async () => {
    client = await sharedStackClient();
  });
  afterAll(async () => {
    await client.connection.close();
  });

  it('are registered when the local dev server starts', async () => {
    const { customAttributes } = await client.connection.operatorService.listSearchAttributes({
      namespace: client.options.namespace,
    });
    expect(Object.keys(customAttributes ?? {})).toEqual(
      expect.arrayContaining(SEARCH_ATTRIBUTE_KEYS.map((key) => key.name)),
    );
  });

  it('registering again adds nothing', async () => {
    const result = await registerSearchAttributes(client);
    expect(result.added).toEqual([]);
    expect(result.present.sort()).toEqual(SEARCH_ATTRIBUTE_KEYS.map((key) => key.name).sort());
  });
});
