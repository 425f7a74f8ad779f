/**
 * Bundles a deployable's entry points for its container image.
 *
 * Run from a deployable's folder (`npm run build` there, or `turbo run build`
 * at the root): `tsx ../../infra/build/bundle.ts [entry …]`. Without
 * arguments it bundles the entries the folder has, by convention (every
 * deployable folder names its process entries the same way):
 *
 *   src/main.ts         → dist/main.js         (the API process)
 *   src/worker-main.ts  → dist/worker-main.js  (the event worker, when present)
 *
 * Workspace code (`@rental/*`, which exports TypeScript source) is bundled in;
 * every npm package stays external and is installed in the image by
 * `npm ci --omit=dev --workspace=<deployable>`. So the build fails when the
 * bundle imports a package that is not in the deployable's production
 * dependency closure (its `dependencies`, and those of the `@rental/*`
 * packages it depends on): the image would not have it.
 *
 * Output: ESM for Node 20 with source maps (run with `--enable-source-maps`)
 * and a `require` made by `createRequire` for the odd CommonJS-only call.
 */
import fs from 'node:fs';
import path from 'node:path';
import { builtinModules } from 'node:module';
import { fileURLToPath } from 'node:url';
import { build, type Plugin } from 'esbuild';

const WORKSPACE_SCOPE = '@rental/';

interface PackageJson {
  name: string;
  dependencies?: Record<string, string>;
}

/** An entry to bundle: source file (relative to the package) and output name. */
export interface Entry {
  in: string;
  out: string;
}

function readJson(file: string): PackageJson {
  return JSON.parse(fs.readFileSync(file, 'utf8')) as PackageJson;
}

/** The repository root: the nearest folder above `from` whose package.json has workspaces. */
export function findRepoRoot(from: string): string {
  let dir = path.resolve(from);
  for (;;) {
    const pkg = path.join(dir, 'package.json');
    if (fs.existsSync(pkg) && 'workspaces' in (JSON.parse(fs.readFileSync(pkg, 'utf8')) as object)) return dir;
    const up = path.dirname(dir);
    if (up === dir) throw new Error(`no workspace root above ${from}`);
    dir = up;
  }
}

/** The package name of a bare import: `a/b` → `a`, `@s/a/b` → `@s/a`. */
export function packageName(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : (parts[0] as string);
}

/**
 * Production dependency closure of a workspace package: the npm packages it
 * may import at run time (`npm`) and the workspace packages bundled into it
 * (`workspace`), following `dependencies` (never devDependencies) through
 * `@rental/*` packages.
 */
export function dependencyClosure(pkgDir: string, root: string): { npm: Set<string>; workspace: Set<string> } {
  const workspaceDirs = new Map<string, string>();
  const scope = path.join(root, 'node_modules', WORKSPACE_SCOPE);
  for (const name of fs.existsSync(scope) ? fs.readdirSync(scope) : []) {
    workspaceDirs.set(WORKSPACE_SCOPE + name, fs.realpathSync(path.join(scope, name)));
  }
  const npm = new Set<string>();
  const workspace = new Set<string>();
  const visit = (dir: string): void => {
    const pkg = readJson(path.join(dir, 'package.json'));
    for (const dep of Object.keys(pkg.dependencies ?? {})) {
      if (!dep.startsWith(WORKSPACE_SCOPE)) {
        npm.add(dep);
      } else if (!workspace.has(dep)) {
        workspace.add(dep);
        const depDir = workspaceDirs.get(dep);
        if (!depDir) throw new Error(`${pkg.name} depends on ${dep}, which is not a workspace package`);
        visit(depDir);
      }
    }
  };
  visit(pkgDir);
  return { npm, workspace };
}

/**
 * The process entries of a deployable folder, by name: `src/<name>.ts` is
 * bundled to `dist/<name>.js`. Nothing else is an entry (`src/worker.ts` is
 * the worker's factory, which `src/worker-main.ts` runs).
 */
