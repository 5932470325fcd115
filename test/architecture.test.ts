import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// The dependency rule of docs/architecture.md, read from the import statements of every file
// under src/: schema/ → directory/ → scim/, never back up. Type-only imports count too: a type
// import of the SCIM client in the schema is still the schema knowing the upstream's shape.

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const src = join(root, 'src');

/** Every module specifier a TypeScript source imports or re-exports, static or dynamic. */
function importsOf(source: string): string[] {
  const found: string[] = [];
  const patterns = [
    // import x from '…', import type { x } from '…', export { x } from '…', export * from '…',
    // across lines.
    /\b(?:import|export)\s+(?:type\s+)?[^'"`;]*?\bfrom\s*['"]([^'"]+)['"]/g,
    // import '…' (side effects only)
    /\bimport\s*['"]([^'"]+)['"]/g,
    // import('…'), also in types: typeof import('…')
    /\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g,
  ];
  for (const pattern of patterns) {
    for (const match of source.matchAll(pattern)) if (match[1]) found.push(match[1]);
  }
  return found;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return /\.(ts|mts|cts)$/.test(entry.name) ? [path] : [];
  });
}

/** `from` imports `to` (both relative to src/), for every relative import under src/. */
function importGraph(): { from: string; to: string }[] {
  return sourceFiles(src).flatMap((file) =>
    importsOf(readFileSync(file, 'utf8'))
      .filter((specifier) => specifier.startsWith('.'))
      .map((specifier) => ({
        from: relative(src, file),
        to: relative(src, resolve(dirname(file), specifier)),
      })),
  );
}

const under = (path: string, folder: string) => path === folder || path.startsWith(`${folder}/`);

describe('architecture', () => {
  it('finds static, type-only, multi-line, side-effect and dynamic imports', () => {
    const source = [
      "import { a } from './a.ts';",
      "import type { B } from '../scim/client.ts';",
      'import {',
      '  c,',
      '  type D,',
      "} from './c.ts';",
      "import './d.ts';",
      "export { e } from './e.ts';",
      "export * from './f.ts';",
      "type G = typeof import('./g.ts');",
      "const h = await import('./h.ts');",
    ].join('\n');
    expect(importsOf(source).sort()).toEqual(
      [
        './a.ts',
        '../scim/client.ts',
        './c.ts',
        './d.ts',
        './e.ts',
        './f.ts',
        './g.ts',
        './h.ts',
      ].sort(),
    );
  });

  it('reads the imports of every file under src/', () => {
    const graph = importGraph();
    // The read path as it must stand: the schema asks the directory, the directory the client.
    expect(graph).toContainEqual({ from: 'schema/user.ts', to: 'context.ts' });
    expect(graph.some((e) => under(e.from, 'directory') && under(e.to, 'scim'))).toBe(true);
    expect(graph.some((e) => under(e.from, 'schema') && under(e.to, 'directory'))).toBe(true);
  });

  it('no file under src/schema/ imports src/scim/ (type imports included)', () => {
    const offending = importGraph().filter((e) => under(e.from, 'schema') && under(e.to, 'scim'));
    expect(offending).toEqual([]);
  });

  it('no file under src/directory/ or src/scim/ imports src/schema/', () => {
    const offending = importGraph().filter(
      (e) => (under(e.from, 'directory') || under(e.from, 'scim')) && under(e.to, 'schema'),
    );
    expect(offending).toEqual([]);
  });

  it('no file under src/schema/ imports the mirror internals of src/directory/mirror/', () => {
    // The directory decides mirror or upstream (src/directory/lists.ts); the schema sees only
    // what the directory exposes (directory.ts, lists.ts, outcomes.ts).
    const offending = importGraph().filter(
      (e) => under(e.from, 'schema') && under(e.to, 'directory/mirror'),
    );
    expect(offending).toEqual([]);
  });
});
