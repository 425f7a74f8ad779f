/**
 * `npx tsx bench/src/profile.ts <dir> [top] [skip seconds]`: summarizes the
 * `.cpuprofile` files `node --cpu-prof` wrote (see STACK_NODE_ARGS in
 * bench/README.md): per process, which service it was (its entry file), its
 * sampled time, the share of each package (`node_modules/<pkg>`, our
 * workspaces, Node internals, GC) and the functions with the most self time.
 * Samples from the first `skip` seconds (start-up: loading and compiling
 * modules) are left out.
 */
import fs from 'node:fs';
import path from 'node:path';

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}
interface Profile {
  nodes: Node[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** Where a frame's code lives: a package, one of our folders, Node itself, or the VM. */
function owner(url: string, fn: string): string {
  if (!url) return fn === '(garbage collector)' ? '(gc)' : fn === '(idle)' || fn === '(program)' ? fn : '(native)';
  if (url.startsWith('node:internal/')) return 'node:internal/' + url.slice('node:internal/'.length).split('/')[0];
  if (url.startsWith('node:')) return 'node:' + url.slice(5).split('/')[0];
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + 'node_modules/'.length).split('/');
    return rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]!;
  }
  const m = /\/(packages|subgraphs|router|bench|infra|test)\/([^/]+)/.exec(url);
  return m ? `${m[1]}/${m[2]}` : url;
}

function summarize(file: string, top: number, skipSec: number): string {
  const p = JSON.parse(fs.readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  let t = 0;
  p.samples.forEach((id, i) => {
    t += p.timeDeltas[i] ?? 0;
    if (t >= skipSec * 1e6) self.set(id, (self.get(id) ?? 0) + (p.timeDeltas[i] ?? 0));
  });
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  const entry = p.nodes.map((n) => n.callFrame.url).find((u) => /(main|worker|worker-main)\.ts$/.test(u)) ?? '?';
  const byOwner = new Map<string, number>();
  const byFn = new Map<string, number>();
  for (const [id, us] of self) {
    const n = byId.get(id)!;
    const o = owner(n.callFrame.url, n.callFrame.functionName);
    byOwner.set(o, (byOwner.get(o) ?? 0) + us);
    const key = `${n.callFrame.functionName || '(anonymous)'} ${n.callFrame.url ? `${path.basename(n.callFrame.url)}:${n.callFrame.lineNumber + 1}` : ''} [${o}]`;
    byFn.set(key, (byFn.get(key) ?? 0) + us);
  }
  const idle = byOwner.get('(idle)') ?? 0;
  const busy = total - idle;
  const pct = (us: number) => `${((100 * us) / busy).toFixed(1)}%`;
  const lines = [`${path.basename(file)}  entry ${entry.replace(/^.*?\/(subgraphs|router|bench)\//, '$1/')}  busy ${(busy / 1e6).toFixed(2)} s of ${((p.endTime - p.startTime) / 1e6).toFixed(1)} s`];
  lines.push('  by owner: ' + [...byOwner].filter(([o]) => o !== '(idle)').sort((a, b) => b[1] - a[1]).slice(0, 14).map(([o, us]) => `${o} ${pct(us)}`).join(', '));
  lines.push(...[...byFn].filter(([k]) => !k.startsWith('(idle)')).sort((a, b) => b[1] - a[1]).slice(0, top).map(([k, us]) => `    ${pct(us).padStart(6)}  ${k}`));
  return lines.join('\n');
}

const [dir, topArg, skipArg] = process.argv.slice(2);
if (!dir) {
  console.error('usage: tsx bench/src/profile.ts <dir with .cpuprofile files> [top]');
  process.exit(2);
}
const files = fs.readdirSync(dir).filter((f) => f.endsWith('.cpuprofile')).map((f) => path.join(dir, f));
for (const f of files.filter((f) => fs.statSync(f).size > 700_000)) console.log(summarize(f, Number(topArg ?? 15), Number(skipArg ?? 0)) + '\n');
