import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { keyFileEntry } from '../src/caller-auth.ts';
import { SCOPES, type Scope } from '../src/config.ts';

// `npm run new-key -- --name portal --scopes directory:read`: prints a new random key (give it to
// the caller, once) and the API_KEYS_FILE line that names it (keep that; it holds only the key's
// SHA-256 digest). Then send the service SIGHUP to load the file again.

const { values } = parseArgs({
  options: { name: { type: 'string' }, scopes: { type: 'string' } },
});
const name = values.name ?? '';
const scopes = (values.scopes ?? '').split(',').filter((s) => s !== '');
const unknown = scopes.filter((s) => !(SCOPES as readonly string[]).includes(s));
if (!/^\S+$/.test(name) || scopes.length === 0 || unknown.length > 0) {
  console.error(
    `usage: npm run new-key -- --name <name without spaces> --scopes <${SCOPES.join('|')}>[,…]${unknown.length > 0 ? `\nunknown scope: ${unknown.join(', ')}` : ''}`,
  );
  process.exit(2);
}
// 32 random bytes, base64url: 43 characters, 256 bits.
const key = randomBytes(32).toString('base64url');
console.log(`key (give it to the caller; it is not stored anywhere): ${key}`);
console.log(`API_KEYS_FILE line: ${keyFileEntry(name, scopes as Scope[], key)}`);
