import fc from 'fast-check';
import { type Filter, parse } from 'scim2-parse-filter';
import { describe, expect, it } from 'vitest';
import {
  chunkOrEq,
  eq,
  GROUP_FILTER_ATTRIBUTES,
  groupEq,
  orEq,
  quoteFilterValue,
  USER_FILTER_ATTRIBUTES,
  userEq,
} from '../../src/scim/filter.ts';
import { readFilter } from './rfc-filter-grammar.ts';

// Characters that stress escaping, mixed with arbitrary UTF-16 code units (which include lone
// surrogates) and arbitrary code points (astral planes included).
const tricky = fc.constantFrom(
  '"',
  '\\',
  '\\"',
  '\u0000',
  '\u0008',
  '\t',
  '\n',
  '\r',
  '\u001f',
  '\u007f',
  '\u2028',
  '\u2029',
  ' or ',
  ' and ',
  ')',
  '(',
  '[',
  ']',
  '%',
  '+',
  '&',
  '=',
  '\ud800',
  '\udfff',
  '\ud83d\ude00',
);
const anyCodeUnit = fc.integer({ min: 0, max: 0xffff }).map((u) => String.fromCharCode(u));
const anyCodePoint = fc.integer({ min: 0, max: 0x10ffff }).map((c) => String.fromCodePoint(c));
const fullUnicode = fc.string({
  unit: fc.oneof(tricky, anyCodeUnit, anyCodePoint, fc.string({ unit: 'grapheme-ascii' })),
  maxLength: 20,
});

// scim2-parse-filter 0.2.10 rewrites every backslash that is not followed by `"` into two
// backslashes before calling JSON.parse (lib/src/parser.js, tokenizer:
// `n[3].replace(/\\(?!")/g, '\\\\')`). So every JSON escape other than `\"` is read back
// literally: `"a\\b"` (the JSON string for a\b) comes back as a\\b, `"\n"` as the two characters
// \ and n. A correct builder must emit those escapes for `\`, U+0000–U+001F (RFC 7159 forbids
// them raw) and lone surrogates (which cannot be percent-encoded), so for exactly those values
// this parser cannot confirm a correct filter. Its generator leaves out only those characters;
// the RFC-grammar reading below covers them.
const parse2Safe = fc.string({
  unit: fc
    .oneof(tricky, anyCodeUnit, anyCodePoint, fc.string({ unit: 'grapheme-ascii' }))
    .filter((s) => !/[\\\u0000-\u001f]/.test(s) && s.isWellFormed()),
  maxLength: 20,
});

const userAttribute = fc.constantFrom(...USER_FILTER_ATTRIBUTES);
const groupAttribute = fc.constantFrom(...GROUP_FILTER_ATTRIBUTES);
const RUNS = { numRuns: 2000 };

function comparisons(filter: Filter): { op: string; attrPath: string; compValue: unknown }[] {
  if ('filters' in filter) return filter.filters.flatMap(comparisons);
  if ('compValue' in filter) return [filter];
  throw new Error(`unexpected node ${filter.op}`);
}

describe('filter builder', () => {
  it('writes attr eq "value" for allow-listed attributes', () => {
    expect(userEq('userName', 'jane@example.com')).toBe('userName eq "jane@example.com"');
    expect(userEq('id', '970404910858250')).toBe('id eq "970404910858250"');
    expect(groupEq('displayName', 'Engineering')).toBe('displayName eq "Engineering"');
    expect(eq('Groups', 'externalId', 'x')).toBe('externalId eq "x"');
  });

  it('escapes quotes, backslashes, control characters and lone surrogates as JSON', () => {
    expect(quoteFilterValue('a"b')).toBe('"a\\"b"');
    expect(quoteFilterValue('a\\b')).toBe('"a\\\\b"');
    expect(quoteFilterValue('a\nb\u0000')).toBe('"a\\nb\\u0000"');
    expect(quoteFilterValue('\ud800x')).toBe('"\\ud800x"');
    expect(quoteFilterValue('😀')).toBe('"😀"');
    // An injection attempt stays one value.
    expect(userEq('userName', 'x" or userName pr or userName eq "y')).toBe(
      'userName eq "x\\" or userName pr or userName eq \\"y"',
    );
  });

  it('refuses attributes outside the allow-list and non-string values', () => {
    // @ts-expect-error not allow-listed
    expect(() => userEq('displayName', 'x')).toThrow(TypeError);
    // @ts-expect-error not allow-listed
    expect(() => groupEq('userName', 'x')).toThrow(TypeError);
    // @ts-expect-error not allow-listed
    expect(() => eq('Users', 'emails.value', 'x')).toThrow(TypeError);
    // @ts-expect-error not a resource
    expect(() => eq('Roles', 'id', 'x')).toThrow(TypeError);
    // @ts-expect-error not a string
    expect(() => userEq('id', 42)).toThrow(TypeError);
    expect(() => orEq('Users', 'id', [])).toThrow(RangeError);
  });

  it('chains eq terms with or, dropping duplicates', () => {
    expect(orEq('Users', 'id', ['1', '2', '1'])).toBe('id eq "1" or id eq "2"');
  });
});

