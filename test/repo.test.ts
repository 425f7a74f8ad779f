/**
 * The repository is self-contained: no tracked file refers to something
 * outside it. A clone has only what git tracks, so a doc, comment or script
 * that points at the `shared` folder beside the repository (where the design
 * brief once lived; its content is docs/ARCHITECTURE.md now) or at a sibling
 * folder on one machine points at nothing.
 *
 * This file spells those names in pieces (UP, BRIEF) so that it does not
 * match itself.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** Tracked text files (a NUL byte marks a binary one), with their lines. */
function trackedTextFiles(): Array<{ file: string; lines: string[] }> {
  const files = execFileSync('git', ['ls-files', '-z'], { cwd: REPO, encoding: 'utf8' }).split('\0').filter(Boolean);
  const out: Array<{ file: string; lines: string[] }> = [];
  for (const file of files) {
    let bytes: Buffer;
    try {
      bytes = readFileSync(join(REPO, file));
    } catch {
      continue; // deleted in the work tree, not yet committed
    }
    if (bytes.includes(0)) continue;
    out.push({ file, lines: bytes.toString('utf8').split('\n') });
  }
  return out;
}

/** `../` once or more, then a name: a relative path that climbs. */
const CLIMBING_PATH = /(?<![\w./-])((?:\.\.\/)+)([\w@][\w.@-]*(?:\/[\w.@-]+)*)/g;

const UP = '..' + '/';
const BRIEF = 'DESIGN' + '.md';

/** Names of the outside places the repository once depended on. */
const OUTSIDE_NAMES: Array<[RegExp, string]> = [
  [/\.{2}\/shared\b/, `${UP}shared`],
  [/\bshared\/DESIGN\b/, 'shared' + '/DESIGN'],
  // The design brief by name: its content is docs/ARCHITECTURE.md.
  [/\bDESIGN\.md\b/, BRIEF],
];

interface Finding {
  at: string;
  what: string;
}

/** Every reference to something outside the repository in `files`. */
function outsideReferences(files: Array<{ file: string; lines: string[] }>, repo: string): Finding[] {
  const tracked = new Set(files.map((f) => f.file));
  // A path written for another folder (a code generator's output paths, say)
  // names something tracked once its `../` are taken off; `.js` imports name `.ts` files.
  const trackedTails = new Set<string>();
  for (const f of tracked) {
    const parts = f.split('/');
    for (let i = 0; i < parts.length; i += 1) {
      const tail = parts.slice(i).join('/');
      trackedTails.add(tail);
      trackedTails.add(tail.replace(/\.tsx?$/, '.js'));
      for (let j = i + 1; j < parts.length; j += 1) trackedTails.add(parts.slice(i, j).join('/'));
    }
  }
  // This clone's own absolute path: written into a file, it points at nothing in
  // another clone. (Not the folder the clone sits in: a clone may well live in
  // /tmp, and /tmp/… in a doc's example command is no reference to this machine.)
  const clonePath = `${repo}/`;
  const findings: Finding[] = [];
  for (const { file, lines } of files) {
    lines.forEach((line, i) => {
      const at = `${file}:${i + 1}`;
      for (const [pattern, what] of OUTSIDE_NAMES) if (pattern.test(line)) findings.push({ at, what });
      for (const m of line.matchAll(CLIMBING_PATH)) {
        const rel = relative(repo, resolve(repo, dirname(file), `${m[1]}${m[2]}`));
        const escapes = rel.startsWith('..') || isAbsolute(rel);
        if (escapes && !trackedTails.has(m[2]!)) findings.push({ at, what: m[0] });
      }
      if (line.includes(clonePath)) findings.push({ at, what: clonePath });
    });
  }
  return findings;
}

describe('the repository refers to nothing outside it', () => {
  it('no tracked text file names the shared folder, the old brief or a path that leaves the repository', () => {
    const findings = outsideReferences(trackedTextFiles(), REPO);
    expect(findings.map((f) => `${f.at}: ${f.what}`)).toEqual([]);
  });

  it('the check finds such references (a fake tree)', () => {
    const repo = '/srv/checkout/repo';
    const files = [
      { file: 'README.md', lines: [`The contract is \`${UP}shared/${BRIEF}\`.`] },
      { file: 'docs/a.md', lines: [`See ${UP}${UP}notes/plan.txt and ${UP}README.md.`] },
      { file: 'src/x.ts', lines: [`import { y } from '${UP}${UP}${UP}elsewhere/y.js';`, "import { z } from './z.js';"] },
      { file: 'src/z.ts', lines: ["const p = '/srv/checkout/other/file /tmp/prof';", "const q = '/srv/checkout/repo/src/z.ts';"] },
      // Written for another folder: `z.js` names the tracked src/z.ts.
      { file: 'tool.ts', lines: [`output: '${UP}z.js'`] },
    ];
    const found = outsideReferences(files, repo).map((f) => `${f.at}: ${f.what}`);
    expect(found).toEqual([
      `README.md:1: ${UP}shared`,
      `README.md:1: shared/${'DESIGN'}`,
      `README.md:1: ${BRIEF}`,
      `README.md:1: ${UP}shared/${BRIEF}`,
      `docs/a.md:1: ${UP}${UP}notes/plan.txt`,
      `src/x.ts:1: ${UP}${UP}${UP}elsewhere/y.js`,
      'src/z.ts:2: /srv/checkout/repo/',
    ]);
  });
});
