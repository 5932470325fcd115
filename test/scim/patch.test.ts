import { describe, expect, it } from 'vitest';
import {
  addGroups,
  addMembers,
  patchRequest,
  removeGroups,
  removeMembers,
  renameGroup,
  replaceAttributes,
  setActive,
} from '../../src/scim/patch.ts';
import { SCHEMA_PATCH } from '../../src/scim/schemas.ts';

describe('patch builders', () => {
  it('replaces each given attribute with an explicit path, in a fixed order', () => {
    expect(
      replaceAttributes({
        'name.familyName': 'Doe',
        displayName: 'Jane Doe',
        userName: 'jane@example.com',
        'name.givenName': 'Jane',
        externalId: 'ext-1',
      }),
    ).toEqual([
      { op: 'replace', path: 'userName', value: 'jane@example.com' },
      { op: 'replace', path: 'displayName', value: 'Jane Doe' },
      { op: 'replace', path: 'externalId', value: 'ext-1' },
      { op: 'replace', path: 'name.givenName', value: 'Jane' },
      { op: 'replace', path: 'name.familyName', value: 'Doe' },
    ]);
  });

  it('skips undefined attributes and removes null ones where clearing is allowed', () => {
    expect(replaceAttributes({ displayName: undefined, externalId: null })).toEqual([
      { op: 'remove', path: 'externalId' },
    ]);
    expect(replaceAttributes({})).toEqual([]);
    // @ts-expect-error userName cannot be cleared
    expect(() => replaceAttributes({ userName: null })).toThrow(TypeError);
  });

  it('refuses unknown attributes and non-string values', () => {
    // @ts-expect-error unknown attribute
    expect(() => replaceAttributes({ active: false })).toThrow(TypeError);
    // @ts-expect-error not a string
    expect(() => replaceAttributes({ displayName: 3 })).toThrow(TypeError);
  });

  it('sets active as a real boolean', () => {
    expect(setActive(false)).toEqual([{ op: 'replace', path: 'active', value: false }]);
    expect(setActive(true)).toEqual([{ op: 'replace', path: 'active', value: true }]);
    // @ts-expect-error Entra's string booleans are never sent
    expect(() => setActive('false')).toThrow(TypeError);
  });

  it('adds and removes members and groups with value arrays, deduplicated', () => {
    expect(addMembers(['1', '2', '1'])).toEqual([
      { op: 'add', path: 'members', value: [{ value: '1' }, { value: '2' }] },
    ]);
    expect(removeMembers(['1'])).toEqual([
      { op: 'remove', path: 'members', value: [{ value: '1' }] },
    ]);
    expect(addGroups(['T1'])).toEqual([{ op: 'add', path: 'groups', value: [{ value: 'T1' }] }]);
    expect(removeGroups(['T2'])).toEqual([
      { op: 'remove', path: 'groups', value: [{ value: 'T2' }] },
    ]);
  });

  it('emits no operation for an empty id list (never a bare remove of all members)', () => {
    expect(addMembers([])).toEqual([]);
    expect(removeMembers([])).toEqual([]);
    expect(removeGroups([])).toEqual([]);
    expect(() => addMembers([''])).toThrow(TypeError);
  });

  it('renames a group', () => {
    expect(renameGroup('Engineering')).toEqual([
      { op: 'replace', path: 'displayName', value: 'Engineering' },
    ]);
    expect(() => renameGroup('')).toThrow(TypeError);
  });

  it('wraps operations in a PatchOp message and refuses an empty one', () => {
    expect(patchRequest([...setActive(false), ...addGroups(['T1'])])).toEqual({
      schemas: [SCHEMA_PATCH],
      Operations: [
        { op: 'replace', path: 'active', value: false },
        { op: 'add', path: 'groups', value: [{ value: 'T1' }] },
      ],
    });
    expect(() => patchRequest([])).toThrow(RangeError);
  });
});
