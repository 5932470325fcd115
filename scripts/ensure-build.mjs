// `npm start` runs this before `node dist/main.js`: it compiles src/ to dist/ when dist/ is
// missing or older than any source, so `npm install && npm start` works on a fresh clone and after
// a `git pull`. Plain JavaScript, so that it runs without TypeScript tooling when dist/ is current
// (a production install has no compiler and needs none).
import { spawnSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
const stamp = join(dist, '.build-stamp');

/** Newest modification time (ms) of a file, or of any file below a directory. */
function newest(path) {
  const stat = statSync(path, { throwIfNoEntry: false });
  if (!stat) return 0;
  if (!stat.isDirectory()) return stat.mtimeMs;
  let max = stat.mtimeMs;
  for (const entry of readdirSync(path)) max = Math.max(max, newest(join(path, entry)));
  return max;
}

/** Copies every .graphql file below `from` to the same relative place below `to`. */
function copyAssets(from, to) {
  for (const entry of readdirSync(from, { withFileTypes: true })) {
    const source = join(from, entry.name);
    if (entry.isDirectory()) copyAssets(source, join(to, entry.name));
    else if (entry.name.endsWith('.graphql')) {
      mkdirSync(to, { recursive: true });
      copyFileSync(source, join(to, entry.name));
    }
  }
}

const inputs = ['src', 'tsconfig.json', 'tsconfig.build.json', 'package.json'].map((p) =>
  join(root, p),
);
const built = statSync(stamp, { throwIfNoEntry: false })?.mtimeMs ?? 0;
if (!process.argv.includes('--force') && built > 0 && inputs.every((p) => newest(p) <= built))
  process.exit(0);

const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
if (!existsSync(tsc)) {
  console.error(
    'dist/ is missing or older than src/, and TypeScript is not installed to build it: run `npm install` (it installs the dev dependencies) or `npm run build`.',
  );
  process.exit(1);
}
console.error(
  `[keeper-scim-graphql] ${built > 0 ? 'src/ changed' : 'no build yet'}: compiling to dist/`,
);
// Build beside dist/ and swap it in, so that a second start at the same moment never runs a
// half-written tree, and files deleted from src/ do not survive in dist/.
const temp = `${dist}.tmp-${process.pid}`;
const result = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json', '--outDir', temp], {
  cwd: root,
  stdio: 'inherit',
});
if (result.status !== 0) {
  rmSync(temp, { recursive: true, force: true });
  process.exit(result.status ?? 1);
}
// tsc emits only JavaScript: the files modules read beside themselves (src/graphiql.graphql, the
// GraphiQL examples) are copied to the same place in dist/.
copyAssets(join(root, 'src'), temp);
writeFileSync(join(temp, '.build-stamp'), `${new Date().toISOString()}\n`);
rmSync(dist, { recursive: true, force: true });
renameSync(temp, dist);
