import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CONFIG_DOC, renderConfigDoc } from '../../scripts/config-doc';
import { SETTINGS_ENV } from '../../src/config';

describe('docs/configuration.md', () => {
  const doc = readFileSync(CONFIG_DOC, 'utf8');

  it('holds the settings table the schema generates (npm run docs:config writes it)', () => {
    expect(doc).toBe(renderConfigDoc(doc));
  });

  it('lists every setting of the schema by its variable', () => {
    const missing = Object.values(SETTINGS_ENV).filter((name) => !doc.includes(`| \`${name}\` |`));
    expect(missing).toEqual([]);
  });
});
