// Start-up cost of a command that starts the service: CPU seconds and resident memory of its whole
// process tree at the moment it logs that GraphQL is being served, read from /proc (Linux). The
// service is then stopped with SIGTERM.
//   node scripts/startup-cost.mjs npm start
//   node scripts/startup-cost.mjs npm run dev
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

const [command, ...args] = process.argv.slice(2);
if (!command) {
  console.error('usage: node scripts/startup-cost.mjs COMMAND [ARG ...]');
  process.exit(2);
}
const TICKS = 100; // USER_HZ on Linux
const PAGE_KB = 4;

function tree(root) {
  const parent = new Map();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      parent.set(Number(entry), { ppid: Number(fields[1]), fields });
    } catch {}
  }
  const pids = [root];
  for (let i = 0; i < pids.length; i++) {
    for (const [pid, { ppid }] of parent) if (ppid === pids[i]) pids.push(pid);
  }
  let cpu = 0;
  let rssKb = 0;
  for (const pid of pids) {
    const fields = parent.get(pid)?.fields;
    if (!fields) continue;
    // utime, stime of the process and of its waited-for children (fields 14-17 of stat).
    cpu +=
      (Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14])) / TICKS;
    rssKb += Number(fields[21]) * PAGE_KB;
  }
  return {
    processes: pids.length,
    cpuSeconds: Math.round(cpu * 100) / 100,
    rssMB: Math.round(rssKb / 1024),
  };
}

const child = spawn(command, args, {
  env: { ...process.env, PORT: '0' },
  stdio: ['ignore', 'pipe', 'pipe'],
});
let output = '';
const started = performance.now();
const onData = (chunk) => {
  output += chunk;
  if (!/GraphQL at http/.test(output)) return;
  child.stdout.off('data', onData);
  child.stderr.off('data', onData);
  const figures = tree(child.pid);
  console.log(JSON.stringify({ ...figures, wallMs: Math.round(performance.now() - started) }));
  child.kill('SIGTERM');
};
child.stdout.on('data', onData);
child.stderr.on('data', onData);
child.on('exit', (code) => process.exit(code ?? 1));
