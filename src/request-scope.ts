import { randomUUID } from 'node:crypto';

// The id of one HTTP request: taken from the caller's `x-request-id` when it is a plausible id,
// else generated. It names the request in the access log, comes back in the response header, and
// goes upstream with every SCIM call the request makes, so one id follows a request everywhere.

export const REQUEST_ID_HEADER = 'x-request-id';

/** Ids a caller may choose: short, and nothing that could forge a log line or a header. */
const ACCEPTED_ID = /^[\w.:@/+=-]{1,128}$/;

const ids = new WeakMap<Request, string>();

export function requestId(request: Request): string {
  let id = ids.get(request);
  if (id === undefined) {
    const given = request.headers.get(REQUEST_ID_HEADER);
    id = given !== null && ACCEPTED_ID.test(given) ? given : randomUUID();
    ids.set(request, id);
  }
  return id;
}
