import { PothosValidationError } from '@pothos/core';
import { decodeGlobalID } from '@pothos/plugin-relay';
import type { Context } from '../context.ts';
import type { NodeTypename } from '../directory/outcomes.ts';
import { badInput } from './connection.ts';

// Ids a caller gives end up in upstream URL paths ({base}/Users/{id}), so they are checked by
// shape before any upstream call: on Keeper, user and role ids are digits (enterprise ids) and
// team ids are base64url UIDs. `relaxed` (KEEPER_ID_FORMAT, and the default for an upstream that
// is not Keeper) admits other SCIM servers' ids such as UUIDs: any URL-unreserved characters,
// never a dot segment. Either way nothing like `..`, `a/b`,
// `%2F` or an empty id reaches a path.

const NODE_TYPES: readonly NodeTypename[] = ['User', 'Team', 'Role'];

const KEEPER_SHAPES: Record<NodeTypename, { pattern: RegExp; words: string }> = {
  User: { pattern: /^\d{1,20}$/, words: 'a Keeper user id (digits)' },
  Role: { pattern: /^\d{1,20}$/, words: 'a Keeper role id (digits)' },
  Team: { pattern: /^[A-Za-z0-9_-]{1,64}$/, words: 'a Keeper team UID (base64url)' },
};
const RELAXED = {
  pattern: /^(?!\.{1,2}$)[A-Za-z0-9._~-]{1,128}$/,
  words: 'an id of 1 to 128 letters, digits, `-`, `_`, `.` or `~`',
};

/** What is wrong with `id` as an upstream id of `typename`, or undefined when it is fine. */
export function keeperIdProblem(
  format: 'keeper' | 'relaxed',
  typename: NodeTypename,
  id: string,
): string | undefined {
  const shape = format === 'relaxed' ? RELAXED : KEEPER_SHAPES[typename];
  return shape.pattern.test(id) ? undefined : `is not ${shape.words}`;
}

/** The id format in force: KEEPER_ID_FORMAT, or by the kind of upstream when `auto`. */
function idFormat(ctx: Context): 'keeper' | 'relaxed' {
  const { idFormat } = ctx;
  if (idFormat !== 'auto') return idFormat;
  return ctx.upstream.kind === 'keeper' ? 'keeper' : 'relaxed';
}

/** Throws BAD_USER_INPUT naming `argument` unless `id` has the shape of a `typename` id. */
export function checkKeeperId(
  ctx: Context,
  typename: NodeTypename,
  id: string,
  argument: string,
): void {
  const problem = keeperIdProblem(idFormat(ctx), typename, id);
  if (problem) throw badInput(`\`${argument}\` ${problem}`, argument);
}

/**
 * The relay plugin's decoder for every global id argument (node, nodes, `id` arguments, mutation
 * inputs): a malformed id, an unknown type or an id of the wrong shape is a validation error, which
 * mutations answer as InvalidInputError and queries as BAD_USER_INPUT.
 */
export function decodeNodeId(globalID: string, ctx: Context): { typename: string; id: string } {
  let decoded: { typename: string; id: string };
  try {
    decoded = decodeGlobalID(globalID);
  } catch {
    throw new PothosValidationError('Invalid global id: it is not one this service issued.');
  }
  const typename = decoded.typename as NodeTypename;
  if (!NODE_TYPES.includes(typename)) {
    throw new PothosValidationError('Invalid global id: it is not one this service issued.');
  }
  const problem = keeperIdProblem(idFormat(ctx), typename, decoded.id);
  if (problem) {
    throw new PothosValidationError(`Invalid global id: the ${typename} id in it ${problem}.`);
  }
  return decoded;
}
