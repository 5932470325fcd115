import { describe, expect, it } from 'vitest';
import { DirectoryChangesDocument, DirectoryDocument } from '../generated/graphql.ts';
import { startStack } from '../helpers.ts';

// The mirror through GraphQL: `directory` (freshness and counts), `directoryChanges` (a page of
// changes after a cursor) and the `directoryChanged` subscription over Server-Sent Events.

describe('directory mirror in the schema', () => {
  it('answers directory from the mirror: one read of the node, then no upstream call', async () => {
    const stack = await startStack({ env: { MIRROR: 'on' } });
    try {
      const first = await stack.run(DirectoryDocument);
      const store = stack.emulator.store;
      expect(first.errors).toBeUndefined();
      expect(first.data?.directory).toMatchObject({
        users: store.userCount,
        lockedUsers: store.listUsers().filter((u) => !u.active).length,
        teams: store.listTeams().length,
        roles: store.listRoles().length,
        lastRefreshError: null,
      });
      // The mirror's first read (not the request's own calls: the mirror is shared).
      expect(
        stack
          .upstreamCalls()
          .map((c) => `${c.method} ${c.path.split('?')[0]}`)
          .sort(),
      ).toEqual(['GET /Groups', 'GET /Users', 'GET /Users']);
      stack.resetLog();
      const again = await stack.run(DirectoryDocument);
      expect(again.data?.directory?.asOf).toBe(first.data?.directory?.asOf);
      expect(stack.upstreamCalls()).toEqual([]);
    } finally {
      await stack.close();
    }
  });

  it('serves the changes after a cursor, resumable, and refuses one older than the retention', async () => {
    const stack = await startStack({ env: { MIRROR: 'on', CHANGES_RETENTION: '3' } });
    try {
      const start = (await stack.run(DirectoryDocument)).data?.directory?.changesCursor;
      const store = stack.emulator.store;
      const [a, b] = store.listUsers().filter((u) => u.active);
      store.setActive(a!.id, false);
      store.commitUser(b!.id, { ...b!, displayName: 'Someone Else' });
      await stack.mirror!.refresh();
      stack.resetLog();

      const page = await stack.run(DirectoryChangesDocument, { after: start, first: 1 });
      expect(page.errors).toBeUndefined();
      const changes = page.data!.directoryChanges;
      expect(changes.hasNextPage).toBe(true);
      expect(changes.edges.map((e) => e.node)).toEqual([
        {
          cursor: changes.endCursor,
          type: 'USER_LOCKED',
          time: expect.any(String),
          source: 'UPSTREAM',
          mutation: null,
          userId: Buffer.from(`User:${a!.id}`).toString('base64'),
          teamId: null,
          roleId: null,
          fields: null,
        },
      ]);
      const next = await stack.run(DirectoryChangesDocument, { after: changes.endCursor });
      expect(next.data!.directoryChanges.edges.map((e) => [e.node.type, e.node.fields])).toEqual([
        ['USER_UPDATED', ['displayName']],
      ]);
      expect(next.data!.directoryChanges.hasNextPage).toBe(false);
      expect(stack.upstreamCalls()).toEqual([]);

      // Three more changes push the first two out of the retention of 3.
      for (const u of store
        .listUsers()
        .filter((x) => x.active)
        .slice(0, 3))
        store.setActive(u.id, false);
      await stack.mirror!.refresh();
      const old = await stack.run(DirectoryChangesDocument, { after: start });
      expect(old.data).toBeNull();
      expect(old.errors?.[0]?.extensions?.code).toBe('RESYNC_REQUIRED');
    } finally {
      await stack.close();
    }
  });

  it('streams directoryChanged over Server-Sent Events, from a cursor and then live', async () => {
    const stack = await startStack({ env: { MIRROR: 'on' } });
    try {
      const start = (await stack.run(DirectoryDocument)).data?.directory?.changesCursor;
      const store = stack.emulator.store;
      const [a, b] = store.listUsers().filter((u) => u.active);
      store.setActive(a!.id, false);
      await stack.mirror!.refresh();

      const controller = new AbortController();
      const response = await stack.app.fetch('http://facade.test/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
        body: JSON.stringify({
          query: `subscription ($after: String) { directoryChanged(after: $after) { type source userId } }`,
          variables: { after: start },
        }),
        signal: controller.signal,
      });
      expect(response.headers.get('content-type')).toMatch(/text\/event-stream/);
      const reader = response.body!.getReader();
      const decoder = new TextDecoder();
      let text = '';
      const events = async (n: number) => {
        for (;;) {
          const data = [...text.matchAll(/^data: (.+)$/gm)].map((m) => JSON.parse(m[1]!));
          if (data.length >= n) return data.slice(0, n);
          const { value, done } = await reader.read();
          if (done) throw new Error(`stream ended: ${text}`);
          text += decoder.decode(value, { stream: true });
        }
      };
      // The replay from the cursor, then a change seen by the next refresh.
      expect(await events(1)).toEqual([
        {
          data: {
            directoryChanged: {
              type: 'USER_LOCKED',
              source: 'UPSTREAM',
              userId: expect.any(String),
            },
          },
        },
      ]);
      store.setActive(b!.id, false);
      await stack.mirror!.refresh();
      const [, second] = await events(2);
      expect(second.data.directoryChanged).toEqual({
        type: 'USER_LOCKED',
        source: 'UPSTREAM',
        userId: Buffer.from(`User:${b!.id}`).toString('base64'),
      });
      controller.abort();
      await reader.cancel().catch(() => {});
    } finally {
      await stack.close();
    }
  });

  it('with MIRROR=off: directory is null and the change feed is refused', async () => {
    const stack = await startStack({ env: { MIRROR: 'off' } });
    try {
      const status = await stack.run(DirectoryDocument);
      expect(status.data?.directory).toBeNull();
      expect(status.errors).toBeUndefined();
      const changes = await stack.run(DirectoryChangesDocument, {});
      expect(changes.errors?.[0]?.message).toMatch(/MIRROR=off/);
      expect(stack.upstreamCalls()).toEqual([]);
    } finally {
      await stack.close();
    }
  });
});
