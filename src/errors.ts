import { PothosValidationError } from '@pothos/core';
import { GraphQLError } from 'graphql';
import { ScanLimitError } from './directory/outcomes.ts';
import {
  ScimConflictError,
  ScimError,
  ScimInvalidRequestError,
  ScimNotFoundError,
  ScimProtocolError,
  ScimRateLimitedError,
  ScimSeatLimitError,
  ScimUnauthorizedError,
  ScimUnavailableError,
} from './scim/errors.ts';
import { GroupBusyError, SharedStateUnavailableError } from './stores/errors.ts';

// Top-level GraphQL errors (docs/design.md "unexpected failures are masked, with a stable
// extensions.code and no internals"). Expected outcomes of mutations are typed results in the
// schema instead; what reaches this function is either an upstream failure with a stable code,
// an error the schema raised on purpose (a GraphQLError without an original error), or a bug,
// which is masked. No message built here holds the token, a query string, a stack or a raw body.

export type ErrorCode =
  | 'UPSTREAM_UNAUTHORIZED'
  | 'UPSTREAM_UNAVAILABLE'
  | 'UPSTREAM_PROTOCOL_ERROR'
  | 'UPSTREAM_REJECTED'
  | 'RATE_LIMITED'
  | 'NOT_FOUND'
  | 'CONFLICT'
  | 'SEAT_LIMIT_REACHED'
  | 'SCAN_LIMIT_EXCEEDED'
  | 'SHARED_STATE_UNAVAILABLE'
  | 'GROUP_BUSY'
  | 'INTERNAL_SERVER_ERROR';

const UNEXPECTED = 'Unexpected error.';

function describeUpstream(
  error: ScimError,
  name: string,
): { code: ErrorCode; message: string; extra?: object } {
  // Keeper's wording names Keeper; any other upstream is "the SCIM upstream".
  const keeper = name === 'Keeper';
  const Name = keeper ? 'Keeper' : 'The SCIM upstream';
  const upstream = {
    status: error.status,
    ...(error.scimType ? { scimType: error.scimType } : {}),
  };
  if (error instanceof ScimUnauthorizedError) {
    return {
      code: 'UPSTREAM_UNAUTHORIZED',
      message: keeper
        ? 'Keeper refused the SCIM token of this service (it may be wrong, rotated or not yet saved in the Admin Console).'
        : 'The SCIM upstream refused the token of this service (it may be wrong or rotated).',
      extra: { upstream },
    };
  }
  if (error instanceof ScimRateLimitedError) {
    return {
      code: 'RATE_LIMITED',
      message: `${Name} is rate limiting this service; retry later.`,
      extra: {
        upstream,
        ...(error.retryAfterSeconds !== undefined ? { retryAfter: error.retryAfterSeconds } : {}),
      },
    };
  }
  if (error instanceof ScimUnavailableError) {
    return {
      code: 'UPSTREAM_UNAVAILABLE',
      message: `${keeper ? 'The Keeper SCIM endpoint' : Name} could not be reached or failed; retry later.`,
      extra: { upstream },
    };
  }
  if (error instanceof ScimProtocolError) {
    return {
      code: 'UPSTREAM_PROTOCOL_ERROR',
      message: `${keeper ? 'The Keeper SCIM endpoint' : Name} answered with something that is not valid SCIM.`,
      extra: { upstream },
    };
  }
  if (error instanceof ScimNotFoundError) {
    return {
      code: 'NOT_FOUND',
      message: keeper ? 'Not found in this Keeper node.' : 'Not found in the SCIM upstream.',
      extra: { upstream },
    };
  }
  if (error instanceof ScimConflictError) {
    return { code: 'CONFLICT', message: `${Name} reported a conflict.`, extra: { upstream } };
  }
  if (error instanceof ScimSeatLimitError) {
    return {
      code: 'SEAT_LIMIT_REACHED',
      message: keeper
        ? 'All licensed Keeper seats are in use.'
        : 'The SCIM upstream has no free licensed seat.',
      extra: { upstream },
    };
  }
  if (error instanceof ScimInvalidRequestError) {
    return {
      code: 'UPSTREAM_REJECTED',
      message: `${Name} rejected the request${error.scimType ? ` (${error.scimType})` : ''}.`,
      extra: { upstream },
    };
  }
  return {
    code: 'UPSTREAM_UNAVAILABLE',
    message: keeper
      ? 'The Keeper SCIM request failed.'
      : 'The request to the SCIM upstream failed.',
    extra: { upstream },
  };
}

