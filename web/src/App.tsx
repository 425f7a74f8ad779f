import { useEffect, useMemo, useState } from 'react';
import { ApolloProvider } from '@apollo/client/react';
import { createApi, type Api, type SocketState } from './apollo.ts';
import { ErrorBoundary } from './components/ErrorBoundary.tsx';
import { ToastProvider } from './components/Toasts.tsx';
import { CustomerPage } from './pages/CustomerPage.tsx';
import { SignInPage } from './pages/SignInPage.tsx';
import { StaffPage } from './pages/StaffPage.tsx';
import { clearSession, loadSession, saveSession, type Session } from './session.ts';

type View = 'customer' | 'staff';

function LiveBadge({ api }: { api: Api }) {
  const [state, setState] = useState<SocketState>(api.socketState());
  useEffect(() => api.onSocketState(setState), [api]);
  if (state === 'idle') return null;
  const text: Record<SocketState, string> = {
    idle: '',
    connecting: 'Connecting…',
    connected: 'Live',
    reconnecting: 'Reconnecting…',
    closed: 'Offline',
  };
  return (
    <span className={`badge live-${state}`} data-testid="live-badge" title="Live updates connection">
      {text[state]}
    </span>
  );
}

/**
 * The page a sign-in lands on: customers on the catalog, staff and admins on
 * the store page (an admin cannot reserve; they act for stores).
 */
function landingView(session: Session | null): View {
  return session && session.role !== 'CUSTOMER' ? 'staff' : 'customer';
}

export function App() {
  const [session, setSession] = useState<Session | null>(() => loadSession());
  const [view, setView] = useState<View>(() => landingView(session));
  const api = useMemo(() => (session ? createApi(session.token) : null), [session]);
  useEffect(() => () => api?.dispose(), [api]);

  const signIn = (s: Session) => {
    saveSession(s);
    setView(landingView(s));
    setSession(s);
  };
  const signOut = () => {
    clearSession();
    setSession(null);
  };

  if (!session || !api) {
    return (
      <ToastProvider>
        <header className="topbar">
          <h1 className="brand">Rental</h1>
        </header>
        <main id="main">
          <SignInPage onSignedIn={signIn} />
        </main>
      </ToastProvider>
    );
  }

  const views: View[] = session.role === 'ADMIN' ? ['customer', 'staff'] : [session.role === 'STAFF' ? 'staff' : 'customer'];
  return (
    <ApolloProvider client={api.client}>
      <ToastProvider>
        <a className="skip-link" href="#main">
          Skip to content
        </a>
        <header className="topbar">
          <h1 className="brand">Rental</h1>
          {views.length > 1 && (
            <nav aria-label="Views">
              {views.map((v) => (
                <button key={v} type="button" className={v === view ? 'tab active' : 'tab'} aria-pressed={v === view} onClick={() => setView(v)}>
                  {v === 'customer' ? 'Customer' : 'Store'}
                </button>
              ))}
            </nav>
          )}
          <div className="who">
            <LiveBadge api={api} />
            <span data-testid="signed-in-as">
              {session.sub} · {session.role.toLowerCase()}
              {session.storeId ? ` · store ${session.storeId}` : ''}
            </span>
            <button type="button" className="secondary" onClick={signOut}>
              Sign out
            </button>
          </div>
        </header>
        <main id="main">
          <ErrorBoundary what={view === 'staff' ? 'the store page' : 'the customer page'} key={view}>
            {view === 'staff' ? <StaffPage session={session} /> : <CustomerPage session={session} api={api} />}
          </ErrorBoundary>
        </main>
      </ToastProvider>
    </ApolloProvider>
  );
}
