import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { leanGroup, leanGroupList, leanUser, leanUserList } from '../../src/scim/lean.ts';
import { listResponse, ScimGroup, ScimUser } from '../../src/scim/schemas.ts';

// The lean validators must accept exactly what the zod schemas accept and give exactly their
// output (transforms, defaults, kept unknown keys, present-but-undefined keys), on generated
// resources that are mostly valid and often subtly not.

const weighted = <T>(valid: fc.Arbitrary<T>, ...invalid: fc.Arbitrary<unknown>[]) =>
  fc.oneof(
    { arbitrary: valid, weight: 40 },
    ...invalid.map((arbitrary) => ({ arbitrary, weight: 1 })),
  );

const json = fc.jsonValue({ maxDepth: 2 });
const text = fc.string({ maxLength: 8 });
const id = weighted(
  fc.oneof(fc.stringMatching(/^[0-9]{1,15}$/), fc.nat()),
  fc.constant(''),
  fc.integer({ min: -5, max: -1 }),
  fc.double(),
  fc.constant(2 ** 53),
  fc.constant(null),
  fc.boolean(),
);
const optionalString = weighted(
  fc.oneof(text, fc.constant(null)),
  fc.nat(),
  fc.boolean(),
  fc.constant([]),
);
const multiValue = weighted(
  fc.record(
    { value: id, display: optionalString, type: optionalString, $ref: optionalString, extra: json },
    { requiredKeys: ['value'] },
  ),
  fc.record({ display: text }),
  text,
  fc.constant(null),
);
const email = weighted(
  fc.record(
    {
      value: text,
      type: optionalString,
      primary: weighted(fc.oneof(fc.boolean(), fc.constant(null)), text),
    },
    { requiredKeys: ['value'] },
  ),
  fc.record({ value: fc.nat() }),
  fc.constant([]),
);
const arrayOf = (item: fc.Arbitrary<unknown>) =>
  weighted(fc.oneof(fc.array(item, { maxLength: 4 }), fc.constant(null)), text, fc.constant({}));
const schemas = weighted(
  fc.array(text, { maxLength: 2 }),
  fc.constant(null),
  fc.array(fc.nat(), { minLength: 1 }),
);

const user = weighted(
  fc.record(
    {
      schemas,
      id,
      userName: weighted(
        fc.string({ minLength: 1, maxLength: 10 }),
        fc.constant(''),
        fc.constant(null),
        fc.nat(),
      ),
      externalId: optionalString,
      displayName: optionalString,
      name: weighted(
        fc.oneof(
          fc.record(
            {
              givenName: optionalString,
              familyName: optionalString,
              formatted: optionalString,
              middleName: json,
            },
            { requiredKeys: [] },
          ),
          fc.constant(null),
        ),
        text,
        fc.constant([]),
      ),
      emails: arrayOf(email),
      groups: arrayOf(multiValue),
      active: weighted(
        fc.oneof(
          fc.boolean(),
          fc.constantFrom('true', 'false', 'True', 'False', 'TRUE', 'FALSE'),
          fc.constant(null),
        ),
        fc.constantFrom('yes', 'tRue', '1', ''),
        fc.nat(),
      ),
      title: json,
      'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User': json,
    },
    { requiredKeys: ['id', 'userName'] },
  ),
  fc.record({ id }, { requiredKeys: [] }),
  fc.constant(null),
  fc.array(json, { maxLength: 2 }),
);

const group = weighted(
  fc.record(
    {
      schemas,
      id,
      displayName: weighted(text, fc.constant(null), fc.nat()),
      externalId: optionalString,
      members: arrayOf(multiValue),
      meta: json,
    },
    { requiredKeys: ['id', 'displayName'] },
  ),
  fc.record({ displayName: text }),
  text,
);

const counter = weighted(
  fc.nat(),
  fc.integer({ min: -3, max: -1 }),
  fc.double(),
  fc.constant(null),
  fc.constant(2 ** 60),
);
const listOf = (item: fc.Arbitrary<unknown>) =>
  fc.record(
    {
      schemas,
      totalResults: counter,
      startIndex: weighted(fc.integer({ min: -2, max: 1000 }), fc.constant(null), fc.double()),
      itemsPerPage: weighted(fc.nat(), fc.constant(null), text),
      Resources: weighted(fc.oneof(fc.array(item, { maxLength: 5 }), fc.constant(null)), text),
      extra: json,
    },
    { requiredKeys: ['totalResults'] },
  );

/** Lean and zod agree: both refuse, or both accept with strictly equal output. */
function agree(
  value: unknown,
  lean: (v: unknown) => unknown,
  schema: { safeParse(v: unknown): { success: boolean; data?: unknown } },
) {
  const expected = schema.safeParse(value);
  const got = lean(value);
  if (expected.success) expect(got).toStrictEqual(expected.data);
  else expect(got).toBeUndefined();
  return expected.success;
}

describe('lean SCIM validation', () => {
  it('agrees with the zod User schema', () => {
    let accepted = 0;
    fc.assert(
      fc.property(user, (v) => {
        if (agree(v, leanUser, ScimUser)) accepted += 1;
      }),
      { numRuns: 3000 },
    );
    // The generator must exercise both sides.
    expect(accepted).toBeGreaterThan(300);
    expect(accepted).toBeLessThan(2700);
  });

  it('agrees with the zod Group schema', () => {
    fc.assert(
      fc.property(group, (v) => void agree(v, leanGroup, ScimGroup)),
      { numRuns: 2000 },
    );
  });

  it('agrees with the zod ListResponse schemas, through the resources', () => {
    const users = listResponse(ScimUser);
    const groups = listResponse(ScimGroup);
    fc.assert(
      fc.property(listOf(user), (v) => void agree(v, leanUserList, users)),
      { numRuns: 1500 },
    );
    fc.assert(
      fc.property(listOf(group), (v) => void agree(v, leanGroupList, groups)),
      { numRuns: 1500 },
    );
  });

  it('agrees on a Keeper-shaped answer as the emulator sends it, after JSON', () => {
    const page = JSON.parse(
      JSON.stringify({
        schemas: ['urn:ietf:params:scim:api:messages:2.0:ListResponse'],
        totalResults: 2,
        startIndex: 1,
        itemsPerPage: 2,
        Resources: [
          {
            schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
            id: '345074852429847',
            userName: 'ada@acme.example',
            displayName: 'Ada Lovelace',
            name: { givenName: 'Ada', familyName: 'Lovelace' },
            emails: [{ primary: true, value: 'ada@acme.example', type: 'work' }],
            groups: [{ value: 'MftcXV1kUUUVw-Ei6pQv2g', display: 'Engineering' }],
            active: true,
          },
          { id: 7, userName: 'bare@acme.example', active: 'False', groups: [] },
        ],
      }),
    );
    expect(agree(page, leanUserList, listResponse(ScimUser))).toBe(true);
  });
});
