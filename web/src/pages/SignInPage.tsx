/**
 * LOCAL-ONLY sign-in. There is no identity provider yet: a token comes either
 * from `npm run token -- --role … --sub …` (pasted here) or, where the web
 * server mints local tokens (`npm start`, the Vite dev server with
 * LOCAL_SIGN_IN=true, the browser tests), from its `/local-token` endpoint:
 * one click as a demo identity, or "Sign in as…" anyone. The page offers
 * minting only when `GET /local-token` answers JSON `{ "enabled": true }`;
 * with NODE_ENV=production it answers 404, so the buttons are not shown.
 */
import { useEffect, useState, type FormEvent } from 'react';
import { Field } from '../components/Field.tsx';
import { sessionFromToken, type Role, type Session } from '../session.ts';

interface Props {
  onSignedIn: (session: Session) => void;
}

type Errors = Partial<Record<'role' | 'sub' | 'storeId' | 'token' | 'form' | 'oneClick', string>>;

/** Who a local token is minted for (the body of `POST /local-token`). */
interface LocalIdentity {
  role: Role;
  sub: string;
  storeId?: string;
}

/**
 * The one-click identities: each is useful at once on the demo data `npm start`
 * seeds (infra/local/seed.ts: stores S1 "Downtown" and S2 "Airport", with items).
 */
const ONE_CLICK: ReadonlyArray<{ label: string; who: LocalIdentity }> = [
  { label: 'demo customer', who: { role: 'CUSTOMER', sub: 'demo-customer' } },
  { label: 'staff of S1', who: { role: 'STAFF', sub: 'staff-s1', storeId: 'S1' } },
  { label: 'admin', who: { role: 'ADMIN', sub: 'admin' } },
];

export function SignInPage({ onSignedIn }: Props) {
  const [canMint, setCanMint] = useState<boolean | null>(null);
  const [role, setRole] = useState<Role>('CUSTOMER');
  const [sub, setSub] = useState('');
  const [storeId, setStoreId] = useState('');
  const [token, setToken] = useState('');
  const [errors, setErrors] = useState<Errors>({});
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    let live = true;
    fetch('/local-token', { headers: { accept: 'application/json' } })
      // Only the real endpoint answers JSON `{ enabled: true }` (a static server may answer any path with the app).
      .then(async (r) => {
        const body = r.ok && (r.headers.get('content-type') ?? '').includes('application/json') ? ((await r.json()) as { enabled?: boolean }) : {};
        if (live) setCanMint(body.enabled === true);
      })
      .catch(() => live && setCanMint(false));
    return () => {
      live = false;
    };
  }, []);

  /** Asks the web server for a token for `who` and signs in; a refusal lands under `field` (or the field the server names). */
  async function signInAs(who: LocalIdentity, field: 'form' | 'oneClick') {
    setBusy(true);
    try {
      const res = await fetch('/local-token', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(who),
      });
      const body = (await res.json().catch(() => ({}))) as { token?: string; error?: string; field?: keyof Errors };
      if (!res.ok || !body.token) {
        setErrors({ [field === 'form' ? (body.field ?? 'form') : field]: body.error ?? `The local sign-in answered ${res.status}.` });
        return;
      }
      onSignedIn(sessionFromToken(body.token));
    } catch {
      setErrors({ [field]: 'The local sign-in endpoint cannot be reached. Paste a token instead.' });
    } finally {
      setBusy(false);
    }
  }

  async function mint(e: FormEvent) {
    e.preventDefault();
    const errs: Errors = {};
    if (!sub.trim()) errs.sub = 'Enter a user id, for example carol.';
    if (role === 'STAFF' && !storeId.trim()) errs.storeId = 'Staff belong to one store: enter its id.';
    setErrors(errs);
    if (Object.keys(errs).length) return;
    await signInAs({ role, sub: sub.trim(), ...(role === 'STAFF' ? { storeId: storeId.trim() } : {}) }, 'form');
  }

  function usePasted(e: FormEvent) {
    e.preventDefault();
    try {
      onSignedIn(sessionFromToken(token));
    } catch (err) {
      setErrors({ token: (err as Error).message });
    }
  }

  return (
    <div className="signin">
      <div className="panel notice" role="note">
        <strong>Local development sign-in.</strong> This page is for running the system on your own machine. There is no
        password: anyone who can reach a server with local sign-in turned on can act as anyone. A production server
        (NODE_ENV=production) never offers it.
      </div>

      {canMint && (
        <section className="panel" aria-labelledby="one-click-title">
          <h2 id="one-click-title">Sign in with one click</h2>
          <p>
            As someone the demo data knows: the <strong>demo customer</strong> lands on the catalog and can reserve at once;{' '}
            <strong>staff of S1</strong> on the order queue of store S1 (Downtown); <strong>admin</strong> on the store page,
            for any store.
          </p>
          <div className="one-click">
            {ONE_CLICK.map(({ label, who }) => (
              <button key={label} type="button" disabled={busy} onClick={() => void signInAs(who, 'oneClick')}>
                {label}
              </button>
            ))}
          </div>
          {errors.oneClick && (
            <p className="form-error" role="alert">
              {errors.oneClick}
            </p>
          )}
        </section>
      )}

      {canMint && (
        <form className="panel" onSubmit={(e) => void mint(e)} noValidate aria-labelledby="mint-title">
          <h2 id="mint-title">Or sign in as…</h2>
          <Field label="Role" error={errors.role}>
            <select value={role} onChange={(e) => setRole(e.target.value as Role)}>
              <option value="CUSTOMER">Customer</option>
              <option value="STAFF">Store staff</option>
              <option value="ADMIN">Admin</option>
            </select>
          </Field>
          <Field label="User id" error={errors.sub} hint="Any name; it identifies you, e.g. carol.">
            <input value={sub} onChange={(e) => setSub(e.target.value)} autoComplete="username" />
          </Field>
          {role === 'STAFF' && (
            <Field label="Store id" error={errors.storeId} hint="The store you work at, e.g. S1.">
              <input value={storeId} onChange={(e) => setStoreId(e.target.value)} />
            </Field>
          )}
          {errors.form && (
            <p className="form-error" role="alert">
              {errors.form}
            </p>
          )}
          <button type="submit" disabled={busy}>
            {busy ? 'Signing in…' : 'Sign in'}
          </button>
        </form>
      )}

      <form className="panel" onSubmit={usePasted} noValidate aria-labelledby="paste-title">
        <h2 id="paste-title">{canMint ? 'Or paste a token' : 'Sign in with a token'}</h2>
        <p>
          Print one with <code>npm run token -- --role customer --sub carol</code> (or{' '}
          <code>--role staff --store S1 --sub bob</code>) and paste it here. It is kept in this tab only.
        </p>
        <Field label="Token" error={errors.token}>
          <textarea value={token} onChange={(e) => setToken(e.target.value)} rows={3} spellCheck={false} />
        </Field>
        <button type="submit">Use this token</button>
      </form>
    </div>
  );
}
