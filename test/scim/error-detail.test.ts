import { describe, expect, it } from 'vitest';
import { errorFromResponse } from '../../src/scim/errors.ts';

// An upstream's `detail` may quote anything (a proxy echoing our Authorization header): it is
// kept on the error as data and never becomes part of a message.

describe('SCIM error detail', () => {
  it('is data on the error for 400, 404, 409 and 500, never in the message', () => {
    const detail = 'echo: Bearer c2VjcmV0LXRva2Vu';
    for (const status of [400, 404, 409, 500]) {
      const error = errorFromResponse({ method: 'GET', path: '/Users/1' }, status, {
        schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'],
        status: String(status),
        detail,
      });
      expect(error.detail).toBe(detail);
      expect(error.message).not.toContain('c2VjcmV0');
      expect(String(error)).not.toContain('c2VjcmV0');
    }
  });
});
