import { type DestinationStream, type Logger, pino } from 'pino';
import { prettyFactory } from 'pino-pretty';

// The service's logs: pino, one JSON object per line on stdout (or pino-pretty for a person at a
// terminal). Every line, whoever wrote it, passes through one redaction step on its way out: the
// upstream token, every API key and any `Bearer …` value are replaced wherever they hide (an
// upstream error's detail, an error message, a stack), so no code path has to remember to.

export type { Logger } from 'pino';

export type LogFormat = 'json' | 'pretty';

const REDACTED = '[REDACTED]';
/** Shorter strings would redact common words; real tokens and keys (>= 16 characters) are longer. */
const MIN_SECRET_LENGTH = 8;

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Removes secrets from a text; `add` teaches it more (keys that a SIGHUP reload brings). */
export type Redactor = ((text: string) => string) & { add(secrets: readonly string[]): void };

/**
 * Returns a function that removes every secret (as written, and as escaped inside a JSON string)
 * and every `Bearer <value>` from a text.
 */
export function createRedactor(secrets: readonly string[]): Redactor {
  const forms = new Set<string>();
  let literal: RegExp | undefined;
  const add = (more: readonly string[]) => {
    for (const secret of more) {
      if (secret.length < MIN_SECRET_LENGTH) continue;
      forms.add(secret);
      forms.add(JSON.stringify(secret).slice(1, -1));
      forms.add(encodeURIComponent(secret));
    }
    literal =
      forms.size > 0
        ? new RegExp(
            [...forms]
              .sort((a, b) => b.length - a.length)
              .map(escapeRegExp)
              .join('|'),
            'g',
          )
        : undefined;
  };
  add(secrets);
  // `Bearer` then white space (or its JSON/URL escapes) then the credential.
  const bearer = /\b(Bearer)((?:\s|\\[nrt]|%20|\+)+)(?!\[REDACTED\])[^\s"'\\,;&]+/gi;
  const redact = (text: string) => {
    const withoutSecrets = literal ? text.replace(literal, REDACTED) : text;
    return withoutSecrets.replace(bearer, `$1$2${REDACTED}`);
  };
  return Object.assign(redact, { add });
}

export type LoggerOptions = {
  /** pino level: fatal, error, warn, info, debug, trace or silent. */
  level: string;
  format: LogFormat;
  /** Strings that must never be written (the upstream token, API keys), or a redactor of them. */
  secrets: readonly string[] | Redactor;
  /** Colour codes in pretty output; only for a terminal. @default false */
  colorize?: boolean;
  /** Where the redacted lines go. @default stdout, synchronously */
  destination?: { write(line: string): unknown };
};

/**
 * The default format: `pretty` only for a person at a terminal outside production, JSON for
 * everything else (a log collector, a pipe, a file, a container runtime).
 */
export function defaultLogFormat(production: boolean, isTTY: boolean): LogFormat {
  return isTTY && !production ? 'pretty' : 'json';
}

export function createLogger(options: LoggerOptions): Logger {
  const redact =
    typeof options.secrets === 'function' ? options.secrets : createRedactor(options.secrets);
  const out = options.destination ?? pino.destination({ dest: 1, sync: true });
  // pino-pretty's formatter, called line by line (no stream, no worker thread).
  const format =
    options.format === 'pretty'
      ? prettyFactory({
          colorize: options.colorize ?? false,
          translateTime: 'SYS:HH:MM:ss.l',
          ignore: 'pid,hostname',
        })
      : undefined;
  const stream: DestinationStream = {
    write: (line: string) => {
      const safe = redact(line);
      out.write(format ? format(safe) : safe);
    },
  };
  return pino(
    {
      level: options.level,
      base: { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    stream,
  );
}

/** A logger that writes nothing (tests and embedders that bring their own logging). */
export const silentLogger: Logger = pino({ level: 'silent' });
