import { createHash } from 'node:crypto';
import { Redis, type RedisOptions } from 'ioredis';
import { describeRedisUrl, type RedisConfig } from '../config.ts';
import { SharedStateUnavailableError } from './errors.ts';

// One connection to Redis for every shared store of a replica, plus a second one for pub/sub
// (a subscribed connection can run nothing else), both opened lazily by ioredis and reconnected
// for ever with a capped backoff. Commands never queue while the connection is down
// (`enableOfflineQueue: false`) and never wait longer than the command timeout: a store that is
// gone fails fast with SharedStateUnavailableError, and the first command after Redis is back
// works again, without a process restart.

export type RedisHealth = {
  /** `ready`: commands are answered; `down`: the last connection attempt failed. */
  state: 'ready' | 'connecting' | 'down';
  /** Where Redis is, without credentials. */
  target: string;
  /** The last connection error's code (e.g. ECONNREFUSED), while not ready. */
  lastError?: string;
};

export type RedisConnection = {
  /** The command connection. Prefer `run` and `script`, which type their failures. */
  readonly client: Redis;
  /** `REDIS_KEY_PREFIX` + the parts joined by `:`. */
  key(...parts: string[]): string;
  /** Runs a command; any failure becomes SharedStateUnavailableError naming `what`. */
  run<T>(what: string, command: (client: Redis) => Promise<T>): Promise<T>;
  /**
   * Runs a Lua script by its SHA (EVALSHA), loading it on first use or after a Redis restart
   * (NOSCRIPT); failures become SharedStateUnavailableError.
   */
  script(what: string, lua: string, keys: string[], args: (string | number)[]): Promise<unknown>;
  /**
   * Calls `listener` with each message on `channel` (prefixed here). Resubscribes after a
   * reconnect; messages sent while disconnected are lost, so waiters must also poll.
   */
  subscribe(channel: string, listener: (message: string) => void): Promise<() => void>;
  publish(channel: string, message: string): Promise<void>;
  health(): RedisHealth;
  /** For `/ready`: true when Redis answers a PING within the command timeout. */
  isReady(): Promise<boolean>;
  close(): Promise<void>;
};

export type RedisConnectionOptions = {
  /** Told when the connection is lost and when it is back (never with credentials). */
  log?: (message: string) => void;
};

