/**
 * The real kustomize, for the manifest test: found on this machine (never
 * skipped) and run on a kustomization folder, its output parsed into objects.
 *
 * Looked for, in this order: the version .ci/run pins, where .ci/run installs
 * it (`.data/kustomize/<version>/kustomize`); `kustomize` on PATH; `kubectl`
 * on PATH (`kubectl kustomize`, built in since kubectl 1.14).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';

/** One object of kustomize's output. */
export type K8sObject = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [key: string]: unknown;
};

/** A kustomize to run: the command, the arguments before the folder, and what it is (for messages). */
export interface Kustomize {
  command: string;
  args: string[];
  version: string;
}

/** The kustomize version .ci/run pins (its `KUSTOMIZE_VERSION=` line). */
export function pinnedKustomizeVersion(root: string): string {
  const m = /^KUSTOMIZE_VERSION=(v\d+\.\d+\.\d+)$/m.exec(fs.readFileSync(path.join(root, '.ci', 'run'), 'utf8'));
  if (!m) throw new Error('.ci/run has no KUSTOMIZE_VERSION=vX.Y.Z line');
  return m[1]!;
}

function run(command: string, args: string[]): string | undefined {
  const r = spawnSync(command, args, { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

/** Finds a kustomize (see the header); throws, saying how to install one, when there is none. */
export function findKustomize(root: string): Kustomize {
  const pinned = pinnedKustomizeVersion(root);
  const installed = path.join(root, '.data', 'kustomize', pinned, 'kustomize');
  for (const command of [installed, 'kustomize']) {
    const version = run(command, ['version']);
    if (version !== undefined) return { command, args: ['build'], version: `kustomize ${version}` };
  }
  if (run('kubectl', ['kustomize', '--help']) !== undefined) {
    const version = /Kustomize Version: (\S+)/.exec(run('kubectl', ['version', '--client']) ?? '')?.[1] ?? 'unknown';
    return { command: 'kubectl', args: ['kustomize'], version: `kubectl kustomize ${version}` };
  }
  throw new Error(
    `no kustomize: install kubectl (it has kustomize built in) or kustomize, or run \`bash .ci/run\`, which builds the pinned one: ` +
      `GOBIN="$PWD/.data/kustomize/${pinned}" go install sigs.k8s.io/kustomize/kustomize/v5@${pinned}`,
  );
}

/**
 * `kustomize build dir`, parsed: every object of its output. A Secret's data
 * is read as the API server reads it: kustomize wraps long base64 values at
 * 76 columns, and Go's base64 decoder ignores the line breaks (the schema's
 * "byte" format does not).
 */
export function kustomizeBuild(kustomize: Kustomize, dir: string): K8sObject[] {
  const out = execFileSync(kustomize.command, [...kustomize.args, dir], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  return parseAllDocuments(out).map((d) => {
    if (d.errors.length > 0) throw new Error(`kustomize output: ${d.errors.map((e) => e.message).join('; ')}`);
    const o = d.toJS() as K8sObject;
    if (o.kind === 'Secret' && o.data && typeof o.data === 'object') {
      o.data = Object.fromEntries(Object.entries(o.data as Record<string, string>).map(([k, v]) => [k, v.replace(/[\r\n]/g, '')]));
    }
    return o;
  });
}
