/**
 * `npm run token -- --role customer|staff|admin --sub ID [--store ID] [--expires 8h]`
 * prints a JWT for local use (paste it into Sandbox as
 * `Authorization: Bearer <token>`). It is signed with the same JWT_SECRET
 * `npm start` gives the router: from the environment, `.env`, or the
 * generated `.data/local.env`.
 */
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { USER_ROLES, signUserToken, type UserRole } from '@rental/auth';
import { localEnv } from './secrets.js';

const USAGE = 'usage: npm run token -- --role customer|staff|admin --sub ID [--store STORE_ID] [--expires 8h]';

/** A bad command line: the message says what and how to fix it. */
class UsageError extends Error {}

/** Parses and validates the arguments. */
export function parseTokenArgs(argv: string[]): { role: UserRole; sub: string; storeId?: string; expiresIn: string } {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        role: { type: 'string' },
        sub: { type: 'string' },
        store: { type: 'string' },
        expires: { type: 'string', default: '8h' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (values.help) throw new UsageError('');
  const role = values.role?.toUpperCase();
  if (!role) throw new UsageError('--role is required');
  if (!(USER_ROLES as readonly string[]).includes(role)) {
    throw new UsageError(`--role must be one of ${USER_ROLES.map((r) => r.toLowerCase()).join(', ')} (got "${values.role}")`);
  }
  const sub = values.sub?.trim();
  if (!sub) throw new UsageError('--sub is required (the user id, e.g. --sub alice)');
  if (sub.length > 128) throw new UsageError('--sub must be at most 128 characters');
  const storeId = values.store?.trim();
  if (role === 'STAFF' && !storeId) throw new UsageError('--store is required for --role staff (staff belong to one store)');
  if (storeId !== undefined && (storeId.length === 0 || storeId.length > 128)) throw new UsageError('--store must be 1-128 characters');
  const expiresIn = values.expires;
  if (!/^\d+\s*(s|sec|secs|m|min|mins|h|hr|hrs|d|day|days|w|week|weeks)$/i.test(expiresIn)) {
    throw new UsageError(`--expires must look like 30m, 8h or 7d (got "${expiresIn}")`);
  }
  return { role: role as UserRole, sub, ...(storeId ? { storeId } : {}), expiresIn };
}

async function main(): Promise<void> {
  let args;
  try {
    args = parseTokenArgs(process.argv.slice(2));
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    if (err.message) console.error(`token: ${err.message}`);
    console.error(USAGE);
    process.exit(1);
  }
  const secret = localEnv().JWT_SECRET as string;
  const { expiresIn, ...identity } = args;
  console.log(await signUserToken(identity, { secret, expiresIn }));
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  main().catch((err: Error) => {
    console.error(`token: ${err.message}`);
    process.exit(1);
  });
}
