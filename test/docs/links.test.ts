/** Every relative link in the README and the guides points to a file that exists. */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const root = path.resolve(__dirname, '../..');

/** Guides written on other branches; remove each from this list once it is in the tree. */
const pages = [
  'README.md',
  'CHANGELOG.md',
  ...readdirSync(path.join(root, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
];

function brokenLinks(page: string): string[] {
  const text = readFileSync(path.join(root, page), 'utf8').replace(/```[\s\S]*?```/g, '');
  const broken: string[] = [];
  for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
    if (/^[a-z]+:/i.test(target!) || target!.startsWith('#')) continue;
    const file = path.normalize(path.join(path.dirname(page), target!.split('#')[0]!));
    if (!existsSync(path.join(root, file))) broken.push(target!);
  }
  return broken;
}

describe('links in the docs', () => {
  it.each(pages)('%s links only to files that exist', (page) => {
    expect(brokenLinks(page), `broken links in ${page}`).toEqual([]);
  });
});
