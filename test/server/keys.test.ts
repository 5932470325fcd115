import { type ChildProcessWithoutNullStreams, execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';

// `npm run new-key` and SIGHUP as an operator uses them: make a key, put its line in
// API_KEYS_FILE, start the service, then replace the file and send SIGHUP.

const root = fileURLToPath(new URL('../..', import.meta.url));
const children: ChildProcessWithoutNullStreams[] = [];
const dirs: string[] = [];

afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

async function newKey(name: string, scopes: string) {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--import', 'tsx', 'scripts/new-key.ts', '--name', name, '--scopes', scopes],
    { cwd: root },
  );
  const key = /key \(.*\): (\S+)/.exec(stdout)?.[1] as string;
  const line = /API_KEYS_FILE line: (.+)/.exec(stdout)?.[1] as string;
  return { key, line };
}

describe('npm run new-key and SIGHUP', () => {
  it('prints a key and its line; the service takes new lines on SIGHUP', async () => {
    const portal = await newKey('portal', 'directory:read');
    const hr = await newKey('hr', 'directory:read,users:lifecycle');
    expect(portal.key).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(portal.line).toMatch(/^portal directory:read sha256:[0-9a-f]{64}$/);
    expect(portal.line).not.toContain(portal.key);

    const dir = mkdtempSync(join(tmpdir(), 'keys-'));
    dirs.push(dir);
    const file = join(dir, 'keys');
    writeFileSync(file, `${portal.line}\n`);
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      cwd: root,
      env: { PATH: process.env.PATH ?? '', NODE_ENV: 'test', PORT: '0', API_KEYS_FILE: file },
    });
    children.push(child);
    let output = '';
    child.stdout.on('data', (chunk) => {
      output += chunk;
    });
    child.stderr.on('data', (chunk) => {
      output += chunk;
    });
    const waitFor = async (pattern: RegExp) => {
      for (let i = 0; i < 300; i++) {
        const match = output.match(pattern);
        if (match) return match;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      throw new Error(`no ${pattern} in:\n${output}`);
    };
    const [, port] = await waitFor(/GraphQL at http:\/\/localhost:(\d+)\/graphql/);
    const status = async (key: string) =>
      (
        await fetch(`http://127.0.0.1:${port}/graphql`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
          body: JSON.stringify({ query: '{ users(first: 1) { totalCount } }' }),
        })
      ).status;

    expect(await status(portal.key)).toBe(200);
    expect(await status(hr.key)).toBe(401);

    writeFileSync(file, `${hr.line}\n`);
    child.kill('SIGHUP');
    await waitFor(/SIGHUP: keys reloaded \(1 named, 0 plain\)/);
    expect(await status(hr.key)).toBe(200);
    expect(await status(portal.key)).toBe(401);

    // A broken file changes nothing.
    writeFileSync(file, 'hr directory:reed sha256:00\n');
    child.kill('SIGHUP');
    await waitFor(/SIGHUP: keys not reloaded/);
    expect(await status(hr.key)).toBe(200);
    expect(output).not.toContain(hr.key);
    expect(output).not.toContain(portal.key);
  });
});