export function createRedisConnection(
  config: RedisConfig,
  options: RedisConnectionOptions = {},
): RedisConnection {
  const target = describeRedisUrl(config.url);
  const log = options.log ?? (() => {});
  const base: RedisOptions = {
    connectTimeout: config.connectTimeoutMs,
    commandTimeout: config.commandTimeoutMs,
    enableOfflineQueue: false,
    // A command cut off by a disconnect is not sent again: the scripts below are not all
    // idempotent, and the caller gets a typed error it may retry instead.
    maxRetriesPerRequest: 0,
    retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 6), 2_000),
    ...(config.tlsCa ? { tls: { ca: config.tlsCa } } : {}),
  };
  const client = openClient(config.url, base);

  let state: RedisHealth['state'] = 'connecting';
  let lastError: string | undefined;
  client.on('ready', () => {
    if (state === 'down') log(`Redis at ${target} is reachable again`);
    state = 'ready';
    lastError = undefined;
  });
  client.on('error', (error: Error & { code?: string }) => {
    const code = error.code ?? error.name;
    if (state !== 'down' || lastError !== code) {
      log(`Redis at ${target} is unreachable (${code}); retrying in the background`);
    }
    lastError = code;
    state = 'down';
  });
  client.on('close', () => {
    if (state === 'ready') log(`Redis at ${target} closed the connection; reconnecting`);
    state = 'down';
  });

  let subscriber: Redis | undefined;
  const listeners = new Map<string, Set<(message: string) => void>>();

  const key = (...parts: string[]) => `${config.keyPrefix}${parts.join(':')}`;

  // Before the first connection attempt ends, commands wait for it (up to the connect timeout);
  // once it has failed, or Redis has been lost, they fail at once until the connection is back.
  const firstAttempt = new Promise<void>((resolve) => {
    for (const event of ['ready', 'error', 'close']) client.once(event, () => resolve());
  });
  const untilFirstReady = async () => {
    if (state !== 'connecting') return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      firstAttempt,
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, config.connectTimeoutMs);
      }),
    ]);
    clearTimeout(timer);
  };

  const run: RedisConnection['run'] = async (what, command) => {
    try {
      await untilFirstReady();
      return await command(client);
    } catch (error) {
      throw new SharedStateUnavailableError(what, error);
    }
  };

  const shas = new Map<string, string>();
  const script: RedisConnection['script'] = (what, lua, keys, args) =>
    run(what, async (c) => {
      let sha = shas.get(lua);
      if (sha === undefined) {
        sha = createHash('sha1').update(lua).digest('hex');
        shas.set(lua, sha);
      }
      try {
        return await c.evalsha(sha, keys.length, ...keys, ...args);
      } catch (error) {
        if (!String((error as Error).message).startsWith('NOSCRIPT')) throw error;
        return await c.eval(lua, keys.length, ...keys, ...args);
      }
    });

  const getSubscriber = (): Redis => {
    if (subscriber) return subscriber;
    // Subscriptions are kept across reconnects (autoResubscribe), so this one may queue.
    const sub = openClient(config.url, {
      ...base,
      enableOfflineQueue: true,
      commandTimeout: undefined,
    });
    sub.on('error', () => {
      // Reported by the command connection; a waiter falls back to polling meanwhile.
    });
    sub.on('message', (channel: string, message: string) => {
      for (const listener of listeners.get(channel) ?? []) listener(message);
    });
    subscriber = sub;
    return sub;
  };

  return {
    client,
    key,
    run,
    script,
    async subscribe(channel, listener) {
      const full = key(channel);
      let set = listeners.get(full);
      const first = !set;
      if (!set) {
        set = new Set();
        listeners.set(full, set);
      }
      set.add(listener);
      if (first) {
        try {
          await getSubscriber().subscribe(full);
        } catch (error) {
          listeners.delete(full);
          throw new SharedStateUnavailableError('subscribe', error);
        }
      }
      return () => {
        set.delete(listener);
      };
    },
    async publish(channel, message) {
      await run('publish', (c) => c.publish(key(channel), message));
    },
    health: () => ({ state, target, ...(lastError ? { lastError } : {}) }),
    async isReady() {
      try {
        await untilFirstReady();
        return (await client.ping()) === 'PONG';
      } catch {
        return false;
      }
    },
    async close() {
      // Nothing is left to wait for at shutdown; disconnect also stops the reconnect timer. A
      // TLS handshake cut off here can still fail after ioredis stopped listening to its socket,
      // and an unheard 'error' would end the process: listen to the sockets ourselves.
      for (const c of [client, subscriber]) {
        c?.stream?.on('error', () => {});
        c?.disconnect();
      }
    },
  };
}

function openClient(url: string, options: RedisOptions): Redis {
  if (url.startsWith('unix://'))
    return new Redis({ ...options, path: url.slice('unix://'.length) });
  return new Redis(url, options);
}

export type Wakeups = {
  /** Resolves on a message naming `name`, after `ms`, or when `signal` aborts, whichever first. */
  wait(name: string, ms: number, signal?: AbortSignal): Promise<void>;
  /** Resolves once the subscription is in place (before that, waiters only time out). */
  listening(): Promise<unknown>;
};

/**
 * Waiters woken by PUBLISHes of a name on `channel` from any replica. Subscribed at once, so the
 * subscription is normally in place before anyone waits; a message lost to a reconnect only
 * costs a waiter its timeout, which is why every wait has one.
 */
export function createWakeups(redis: RedisConnection, channel: string): Wakeups {
  const waiters = new Map<string, Set<() => void>>();
  let subscribed: Promise<unknown> | undefined;
  const subscribe = () => {
    if (subscribed) return subscribed;
    subscribed = redis
      .subscribe(channel, (name) => {
        const set = waiters.get(name);
        waiters.delete(name);
        for (const wake of set ?? []) wake();
      })
      .catch(() => {
        subscribed = undefined;
      });
    return subscribed;
  };
  subscribe();
  return {
    listening: () => subscribe(),
    wait: (name, ms, signal) =>
      new Promise<void>((resolve) => {
        subscribe();
        let set = waiters.get(name);
        if (!set) {
          set = new Set();
          waiters.set(name, set);
        }
        const done = () => {
          clearTimeout(timer);
          set.delete(done);
          signal?.removeEventListener('abort', done);
          resolve();
        };
        const timer = setTimeout(done, Math.max(1, ms));
        set.add(done);
        signal?.addEventListener('abort', done, { once: true });
      }),
  };
}
