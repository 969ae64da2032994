import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { SEARCH_ATTRIBUTE_KEYS } from '../workflows/search-attributes';

const { IndexedValueType } = temporal.api.enums.v1;
const INDEXED_VALUE_TYPES = {
  TEXT: IndexedValueType.INDEXED_VALUE_TYPE_TEXT,
  KEYWORD: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
  INT: IndexedValueType.INDEXED_VALUE_TYPE_INT,
  DOUBLE: IndexedValueType.INDEXED_VALUE_TYPE_DOUBLE,
  BOOL: IndexedValueType.INDEXED_VALUE_TYPE_BOOL,
  DATETIME: IndexedValueType.INDEXED_VALUE_TYPE_DATETIME,
  KEYWORD_LIST: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD_LIST,
} as const;

export interface SearchAttributeRegistration {
  added: string[];
  present: string[];
}

/** The AddSearchAttributes request body for these keys. */
export function indexedValueTypes(
  keys: readonly { name: string; type: keyof typeof INDEXED_VALUE_TYPES }[] = SEARCH_ATTRIBUTE_KEYS,
) {
  return Object.fromEntries(keys.map((key) => [key.name, INDEXED_VALUE_TYPES[key.type]]));
}

/** Registers sms-ask's search attributes in the namespace; those already there are left alone. */
export async function registerSearchAttributes(
  client: Client,
  namespace = client.options.namespace,
): Promise<SearchAttributeRegistration> {
  const { operatorService } = client.connection;
  const existing = (await operatorService.listSearchAttributes({ namespace })).customAttributes ?? {};
  const missing = SEARCH_ATTRIBUTE_KEYS.filter((key) => !(key.name in existing));
  if (missing.length > 0) {
    await operatorService.addSearchAttributes({
      namespace,
      searchAttributes: indexedValueTypes(missing),
    });
  }
  return {
    added: missing.map((key) => key.name),
    present: SEARCH_ATTRIBUTE_KEYS.filter((key) => key.name in existing).map((key) => key.name),
  };
}

const DEV_SERVER_TYPE_NAMES = {
  TEXT: 'Text',
  KEYWORD: 'Keyword',
  INT: 'Int',
  DOUBLE: 'Double',
  BOOL: 'Bool',
  DATETIME: 'Datetime',
  KEYWORD_LIST: 'KeywordList',
} as const;

/** `temporal server start-dev` flags that register the search attributes as the server starts. */
export function devServerSearchAttributeArgs(): string[] {
  return SEARCH_ATTRIBUTE_KEYS.flatMap((key) => [
    '--search-attribute',
    `${key.name}=${DEV_SERVER_TYPE_NAMES[key.type]}`,
  ]);
}
