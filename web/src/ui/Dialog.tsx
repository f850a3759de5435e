// A modal dialog on the native <dialog> element: showModal() gives the focus
// trap, inertness of the page behind and Esc; focus returns to the opener.
import { type ReactNode, useEffect, useId, useRef } from 'react';
import { useT } from '../app/i18n.tsx';
import { Icon } from './Icon.tsx';

export interface DialogProps {
  open: boolean;
  title: string;
  onClose: () => void;
  children: ReactNode;
  /** Buttons at the bottom. */
  actions?: ReactNode;
  size?: 'small' | 'medium' | 'large';
}

export function Dialog({ open, title, onClose, children, actions, size = 'medium' }: DialogProps) {
  const t = useT();
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  const opener = useRef<Element | null>(null);
  const onCloseRef = useRef(onClose);
  onCloseRef.current = onClose;

  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    if (open && !dialog.open) {
      opener.current = document.activeElement;
      dialog.showModal();
    } else if (!open && dialog.open) {
      dialog.close();
    }
  }, [open]);

  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    const cancel = (e: Event) => { e.preventDefault(); onCloseRef.current(); };
    const closed = () => { if (opener.current instanceof HTMLElement) opener.current.focus(); };
    dialog.addEventListener('cancel', cancel);
    dialog.addEventListener('close', closed);
    return () => { dialog.removeEventListener('cancel', cancel); dialog.removeEventListener('close', closed); };
  }, []);

  return (
    <dialog ref={ref} className={`dialog dialog-${size}`} aria-labelledby={titleId} aria-modal="true">
      {open ? (
        <>
          <div className="dialog-header">
            <h2 id={titleId} className="dialog-title">{title}</h2>
            <button type="button" className="icon-button" onClick={onClose} aria-label={t('shell.ui.close')}>
              <Icon name="close" />
            </button>
          </div>
          <div className="dialog-body">{children}</div>
          {actions ? <div className="dialog-actions">{actions}</div> : null}
        </>
      ) : null}
    </dialog>
  );
}