describe('filter builder read back by scim2-parse-filter', () => {
  it('reads one comparison with the same attribute and value', () => {
    fc.assert(
      fc.property(userAttribute, parse2Safe, (attribute, value) => {
        const ast = parse(userEq(attribute, value));
        expect(ast).toEqual({ op: 'eq', attrPath: attribute, compValue: value });
      }),
      RUNS,
    );
  });

  it('reads exactly N comparisons from an or chain', () => {
    fc.assert(
      fc.property(
        groupAttribute,
        fc.uniqueArray(parse2Safe, { minLength: 1, maxLength: 8 }),
        (attribute, values) => {
          const found = comparisons(parse(orEq('Groups', attribute, values)));
          expect(found).toEqual(
            values.map((compValue) => ({ op: 'eq', attrPath: attribute, compValue })),
          );
        },
      ),
      RUNS,
    );
  });

  it('has the escaping bug the generator works around (fails here once it is fixed)', () => {
    expect(parse(userEq('userName', 'a\\b'))).toMatchObject({ compValue: 'a\\\\b' });
  });
});

describe('filter builder read back by the RFC 7644 grammar', () => {
  it('reads one comparison with the same attribute and value, for any string', () => {
    fc.assert(
      fc.property(userAttribute, fullUnicode, (attribute, value) => {
        const filter = userEq(attribute, value);
        expect(decodeURIComponent(encodeURIComponent(filter))).toBe(filter);
        expect(readFilter(filter)).toEqual({
          comparisons: [{ attribute, operator: 'eq', value }],
          logic: [],
        });
      }),
      RUNS,
    );
  });

  it('reads exactly N comparisons joined by N-1 or, for any strings', () => {
    fc.assert(
      fc.property(
        groupAttribute,
        fc.uniqueArray(fullUnicode, { minLength: 1, maxLength: 8 }),
        (attribute, values) => {
          const reading = readFilter(orEq('Groups', attribute, values));
          expect(reading.comparisons).toEqual(
            values.map((value) => ({ attribute, operator: 'eq', value })),
          );
          expect(reading.logic).toEqual(values.slice(1).map(() => 'or'));
        },
      ),
      RUNS,
    );
  });
});

describe('chunkOrEq', () => {
  const base = 'https://keepersecurity.eu/api/rest/scim/v2/1234567890123/Users?count=500';

  it('keeps every URL under the limit and every value exactly once, in order', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fullUnicode, { maxLength: 60 }),
        fc.integer({ min: 300, max: 3000 }),
        (values, maxUrlLength) => {
          const chunks = chunkOrEq('Users', 'userName', values, {
            urlLengthWithoutFilter: base.length,
            maxUrlLength,
          });
          const read = chunks.flatMap((c) => readFilter(c).comparisons.map((x) => x.value));
          expect(read).toEqual(values);
          for (const chunk of chunks) {
            const url = `${base}&filter=${encodeURIComponent(chunk)}`;
            const terms = readFilter(chunk).comparisons.length;
            // Only a single over-long value may exceed the limit, alone in its chunk.
            if (terms > 1) expect(url.length).toBeLessThanOrEqual(maxUrlLength);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('fills chunks up to the limit and honours maxTerms', () => {
    const ids = Array.from({ length: 250 }, (_, i) => String(970404910858250 + i));
    const chunks = chunkOrEq('Users', 'id', ids, { urlLengthWithoutFilter: base.length });
    expect(chunks.flatMap((c) => readFilter(c).comparisons)).toHaveLength(250);
    for (const chunk of chunks.slice(0, -1)) {
      const url = `${base}&filter=${encodeURIComponent(chunk)}`;
      expect(url.length).toBeLessThanOrEqual(2000);
      // One more term would not have fitted.
      expect(url.length + encodeURIComponent(' or id eq "970404910858250"').length).toBeGreaterThan(
        2000,
      );
    }
    const capped = chunkOrEq('Users', 'id', ids, {
      urlLengthWithoutFilter: 10,
      maxUrlLength: 100_000,
      maxTerms: 100,
    });
    expect(capped.map((c) => readFilter(c).comparisons.length)).toEqual([100, 100, 50]);
  });

  it('gives an over-long value a chunk of its own rather than dropping it', () => {
    const long = 'x'.repeat(3000);
    expect(
      chunkOrEq('Users', 'externalId', ['a', long, 'b'], { urlLengthWithoutFilter: base.length }),
    ).toEqual(['externalId eq "a"', `externalId eq "${long}"`, 'externalId eq "b"']);
  });

  it('refuses attributes outside the allow-list', () => {
    // @ts-expect-error not allow-listed
    expect(() => chunkOrEq('Users', 'active', ['x'], { urlLengthWithoutFilter: 0 })).toThrow(
      TypeError,
    );
  });
});
