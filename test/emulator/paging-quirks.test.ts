import { describe, expect, it } from 'vitest';
import { send, useEmulator } from './helpers.ts';

describe('emulator paging quirks', () => {
  const plain = useEmulator({ seed: 'demo' });
  const quirky = useEmulator({
    seed: 'demo',
    paging: { echoCount: true, wrapPastEnd: true, maxCount: 50 },
  });

  it('pages by the RFC by default', async () => {
    const past = await send(plain(), 'GET', '/Users?startIndex=600&count=10');
    expect(past.body).toMatchObject({
      totalResults: 520,
      startIndex: 600,
      itemsPerPage: 0,
      Resources: [],
    });
  });

  it('caps pages, echoes the requested count and wraps past the end when asked to', async () => {
    const capped = await send(quirky(), 'GET', '/Users?startIndex=1&count=200');
    expect(capped.body).toMatchObject({ totalResults: 520, startIndex: 1, itemsPerPage: 200 });
    expect(capped.body.Resources).toHaveLength(50);
    const past = await send(quirky(), 'GET', '/Users?startIndex=600&count=10');
    expect(past.body).toMatchObject({ startIndex: 1, itemsPerPage: 10 });
    expect(past.body.Resources[0].id).toBe(quirky().store.listUsers()[0]?.id);
  });
});
