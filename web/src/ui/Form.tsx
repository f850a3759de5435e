// A form that validates on the client first, then shows the server's error
// envelope (localized where the code is known). Fields read their errors
// from the form by `name`.
import { createContext, type FormEvent, type ReactNode, useContext, useRef, useState } from 'react';
import { ApiError } from '../api/client.ts';
import { errorText, useT } from '../app/i18n.tsx';
import { Button } from './Button.tsx';
import { Icon } from './Icon.tsx';

export type FieldErrors = Record<string, string | undefined>;

const FormErrorsContext = createContext<FieldErrors>({});

/** The current field errors of the enclosing <Form>. */
export function useFieldError(name: string | undefined): string | undefined {
  const errors = useContext(FormErrorsContext);
  return name ? errors[name] : undefined;
}

export interface FormProps {
  /** Client-side checks: field name → message, empty when all is well. */
  validate?: () => FieldErrors;
  /** Sends the form; throw (an ApiError) to show its message. */
  onSubmit: () => Promise<void> | void;
  submitLabel: string;
  /** Extra buttons next to submit (Cancel). */
  secondary?: ReactNode;
  children: ReactNode;
  className?: string;
  /** Accessible name of the form. */
  label?: string;
  submitVariant?: 'primary' | 'danger';
}

export function Form({ validate, onSubmit, submitLabel, secondary, children, className, label, submitVariant = 'primary' }: FormProps) {
  const t = useT();
  const [fieldErrors, setFieldErrors] = useState<FieldErrors>({});
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const formRef = useRef<HTMLFormElement>(null);
  const alertRef = useRef<HTMLDivElement>(null);

  async function submit(e: FormEvent) {
    e.preventDefault();
    if (busy) return;
    const found = Object.fromEntries(Object.entries(validate?.() ?? {}).filter(([, v]) => v));
    setFieldErrors(found);
    setError(null);
    const first = Object.keys(found)[0];
    if (first) {
      requestAnimationFrame(() => formRef.current?.querySelector<HTMLElement>(`[name="${CSS.escape(first)}"]`)?.focus());
      return;
    }
    setBusy(true);
    try {
      await onSubmit();
    } catch (err) {
      const fromServer = err instanceof ApiError && Array.isArray(err.details)
        ? Object.fromEntries((err.details as { path?: string; message?: string }[]).filter((d) => d.path && d.message).map((d) => [d.path!.split('.').pop()!, d.message!]))
        : {};
      setFieldErrors(fromServer);
      setError(errorText(err));
      requestAnimationFrame(() => alertRef.current?.focus());
    } finally {
      setBusy(false);
    }
  }

  return (
    <FormErrorsContext.Provider value={fieldErrors}>
      <form ref={formRef} className={['form', className].filter(Boolean).join(' ')} onSubmit={submit} noValidate aria-label={label}>
        {error ? (
          <div className="alert alert-error" role="alert" tabIndex={-1} ref={alertRef}>
            <Icon name="error" />
            <span>{error}</span>
          </div>
        ) : null}
        {children}
        <div className="form-actions">
          <Button type="submit" variant={submitVariant} busy={busy}>{busy ? t('shell.ui.working') : submitLabel}</Button>
          {secondary}
        </div>
      </form>
    </FormErrorsContext.Provider>
  );
}
