import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// The emulator stands for the upstream the facade is tested against: if it shared the facade's
// SCIM constants, schemas or filters, a mistake in them would be made on both sides and no test
// would see it. So nothing under src/emulator/ imports from outside it (packages are fine).

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../src/emulator');

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sources(path);
    return /\.[cm]?tsx?$/.test(entry.name) ? [path] : [];
  });
}

/** Module specifiers of static imports, re-exports and dynamic imports. */
function specifiers(code: string): string[] {
  const found: string[] = [];
  const patterns = [
    /\b(?:import|export)\s[^'"`;]*?\bfrom\s*['"]([^'"]+)['"]/g,
    /\bimport\s*['"]([^'"]+)['"]/g,
    /\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g,
  ];
  for (const pattern of patterns) {
    for (const match of code.matchAll(pattern)) if (match[1]) found.push(match[1]);
  }
  return found;
}

describe('the emulator imports nothing from the product', () => {
  it('finds imports of every form', () => {
    expect(
      specifiers(`import { a } from '../scim/schemas.ts';
import type {
  B,
} from "./store.ts";
export { c } from '../x.ts';
export * from './y.ts';
import 'node:fs';
const z = await import('../config.ts');`),
    ).toEqual(['../scim/schemas.ts', './store.ts', '../x.ts', './y.ts', 'node:fs', '../config.ts']);
  });

  it('has no relative import that leaves src/emulator', () => {
    const files = sources(ROOT);
    expect(files.length).toBeGreaterThan(5);
    const leaving = files.flatMap((file) =>
      specifiers(readFileSync(file, 'utf8'))
        .filter((s) => s.startsWith('.') || s.startsWith('/'))
        .filter((s) => relative(ROOT, resolve(dirname(file), s)).startsWith('..'))
        .map((s) => `${relative(ROOT, file)} imports ${s}`),
    );
    expect(leaving).toEqual([]);
  });
});
