import { GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { ErrorCode } from './errors.ts';

/**
 * Every `extensions.code` a caller can get. The README's errors table lists each (a test checks),
 * and every masked error's code (src/errors.ts) must be one of them (checked by the compiler).
 */
export const ERROR_CODES = [
  // Upstream failures (src/errors.ts)
  'UPSTREAM_UNAUTHORIZED',
  'UPSTREAM_UNAVAILABLE',
  'UPSTREAM_PROTOCOL_ERROR',
  'UPSTREAM_REJECTED',
  'RATE_LIMITED',
  'NOT_FOUND',
  'CONFLICT',
  'SEAT_LIMIT_REACHED',
  'SCAN_LIMIT_EXCEEDED',
  'SHARED_STATE_UNAVAILABLE',
  'GROUP_BUSY',
  'INTERNAL_SERVER_ERROR',
  // The caller's request
  'UNAUTHENTICATED',
  'CSRF_HEADER_REQUIRED',
  'BAD_REQUEST',
  'REQUEST_ENTITY_TOO_LARGE',
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  'INTROSPECTION_DISABLED',
  'QUERY_TOO_COMPLEX',
  'BAD_USER_INPUT',
  // The change feed (src/schema/directory.ts)
  'RESYNC_REQUIRED',
] as const;

type StableErrorCode = (typeof ERROR_CODES)[number];

// A code added to ErrorCode without adding it here fails to compile.
const everyMaskedCodeIsListed: ErrorCode extends StableErrorCode ? true : never = true;
void everyMaskedCodeIsListed;

// ---- codes for the errors Yoga, graphql-js and graphql-armor raise without one -----------------

/** graphql-armor's refusals: "Syntax Error: Aliases limit of 30 exceeded, found 31." */
const ARMOR_LIMIT =
  /^Syntax Error: (Aliases|Directives|Token|Query depth) limit of (\d+) exceeded(?:, found (\d+))?\.?/;
const ARMOR_KIND: Record<string, string> = {
  Aliases: 'aliases',
  Directives: 'directives',
  Token: 'tokens',
  'Query depth': 'depth',
};

/** Yoga's CSRF refusal (@graphql-yoga/plugin-csrf-prevention), which names no header. */
const CSRF_REFUSAL = 'Required CSRF header(s) not present';

type ErrorLike = GraphQLError | { message: string; extensions?: Record<string, unknown> };

/**
 * The same error with a stable code: armor limits become QUERY_TOO_COMPLEX with `kind`, `max` and
 * `value`; the CSRF refusal names the header to send; a request-level refusal keeps Yoga's
 * BAD_REQUEST without echoing the caller's body; anything else without a code is a validation
 * failure (no path) or unexpected (a path: it happened while executing).
 */
function withStableCode(error: ErrorLike, csrfHeader: string): ErrorLike {
  const extensions = { ...(error.extensions ?? {}) };
  const rebuild = (message: string, ext: Record<string, unknown>) =>
    error instanceof GraphQLError
      ? new GraphQLError(message, {
          nodes: error.nodes,
          source: error.source,
          positions: error.positions,
          path: error.path,
          originalError: error.originalError,
          extensions: ext,
        })
      : { ...error, message, extensions: ext };

  const armor = ARMOR_LIMIT.exec(error.message);
  if (armor) {
    const [, limit = '', max, value] = armor;
    return rebuild(error.message.replace(/^Syntax Error: /, ''), {
      ...extensions,
      code: 'QUERY_TOO_COMPLEX' satisfies StableErrorCode,
      kind: ARMOR_KIND[limit],
      max: Number(max),
      ...(value !== undefined ? { value: Number(value) } : {}),
    });
  }
  if (error.message === CSRF_REFUSAL) {
    return rebuild(
      `This request could come from a cross-site form or link: send the header ${csrfHeader} (any value), or POST with content-type: application/json.`,
      { ...extensions, code: 'CSRF_HEADER_REQUIRED' satisfies StableErrorCode, header: csrfHeader },
    );
  }
  if (typeof extensions.code === 'string') {
    // Yoga adds the JSON parser's message, which quotes the caller's body. Removed in place: the
    // error's other fields (its HTTP status among them) stay exactly as Yoga made them.
    if (error.extensions && 'originalError' in error.extensions) {
      delete (error.extensions as Record<string, unknown>).originalError;
    }
    return error;
  }
  const executing = error instanceof GraphQLError && error.path !== undefined;
  const code: StableErrorCode = executing ? 'INTERNAL_SERVER_ERROR' : 'GRAPHQL_VALIDATION_FAILED';
  return rebuild(error.message, { ...extensions, code });
}

/** Yoga plugin giving every error of every answer a stable `extensions.code`. */
export function useStableErrorCodes(csrfHeader: string): Plugin {
  const fix = (result: unknown): unknown => {
    if (!result || typeof result !== 'object' || !('errors' in result)) return result;
    const { errors } = result as { errors?: readonly ErrorLike[] };
    if (!errors?.length) return result;
    return { ...result, errors: errors.map((e) => withStableCode(e, csrfHeader)) };
  };
  return {
    onResultProcess({ result, setResult }) {
      if (Array.isArray(result)) setResult(result.map(fix) as typeof result);
      else if (!(Symbol.asyncIterator in (result as object)))
        setResult(fix(result) as typeof result);
    },
  };
}
