// Labelled inputs: the hint and the error are tied to the control with
// aria-describedby, and an error sets aria-invalid.
import { type InputHTMLAttributes, type ReactNode, type SelectHTMLAttributes, type TextareaHTMLAttributes, useId } from 'react';
import { useFieldError } from './Form.tsx';

interface FieldBits { label: string; hint?: ReactNode; error?: string; name?: string }

function useFieldIds(name: string | undefined, explicitError: string | undefined) {
  const id = useId();
  const fromForm = useFieldError(name);
  const error = explicitError ?? fromForm;
  return { id, hintId: `${id}-hint`, errorId: `${id}-error`, error };
}

function describedBy(hint: unknown, error: unknown, hintId: string, errorId: string): string | undefined {
  return [hint ? hintId : '', error ? errorId : ''].filter(Boolean).join(' ') || undefined;
}

function Messages({ hint, error, hintId, errorId }: { hint?: ReactNode; error?: string; hintId: string; errorId: string }) {
  return (
    <>
      {hint ? <p className="field-hint" id={hintId}>{hint}</p> : null}
      {error ? <p className="field-error" id={errorId}>{error}</p> : null}
    </>
  );
}

export function TextField({ label, hint, error: explicit, name, className, ...rest }: FieldBits & InputHTMLAttributes<HTMLInputElement>) {
  const { id, hintId, errorId, error } = useFieldIds(name, explicit);
  return (
    <div className={['field', error ? 'field-invalid' : '', className].filter(Boolean).join(' ')}>
      <label className="field-label" htmlFor={id}>{label}</label>
      <input id={id} name={name} className="input" aria-invalid={error ? true : undefined} aria-describedby={describedBy(hint, error, hintId, errorId)} {...rest} />
      <Messages hint={hint} error={error} hintId={hintId} errorId={errorId} />
    </div>
  );
}

export function TextAreaField({ label, hint, error: explicit, name, className, ...rest }: FieldBits & TextareaHTMLAttributes<HTMLTextAreaElement>) {
  const { id, hintId, errorId, error } = useFieldIds(name, explicit);
  return (
    <div className={['field', error ? 'field-invalid' : '', className].filter(Boolean).join(' ')}>
      <label className="field-label" htmlFor={id}>{label}</label>
      <textarea id={id} name={name} className="input textarea" aria-invalid={error ? true : undefined} aria-describedby={describedBy(hint, error, hintId, errorId)} {...rest} />
      <Messages hint={hint} error={error} hintId={hintId} errorId={errorId} />
    </div>
  );
}

export interface Option { value: string; label: string }

export function SelectField({ label, hint, error: explicit, name, options, className, ...rest }: FieldBits & { options: Option[] } & SelectHTMLAttributes<HTMLSelectElement>) {
  const { id, hintId, errorId, error } = useFieldIds(name, explicit);
  return (
    <div className={['field', error ? 'field-invalid' : '', className].filter(Boolean).join(' ')}>
      <label className="field-label" htmlFor={id}>{label}</label>
      <select id={id} name={name} className="input select" aria-invalid={error ? true : undefined} aria-describedby={describedBy(hint, error, hintId, errorId)} {...rest}>
        {options.map((o) => <option key={o.value} value={o.value}>{o.label}</option>)}
      </select>
      <Messages hint={hint} error={error} hintId={hintId} errorId={errorId} />
    </div>
  );
}

export function CheckboxField({ label, hint, error: explicit, name, className, ...rest }: FieldBits & Omit<InputHTMLAttributes<HTMLInputElement>, 'type'>) {
  const { id, hintId, errorId, error } = useFieldIds(name, explicit);
  return (
    <div className={['field field-checkbox', error ? 'field-invalid' : '', className].filter(Boolean).join(' ')}>
      <input id={id} name={name} type="checkbox" className="checkbox" aria-invalid={error ? true : undefined} aria-describedby={describedBy(hint, error, hintId, errorId)} {...rest} />
      <div>
        <label className="field-label" htmlFor={id}>{label}</label>
        <Messages hint={hint} error={error} hintId={hintId} errorId={errorId} />
      </div>
    </div>
  );
}
