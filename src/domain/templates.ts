const PLACEHOLDER = /\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

/**
 * Replaces {name} with values[name] in one pass, so a value that itself holds
 * "{x}" is not expanded again. Unknown placeholders stay, which makes a typo
 * in an operator's template visible in the SMS instead of silently blank.
 */
export function renderTemplate(template: string, values: Readonly<Record<string, string>>): string {
  return template.replace(PLACEHOLDER, (match: string, name: string) =>
    // Own keys only: "{constructor}" must not pull in Object.prototype.
    Object.hasOwn(values, name) ? (values[name] ?? match) : match,
  );
}
