import { afterAll, beforeAll } from 'vitest';
import { createEmulator, type Emulator, type EmulatorOptions } from '../../src/emulator/index.ts';

// biome-ignore lint/suspicious/noExplicitAny: SCIM bodies are loose JSON, asserted field by field.
export type Reply = { status: number; headers: Headers; body: any };

/** Starts one emulator for the enclosing describe block and closes it afterwards. */
export function useEmulator(options: EmulatorOptions = {}): () => Emulator {
  let emulator: Emulator | undefined;
  beforeAll(async () => {
    emulator = await createEmulator({ host: '127.0.0.1', port: 0, ...options });
  });
  afterAll(async () => {
    await emulator?.close();
  });
  return () => {
    if (!emulator) throw new Error('emulator not started');
    return emulator;
  };
}

export type SendOptions = {
  body?: unknown;
  /** Raw body text, sent as is with no Content-Type unless `headers` sets one. */
  raw?: string;
  headers?: Record<string, string>;
  token?: string | null;
};

/** One request against the node base URL; `path` is relative to it, e.g. `/Users?count=2`. */
export async function send(
  emulator: Emulator,
  method: string,
  path: string,
  options: SendOptions = {},
): Promise<Reply> {
  const headers: Record<string, string> = {};
  if (options.token !== null)
    headers['authorization'] = `Bearer ${options.token ?? emulator.token}`;
  // Raw bodies go out as bytes: fetch would label a string `text/plain`, and a missing
  // Content-Type (Keeper's Go client) must stay missing.
  let body: string | Blob | undefined;
  if (options.raw !== undefined) body = new Blob([options.raw]);
  else if (options.body !== undefined) {
    body = JSON.stringify(options.body);
    headers['content-type'] = 'application/scim+json';
  }
  Object.assign(headers, options.headers);
  const response = await fetch(`${emulator.baseUrl}${path}`, { method, headers, body });
  const text = await response.text();
  return {
    status: response.status,
    headers: response.headers,
    body: text === '' ? undefined : JSON.parse(text),
  };
}

export const SCHEMA_ERROR = 'urn:ietf:params:scim:api:messages:2.0:Error';
const SCHEMA_PATCH = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

export function patchOp(...operations: unknown[]) {
  return { schemas: [SCHEMA_PATCH], Operations: operations };
}
