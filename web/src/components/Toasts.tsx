import { createContext, useCallback, useContext, useMemo, useRef, useState, type ReactNode } from 'react';

interface Toast {
  id: number;
  text: string;
  tone: 'info' | 'success' | 'error';
}

interface ToastApi {
  notify: (text: string, tone?: Toast['tone']) => void;
}

const ToastContext = createContext<ToastApi>({ notify: () => undefined });

export function useToasts(): ToastApi {
  return useContext(ToastContext);
}

/** Short messages in a polite live region: screen readers read them without moving focus. */
export function ToastProvider({ children }: { children: ReactNode }) {
  const [toasts, setToasts] = useState<Toast[]>([]);
  const next = useRef(1);
  const dismiss = useCallback((id: number) => setToasts((ts) => ts.filter((t) => t.id !== id)), []);
  const notify = useCallback(
    (text: string, tone: Toast['tone'] = 'info') => {
      const id = next.current++;
      setToasts((ts) => [...ts.slice(-4), { id, text, tone }]);
      setTimeout(() => dismiss(id), 8000);
    },
    [dismiss],
  );
  const api = useMemo(() => ({ notify }), [notify]);
  return (
    <ToastContext.Provider value={api}>
      {children}
      <div className="toasts" role="status" aria-live="polite" aria-label="Notifications">
        {toasts.map((t) => (
          <div key={t.id} className={`toast toast-${t.tone}`} data-testid="toast">
            <span>{t.text}</span>
            <button type="button" className="link" aria-label="Dismiss notification" onClick={() => dismiss(t.id)}>
              ×
            </button>
          </div>
        ))}
      </div>
    </ToastContext.Provider>
  );
}
