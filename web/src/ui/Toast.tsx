// Short confirmations ("Saved") announced to screen readers through one
// polite live region; errors use an assertive one.
import { createContext, type ReactNode, useCallback, useContext, useMemo, useRef, useState } from 'react';
import { useT } from '../app/i18n.tsx';
import { Icon } from './Icon.tsx';

type Kind = 'success' | 'error' | 'info';
interface ToastItem { id: number; kind: Kind; text: string }
interface ToastApi { show(text: string, kind?: Kind): void }

const ToastContext = createContext<ToastApi | undefined>(undefined);

export function ToastProvider({ children }: { children: ReactNode }) {
  const t = useT();
  const [items, setItems] = useState<ToastItem[]>([]);
  const next = useRef(1);
  const dismiss = useCallback((id: number) => setItems((all) => all.filter((i) => i.id !== id)), []);
  const show = useCallback((text: string, kind: Kind = 'success') => {
    const id = next.current++;
    setItems((all) => [...all.slice(-3), { id, kind, text }]);
    setTimeout(() => dismiss(id), kind === 'error' ? 10_000 : 5_000);
  }, [dismiss]);
  const api = useMemo(() => ({ show }), [show]);
  const render = (kind: 'polite' | 'assertive') => items.filter((i) => (i.kind === 'error') === (kind === 'assertive')).map((i) => (
    <div key={i.id} className={`toast toast-${i.kind}`}>
      <Icon name={i.kind === 'error' ? 'error' : i.kind === 'info' ? 'info' : 'check'} />
      <span>{i.text}</span>
      <button type="button" className="icon-button" onClick={() => dismiss(i.id)} aria-label={t('shell.ui.dismiss')}><Icon name="close" size={16} /></button>
    </div>
  ));
  return (
    <ToastContext.Provider value={api}>
      {children}
      <div className="toasts">
        <div aria-live="polite" role="status">{render('polite')}</div>
        <div aria-live="assertive" role="alert">{render('assertive')}</div>
      </div>
    </ToastContext.Provider>
  );
}

export function useToast(): ToastApi {
  const value = useContext(ToastContext);
  if (!value) throw new Error('useToast() outside <ToastProvider>');
  return value;
}
