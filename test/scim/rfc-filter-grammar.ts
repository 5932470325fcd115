import { createRequire } from 'node:module';

// A second, independent reading of filters, used by the property tests: the RFC 7644 §3.4.2.2
// ABNF (with RFC 7159 strings) as compiled by scim-query-filter-parser's grammar.js, run by
// apg-lib's generic parser. We only walk the syntax tree; the string literals are then decoded by
// JSON.parse, the reference RFC 7159 decoder. Two problems of that package are avoided here:
// its compileFilter() passes the filter as a JS string, and apg-lib then counts code points
// against code units and throws on any astral character; and its `eq` compares with
// localeCompare(…, { sensitivity: 'base' }), which cannot tell "a" from "á" (so a predicate
// cannot prove a value was read back exactly).

type Apg = {
  parser: new () => ApgParser;
  ast: new () => ApgAst;
  ids: { SEM_PRE: number; SEM_POST: number; SEM_OK: number };
  utils: { charsToString(chars: number[], index: number, length: number): string };
};
type Callback = (state: number, chars: number[], index: number, length: number) => number;
type ApgAst = { callbacks: Record<string, Callback>; translate(data: unknown): void };
type ApgParser = {
  ast: ApgAst;
  parse(grammar: unknown, rule: string, chars: number[]): { success: boolean };
};

const require = createRequire(import.meta.url);
const fromPackage = createRequire(require.resolve('scim-query-filter-parser/package.json'));
const apg = fromPackage('apg-lib') as Apg;
const Grammar = fromPackage('./grammar.js') as new () => unknown;
const grammar = new Grammar();

type Comparison = { attribute: string; operator: string; value: unknown };
export type Reading = { comparisons: Comparison[]; logic: string[] };

/** Parses `filter` with the RFC grammar; throws when it is not a valid filter. */
export function readFilter(filter: string): Reading {
  const parser = new apg.parser();
  parser.ast = new apg.ast();
  const comparisons: Comparison[] = [];
  const logic: string[] = [];
  let current: Partial<Comparison> & { raw?: string } = {};
  const text = (chars: number[], i: number, n: number) => apg.utils.charsToString(chars, i, n);
  const { SEM_PRE, SEM_OK } = apg.ids;
  parser.ast.callbacks = {
    infixAssertion: (state) => {
      if (state === SEM_PRE) current = {};
      else {
        comparisons.push({
          attribute: current.attribute ?? '',
          operator: current.operator ?? '',
          value: JSON.parse(current.raw ?? 'undefined'),
        });
      }
      return SEM_OK;
    },
    attributePath: (state, chars, i, n) => {
      if (state === SEM_PRE) current.attribute ??= text(chars, i, n);
      return SEM_OK;
    },
    infixAssertionOperator: (state, chars, i, n) => {
      if (state === SEM_PRE) current.operator = text(chars, i, n);
      return SEM_OK;
    },
    infixAssertionValue: (state, chars, i, n) => {
      if (state === SEM_PRE) current.raw = text(chars, i, n);
      return SEM_OK;
    },
    infixLogicalExpressionOperator: (state, chars, i, n) => {
      if (state === SEM_PRE) logic.push(text(chars, i, n));
      return SEM_OK;
    },
  };
  // Code points, not code units (see above).
  const chars = Array.from(filter, (c) => c.codePointAt(0) ?? 0);
  if (!parser.parse(grammar, 'filter', chars).success) {
    throw new SyntaxError('not a valid RFC 7644 filter');
  }
  parser.ast.translate(undefined);
  return { comparisons, logic };
}