/**
 * Yoga's `maskError`: maps a thrown error to what the caller may see. `log` receives the
 * unexpected ones (never the token: nothing in the facade's errors holds it).
 */
export function maskError(
  error: unknown,
  log: (error: unknown) => void = () => {},
  upstreamName = 'Keeper',
): GraphQLError {
  const graphqlError = error instanceof GraphQLError ? error : undefined;
  const original = graphqlError?.originalError ?? (graphqlError ? undefined : error);
  const location = {
    nodes: graphqlError?.nodes,
    source: graphqlError?.source,
    positions: graphqlError?.positions,
    path: graphqlError?.path,
  };

  // A variable the caller sent that does not fit its type, or is missing: graphql-js's message
  // names it (the wrapped scalar error alone would not).
  const variable = graphqlError?.path
    ? undefined
    : /^Variable "\$(\w+)"/.exec(graphqlError?.message ?? '');
  if (graphqlError && variable) {
    return new GraphQLError(graphqlError.message, {
      ...location,
      extensions: { code: 'BAD_USER_INPUT', variable: variable[1] },
    });
  }
  if (original instanceof PothosValidationError && original.extensions.code === undefined) {
    const { message, extensions } = describeInvalidArgument(original);
    return new GraphQLError(message, { ...location, extensions });
  }
  if (original instanceof GraphQLError) return original;
  if (graphqlError && (original === undefined || original === null)) return graphqlError;

  if (original instanceof ScimError) {
    const { code, message, extra } = describeUpstream(original, upstreamName);
    // The upstream's own detail stays on `originalError`, for the operator's (redacted) log; the
    // caller sees only the message above, which never quotes it.
    return new GraphQLError(message, {
      ...location,
      extensions: { code, ...extra },
      originalError: original,
    });
  }
  if (original instanceof SharedStateUnavailableError || original instanceof GroupBusyError) {
    // Nothing was written: Redis could not be reached (the connection logs why), or the group's
    // lock could not be had (or was lost) before the write.
    return new GraphQLError(original.message, {
      ...location,
      extensions: { code: original.code satisfies ErrorCode, retryable: true },
    });
  }
  if (original instanceof ScanLimitError) {
    return new GraphQLError(original.message, { ...location, extensions: { code: original.code } });
  }
  log(original);
  return new GraphQLError(UNEXPECTED, {
    ...location,
    extensions: { code: 'INTERNAL_SERVER_ERROR' satisfies ErrorCode },
  });
}

type Issue = { message: string; path?: readonly (PropertyKey | { key: PropertyKey })[] };

/**
 * A query argument that failed a schema rule (a zod check of the validation plugin, or a global id
 * the relay plugin could not decode): BAD_USER_INPUT naming the argument, as `a.b` for a field of
 * an input object.
 */
function describeInvalidArgument(error: PothosValidationError): {
  message: string;
  extensions: Record<string, unknown>;
} {
  const issue = (error as { issues?: readonly Issue[] }).issues?.[0];
  const argument = issue?.path?.map((p) => String(typeof p === 'object' ? p.key : p)).join('.');
  if (!issue || !argument)
    return { message: error.message, extensions: { code: 'BAD_USER_INPUT' } };
  return {
    message: `\`${argument}\` ${issue.message}`,
    extensions: { code: 'BAD_USER_INPUT', argument },
  };
}
