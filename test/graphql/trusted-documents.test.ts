import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keyFileEntry } from '../../src/caller-auth.ts';
import { type Stack, startStack } from '../helpers.ts';

// TRUSTED_DOCUMENTS_FILE: callers without `admin` may send only the known operations, by hash;
// any document text from them is refused before parse, with no upstream call.

const READER = 'reader-key-0123456789abcdef';
const ADMIN = 'admin-key-0123456789abcdefg';
const COUNT = 'query UserCount { users(first: 1) { totalCount } }';

describe('trusted documents', () => {
  let stack: Stack;
  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'trusted-'));
    writeFileSync(join(dir, 'docs.json'), JSON.stringify({ 'sha256:count': COUNT }));
    writeFileSync(
      join(dir, 'keys'),
      [
        keyFileEntry('reader', ['directory:read'], READER),
        keyFileEntry('ops', ['admin', 'directory:read'], ADMIN),
      ].join('\n'),
    );
    stack = await startStack({
      env: {
        API_KEYS_FILE: join(dir, 'keys'),
        TRUSTED_DOCUMENTS_FILE: join(dir, 'docs.json'),
      },
    });
  });
  afterAll(() => stack.close());

  const send = async (key: string, body: object) => {
    const response = await stack.app.fetch('http://facade.test/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
      body: JSON.stringify(body),
    });
    return (await response.json()) as {
      data?: unknown;
      errors?: { extensions?: { code?: string } }[];
    };
  };
  const byHash = (hash: string) => ({
    extensions: { persistedQuery: { version: 1, sha256Hash: hash } },
  });

  it('runs a known operation by hash for any caller', async () => {
    expect((await send(READER, byHash('sha256:count'))).data).toEqual({
      users: { totalCount: 520 },
    });
  });

  it('refuses document text and unknown hashes from a caller without admin, before any call', async () => {
    stack.resetLog();
    const text = await send(READER, { query: COUNT });
    expect(text.data).toBeUndefined();
    expect(text.errors?.[0]?.extensions?.code).toBe('TRUSTED_DOCUMENT_REQUIRED');
    const unknown = await send(READER, byHash('sha256:nope'));
    expect(unknown.errors?.[0]?.extensions?.code).toBe('TRUSTED_DOCUMENT_NOT_FOUND');
    expect(stack.upstreamCalls()).toEqual([]);
  });

  it('lets admin send any document', async () => {
    expect((await send(ADMIN, { query: COUNT })).data).toEqual({ users: { totalCount: 520 } });
  });
});
