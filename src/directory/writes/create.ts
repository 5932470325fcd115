import {
  ScimConflictError,
  ScimRateLimitedError,
  ScimUnavailableError,
} from '../../scim/errors.ts';
import { type NodeTypename, OutcomeUnknownError } from '../outcomes.ts';

// Creates (POST /Users, POST /Groups) are never retried blindly: the SCIM client never repeats a
// POST, because a POST whose answer was lost may have been applied (an invited user holds a seat;
// Keeper allows two teams with one name, docs/keeper-scim.md §9.15). This module decides instead, from
// what went wrong and from a look-up of the object the create would have made:
//
//   failure of the POST                      what it proves          then
//   429                                      not applied             top-level RATE_LIMITED
//   no connection (requestSent false)        not applied             top-level UPSTREAM_UNAVAILABLE
//   5xx answer, connection reset             unknown                 look up: found → created;
//                                                                    absent → POST once more if
//                                                                    the upstream refuses a
//                                                                    duplicate, else OutcomeUnknown
//   timeout (no answer in time)              unknown, and the        look up: found → created;
//                                            request may still land  absent → OutcomeUnknown
//   409 after an earlier unknown attempt     our first attempt       look up: ours → created
//                                            may have landed
//
// An absent object after a 5xx or a reset usually means it was not created: a SCIM server applies
// a write before it answers. Not always: a gateway's 504, or a proxy that drops a slow request,
// leaves the upstream still working on it. A second POST is therefore sent only where the upstream
// itself refuses a duplicate (a user: Keeper answers 409 for a taken userName, and the 409 is then
// looked up again). Keeper allows two teams with one name, so a team or role create is never sent
// twice by one call: it answers OutcomeUnknownError, and a keyed repeat looks it up first. After a timeout the upstream may still be working
// on it, so absence proves nothing. A second POST that ends unknown again is looked up again and
// otherwise reported as OutcomeUnknownError, never as a failure, so "reported failed" always
// means "not created".

export type CreateWithLookup<T> = {
  typename: NodeTypename;
  /** How a person finds it, for OutcomeUnknownError: `userName "a@b.c"`. */
  describeLookup: string;
  /** The POST. */
  create: () => Promise<T>;
  /** Finds the object this create makes (fresh upstream read, no loader cache), or null. */
  lookup: () => Promise<T | null>;
  /** An earlier call with the same idempotency key ended unknown: look before writing. */
  previousUncertain: boolean;
  /**
   * Whether the upstream refuses a second object with the same key (users: userName, 409). Only
   * then may a create whose outcome is unknown, and whose object a look-up did not find, be sent
   * again in the same call.
   */
  upstreamRefusesDuplicates: boolean;
};

/** POST attempts at most: the first, and one more after a look-up proved it absent. */
const MAX_ATTEMPTS = 2;

const TIMEOUT_CODES = new Set(['TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);

export async function createWithLookup<T>(op: CreateWithLookup<T>): Promise<T> {
  const unknown = (why: string) => new OutcomeUnknownError(op.typename, op.describeLookup, why);
  const look = async (why: string): Promise<T | null> => {
    try {
      return await op.lookup();
    } catch {
      throw unknown(`${why}, and the look-up failed too`);
    }
  };

  // Set once any attempt (this call's or an earlier one with the key) may have been applied.
  let mayExist = op.previousUncertain;
  if (mayExist) {
    const found = await look('an earlier call with this idempotency key ended unknown');
    if (found) return found;
  }

  for (let attempt = 1; ; attempt++) {
    try {
      return await op.create();
    } catch (error) {
      if (error instanceof ScimConflictError && mayExist) {
        // Most likely our own earlier attempt, applied after all; the look-up decides.
        const found = await look('the upstream reported a conflict after an unknown attempt');
        if (found) return found;
        throw error;
      }
      if (error instanceof ScimRateLimitedError) throw error;
      if (!(error instanceof ScimUnavailableError) || !error.requestSent) throw error;

      mayExist = true;
      const why =
        error.status > 0
          ? `the upstream answered ${error.status}`
          : `the connection failed after the request was sent (${error.transportCode ?? 'network error'})`;
      const found = await look(why);
      if (found) return found;
      if (TIMEOUT_CODES.has(error.transportCode ?? '') || !op.upstreamRefusesDuplicates) {
        throw unknown(`${why}; it may still be applied`);
      }
      if (attempt >= MAX_ATTEMPTS) throw unknown(`${why} on ${attempt} attempts`);
    }
  }
}