export const ENTRY_NAMES = ['main', 'worker-main'] as const;

/** The entries a deployable folder has (see the header): those of {@link ENTRY_NAMES} that exist. */
export function defaultEntries(pkgDir: string): Entry[] {
  return ENTRY_NAMES.filter((name) => fs.existsSync(path.join(pkgDir, 'src', `${name}.ts`))).map((name) => ({ in: `src/${name}.ts`, out: name }));
}

/**
 * esbuild plugin: bundle `@rental/*`, keep npm packages external, and fail on
 * a run-time import the image would not have installed.
 */
export function externalsPlugin(pkgName: string, closure: { npm: Set<string>; workspace: Set<string> }): Plugin {
  const builtins = new Set(builtinModules);
  return {
    name: 'rental-externals',
    setup(b) {
      b.onResolve({ filter: /^[^./]/ }, (args) => {
        if (args.path.startsWith('node:') || builtins.has(args.path) || builtins.has(packageName(args.path))) {
          return { path: args.path, external: true };
        }
        const name = packageName(args.path);
        if (name.startsWith(WORKSPACE_SCOPE)) {
          if (name !== pkgName && !closure.workspace.has(name)) {
            return { errors: [{ text: `${name} is imported at run time but is not in the dependencies of ${pkgName} (only devDependencies?)` }] };
          }
          return undefined; // resolve through node_modules → the package's TypeScript source
        }
        if (!closure.npm.has(name)) {
          return {
            errors: [{ text: `${name} is imported at run time but is not in the production dependencies of ${pkgName} or its @rental/* packages; the image would not install it` }],
          };
        }
        return { path: args.path, external: true };
      });
    },
  };
}

/**
 * Bundles `entries` of the package in `pkgDir` into `outdir` (default
 * `pkgDir/dist`). The npm packages stay external, so `outdir` must be where
 * Node finds the repository's node_modules (inside the repository).
 */
export async function bundle(pkgDir: string, entries: Entry[] = defaultEntries(pkgDir), outdir = path.join(pkgDir, 'dist')): Promise<string[]> {
  const root = findRepoRoot(pkgDir);
  const pkg = readJson(path.join(pkgDir, 'package.json'));
  if (entries.length === 0) throw new Error(`${pkg.name}: no entry to bundle (src/main.ts, src/worker-main.ts)`);
  const closure = dependencyClosure(pkgDir, root);
  fs.rmSync(outdir, { recursive: true, force: true });
  await build({
    absWorkingDir: pkgDir,
    entryPoints: entries,
    outdir,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    sourcemap: true,
    // Keep function and class names: they show in logs and stack traces.
    keepNames: true,
    logLevel: 'warning',
    banner: {
      js: "import { createRequire as __rentalCreateRequire } from 'node:module';\nconst require = __rentalCreateRequire(import.meta.url);",
    },
    plugins: [externalsPlugin(pkg.name, closure)],
  });
  return entries.map((e) => path.join(outdir, `${e.out}.js`));
}

/** `src/x.ts` → `{ in: 'src/x.ts', out: 'x' }`; `name=src/x.ts` names the output. */
function parseEntryArg(arg: string): Entry {
  const eq = arg.indexOf('=');
  if (eq > 0) return { out: arg.slice(0, eq), in: arg.slice(eq + 1) };
  return { in: arg, out: path.basename(arg).replace(/\.[cm]?tsx?$/, '') };
}

const invoked = process.argv[1] ? path.resolve(process.argv[1]) : '';
if (invoked === fileURLToPath(import.meta.url)) {
  const pkgDir = process.cwd();
  const args = process.argv.slice(2);
  try {
    const files = await bundle(pkgDir, args.length > 0 ? args.map(parseEntryArg) : undefined);
    for (const f of files) process.stdout.write(`bundled ${path.relative(process.cwd(), f)}\n`);
  } catch (err) {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  }
}
