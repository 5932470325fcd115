import { describe, expect, it } from 'vitest';
import { createLogger, createRedactor, defaultLogFormat } from '../src/log.ts';

const TOKEN = 'k33per-T0ken/with+special=chars"and\\slash';
const KEY = 'caller-key-0123456789abcdef';

function capture(format: 'json' | 'pretty', colorize = false) {
  const lines: string[] = [];
  const log = createLogger({
    level: 'debug',
    format,
    colorize,
    secrets: [TOKEN, KEY],
    destination: { write: (line: string) => lines.push(line) },
  });
  return { log, text: () => lines.join('') };
}

describe('redaction', () => {
  const redact = createRedactor([TOKEN, KEY]);

  it('removes each secret as written, JSON-escaped and URL-encoded', () => {
    for (const form of [TOKEN, JSON.stringify(TOKEN).slice(1, -1), encodeURIComponent(TOKEN)]) {
      expect(redact(`before ${form} after`)).toBe('before [REDACTED] after');
    }
    expect(redact(`${KEY}${KEY}`)).toBe('[REDACTED][REDACTED]');
  });

  it('learns keys added later (a SIGHUP reload) and redacts them in a logger built on it', () => {
    const later = 'key-added-by-a-sighup-reload';
    const secrets = createRedactor([TOKEN]);
    const lines: string[] = [];
    const log = createLogger({
      level: 'info',
      format: 'json',
      secrets,
      destination: { write: (line: string) => lines.push(line) },
    });
    log.info(`before ${later}`);
    secrets.add([later]);
    log.info(`after ${later} and ${TOKEN}`);
    expect(lines[0]).toContain(later);
    expect(lines[1]).not.toContain(later);
    expect(lines[1]).not.toContain(TOKEN);
    expect(lines[1]).toContain('after [REDACTED] and [REDACTED]');
  });

  it('removes any Bearer credential, whatever it is and however it is spaced', () => {
    expect(redact('authorization=Bearer abc.def-ghi')).toBe('authorization=Bearer [REDACTED]');
    expect(redact('"authorization":"bearer  xyz123"')).toBe('"authorization":"bearer  [REDACTED]"');
    expect(redact('Bearer\\nsomething-else')).toBe('Bearer\\n[REDACTED]');
    expect(redact('Authorization: Bearer%20zzz&next=1')).toBe(
      'Authorization: Bearer%20[REDACTED]&next=1',
    );
    expect(redact('nothing to hide here')).toBe('nothing to hide here');
  });

  it('applies to every line a logger writes: messages, fields, errors and their stacks', () => {
    const { log, text } = capture('json');
    log.info(`token ${TOKEN}`);
    log.warn({ detail: `echo Bearer ${TOKEN}`, headers: { authorization: `Bearer ${KEY}` } }, 'x');
    log.error({ err: new Error(`failed with ${KEY}`) }, 'unexpected');
    const out = text();
    expect(out).not.toContain(TOKEN);
    expect(out).not.toContain(JSON.stringify(TOKEN).slice(1, -1));
    expect(out).not.toContain(KEY);
    expect(out.match(/\[REDACTED\]/g)?.length).toBeGreaterThanOrEqual(4);
    const lines = out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => l.level)).toEqual(['info', 'warn', 'error']);
    expect(lines[2].err.stack).toContain('Error: failed with [REDACTED]');
  });

  it('pretty output is redacted too, and has no colour codes unless asked for', () => {
    const plain = capture('pretty');
    plain.log.info({ detail: `Bearer ${TOKEN}` }, `key ${KEY}`);
    expect(plain.text()).toContain('key [REDACTED]');
    expect(plain.text()).not.toContain(TOKEN);
    expect(plain.text()).not.toContain('\u001b[');
    const coloured = capture('pretty', true);
    coloured.log.info('hello');
    expect(coloured.text()).toContain('\u001b[');
  });
});

describe('log format', () => {
  it('is pretty only on a terminal outside production', () => {
    expect(defaultLogFormat(false, true)).toBe('pretty');
    expect(defaultLogFormat(true, true)).toBe('json');
    expect(defaultLogFormat(false, false)).toBe('json');
  });
});
