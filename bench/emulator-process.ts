import { createEmulator } from '../src/emulator/index.ts';
import { growUsers } from '../src/emulator/seed.ts';

// The emulator in its own process for `npm run bench`: two nodes with the same demo data grown to
// BENCH_USERS users (default: the 520-user demo), one whose Groups carry members and one whose
// Groups omit them. Prints one JSON line with their base URLs and the token, then serves until
// stdin closes (the parent ended).

const users = Number(process.env.BENCH_USERS ?? 0);
const latencyMs = Number(process.env.BENCH_LATENCY_MS ?? 0);
const nodes = await Promise.all(
  (['include', 'omit'] as const).map(async (groupMembers) => {
    const emulator = await createEmulator({ seed: 'demo', groupMembers, latencyMs });
    if (users > emulator.store.userCount) growUsers(emulator.store, users);
    return emulator;
  }),
);
const [include, omit] = nodes;
// The request log would grow without bound under load.
setInterval(() => {
  for (const node of nodes) node.log.clear();
}, 1000).unref();
process.stdout.write(
  `${JSON.stringify({ include: include?.baseUrl, omit: omit?.baseUrl, token: include?.token, users: include?.store.userCount })}\n`,
);
process.stdin.resume();
process.stdin.on('end', () => process.exit(0));
