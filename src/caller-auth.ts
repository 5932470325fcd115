import { createHash, timingSafeEqual } from 'node:crypto';
import type { Plugin } from 'graphql-yoga';

// Optional caller authentication (API_KEYS): the facade holds a token that can lock every user of
// the node, so when it is reachable by more than its own host, callers must prove who they are.
// Keys are compared as SHA-256 digests with timingSafeEqual, so neither their length nor their
// content leaks through timing. Open without a key: the GraphiQL page itself (it asks for the key
// in its Headers pane), `/health` and `/ready` (for orchestrators).

const digest = (value: string) => createHash('sha256').update(value).digest();

export function useCallerAuth(keys: readonly string[]): Plugin {
  const digests = keys.map(digest);
  const accepted = (presented: Buffer) => {
    let ok = false;
    // Compare against every key, so the time does not tell which one (if any) matched.
    for (const key of digests) ok = timingSafeEqual(key, presented) || ok;
    return ok;
  };

  return {
    onRequest({ request, url, endResponse, fetchAPI }) {
      if (digests.length === 0) return;
      if (url.pathname === '/health' || url.pathname === '/ready') return;
      const wantsPage =
        request.method === 'GET' && (request.headers.get('accept') ?? '').includes('text/html');
      if (wantsPage) return;
      const header = request.headers.get('authorization') ?? '';
      const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
      if (match?.[1] && accepted(digest(match[1]))) return;
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
  };
}
