import { createHash, timingSafeEqual } from 'node:crypto';
import type { Plugin } from 'graphql-yoga';

// Optional caller authentication (API_KEYS): the facade holds a token that can lock every user of
// the node, so when it is reachable by more than its own host, callers must prove who they are.
// Keys are compared as SHA-256 digests with timingSafeEqual, so neither their length nor their
// content leaks through timing. Open without a key: `/health` and `/ready` (for orchestrators),
// and the GraphiQL page itself when GraphiQL is enabled (it asks for the key in its Headers pane).
// Nothing that can execute an operation passes without a key: not a GET that also accepts HTML,
// nor a GET for the page that carries a query (GraphiQL off, it would be executed).

/** Who sent a request, as far as the facade knows; later work (scoped keys, audit) extends it. */
export type Caller =
  /** Presented one of API_KEYS; `id` is the key's SHA-256 digest (hex), never the key. */
  | { kind: 'key'; id: string }
  /** No keys are configured, so nobody is identified. */
  | { kind: 'anonymous'; id: 'anonymous' };

export const ANONYMOUS: Caller = { kind: 'anonymous', id: 'anonymous' };

/** Query parameters with which a GET asks Yoga to execute something instead of showing a page. */
const OPERATION_PARAMS = ['query', 'extensions', 'operationName', 'variables', 'documentId'];

const digest = (value: string) => createHash('sha256').update(value).digest();

export type CallerAuth = {
  /** The caller a request's `Authorization` header proves, or undefined when it proves none. */
  identify(request: Request): Caller | undefined;
  /** Yoga plugin refusing, with 401, every request that needs a key and has no valid one. */
  plugin: Plugin;
};

export function createCallerAuth(options: {
  keys: readonly string[];
  /** Whether the GraphiQL page is served (it is the only open GET of `endpoint`). */
  graphiql: boolean;
  endpoint: string;
}): CallerAuth {
  const digests = options.keys.map(digest);
  const accepted = (presented: Buffer) => {
    let ok = false;
    // Compare against every key, so the time does not tell which one (if any) matched.
    for (const key of digests) ok = timingSafeEqual(key, presented) || ok;
    return ok;
  };

  const identify = (request: Request): Caller | undefined => {
    if (digests.length === 0) return ANONYMOUS;
    const match = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.get('authorization') ?? '');
    if (!match?.[1]) return undefined;
    const presented = digest(match[1]);
    return accepted(presented) ? { kind: 'key', id: presented.toString('hex') } : undefined;
  };

  const isGraphiQLPage = (request: Request, url: URL) =>
    options.graphiql &&
    request.method === 'GET' &&
    url.pathname.replace(/\/$/, '') === options.endpoint &&
    (request.headers.get('accept') ?? '').includes('text/html') &&
    OPERATION_PARAMS.every((name) => !url.searchParams.has(name));

  return {
    identify,
    plugin: {
      onRequest({ request, url, endResponse, fetchAPI }) {
        if (digests.length === 0) return;
        if (url.pathname === '/health' || url.pathname === '/ready') return;
        if (isGraphiQLPage(request, url)) return;
        if (identify(request)) return;
        endResponse(
          new fetchAPI.Response(
            JSON.stringify({
              errors: [
                {
                  message: 'This service needs an API key: send Authorization: Bearer <key>.',
                  extensions: { code: 'UNAUTHENTICATED' },
                },
              ],
            }),
            {
              status: 401,
              headers: { 'content-type': 'application/json', 'www-authenticate': 'Bearer' },
            },
          ),
        );
      },
    },
  };
}
