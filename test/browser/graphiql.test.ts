import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Stack, startStack } from '../helpers.ts';

// GraphiQL as a person uses it, in Debian's Chromium (no browser download: .ci/run installs the
// `chromium` package). Without Chromium on a developer's machine the suite is skipped with a
// note; in CI (CI=true) a missing browser fails it instead.
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const available = existsSync(CHROMIUM);
if (!available && process.env.CI)
  throw new Error(`CI needs Chromium at ${CHROMIUM} (apt-get install chromium)`);
if (!available)
  console.warn(`Skipping browser tests: no Chromium at ${CHROMIUM} (apt-get install chromium)`);

describe.runIf(available)('GraphiQL in a browser', () => {
  let stack: Stack;
  let server: Server;
  let browser: Browser;
  let url: string;

  beforeAll(async () => {
    stack = await startStack();
    server = createServer(stack.app);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
    });
  });

  afterAll(async () => {
    await browser?.close();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    await stack?.close();
  });

  it('opens on the example operations, loading nothing from outside', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const outside: string[] = [];
    page.on('request', (request) => {
      if (
        !request.url().startsWith(url.replace('/graphql', '')) &&
        !request.url().startsWith('blob:') &&
        !request.url().startsWith('data:')
      ) {
        outside.push(request.url());
      }
    });
    await page.goto(url);
    const editor = page.getByLabel('Operation Editor');
    await expect
      .poll(() => editor.textContent(), { timeout: 15_000 })
      .toContain('UsersWithTeamsAndRoles');
    // The editor renders only its visible lines, so the first example is what can be checked.
    expect(outside).toEqual([]);
    await context.close();
  });

  it('runs a query and shows the answer with its upstream call count', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const query = '{ users(first: 2) { totalCount edges { node { userName } } } }';
    await page.goto(`${url}?query=${encodeURIComponent(query)}`);
    await page.getByLabel('Execute query (Ctrl-Enter)').click();
    const result = page.getByLabel('Result Window');
    await expect.poll(() => result.textContent(), { timeout: 15_000 }).toContain('totalCount');
    const text = (await result.textContent()) ?? '';
    expect(text).toContain(String(stack.emulator.store.listUsers().length));
    expect(text).toContain(stack.emulator.store.listUsers()[0]?.userName);
    expect(text).toContain('"upstream"');
    await context.close();
  });
});
