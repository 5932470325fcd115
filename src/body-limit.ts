import { GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';

// The request body limit, in place of Yoga's (`maxRequestBodySize`, turned off in src/app.ts),
// with the same limit, errors and statuses. Yoga pipes every body through a TransformStream that
// counts its bytes, which costs about a tenth of a millisecond of CPU per request (README,
// Benchmark). A body with a valid Content-Length needs no counting: Node's HTTP parser delivers
// exactly that many bytes and refuses a request that also sends Transfer-Encoding. Only a body
// without one (chunked) is counted as it streams.

/** Yoga's default: 25 MB. */
export const MAX_REQUEST_BODY_BYTES = 25_000_000;

const tooLarge = () =>
  new GraphQLError('Request body too large', {
    extensions: { http: { status: 413 }, code: 'REQUEST_ENTITY_TOO_LARGE' },
  });

const CONTENT_LENGTH = /^\d+$/;

export function useRequestBodyLimit(limit = MAX_REQUEST_BODY_BYTES): Plugin {
  return {
    onRequestParse({ request, requestParser, setRequestParser, fetchAPI }) {
      const length = request.headers.get('content-length');
      if (length !== null) {
        // One non-negative integer, nothing else (comma-joined values are a smuggling attempt).
        if (!CONTENT_LENGTH.test(length)) {
          throw new GraphQLError('Content-Length header is invalid.', {
            extensions: { http: { status: 400 }, code: 'BAD_REQUEST' },
          });
        }
        if (Number(length) > limit) throw tooLarge();
        return;
      }
      if (!requestParser || !request.body) return;
      setRequestParser((req) => requestParser(counted(req, limit, fetchAPI)));
    },
  };
}

type FetchAPI = Parameters<NonNullable<Plugin['onRequestParse']>>[0]['fetchAPI'];

/** The request with a body that fails with 413 once more than `limit` bytes came through. */
function counted(request: Request, limit: number, fetchAPI: FetchAPI): Request {
  const { body } = request;
  if (!body) return request;
  let read = 0;
  // A native stream needs the native TransformStream, a ponyfilled one the ponyfill's.
  const Transform = body instanceof ReadableStream ? TransformStream : fetchAPI.TransformStream;
  return new fetchAPI.Request(request.url, {
    method: request.method,
    headers: request.headers,
    signal: request.signal,
    body: body.pipeThrough(
      new Transform<Uint8Array, Uint8Array>({
        transform(chunk, controller) {
          read += chunk.byteLength;
          if (read > limit) controller.error(tooLarge());
          else controller.enqueue(chunk);
        },
      }),
    ),
    duplex: 'half',
  } as RequestInit);
}
