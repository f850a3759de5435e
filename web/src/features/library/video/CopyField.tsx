import { useId, useState } from 'react';
import { useT } from '../../../app/i18n.tsx';
import { Button } from '../../../ui/index.ts';

/** A read-only value with a Copy button (falls back to selecting the text). */
export function CopyField({ label, value, multiline = false }: { label: string; value: string; multiline?: boolean }) {
  const t = useT();
  const id = useId();
  const [copied, setCopied] = useState(false);
  async function copy() {
    try {
      await navigator.clipboard.writeText(value);
      setCopied(true);
      setTimeout(() => setCopied(false), 3000);
    } catch {
      (document.getElementById(id) as HTMLInputElement | HTMLTextAreaElement | null)?.select();
    }
  }
  return (
    <div className="field lib-copy">
      <label className="field-label" htmlFor={id}>{label}</label>
      <div className="lib-copy-row">
        {multiline
          ? <textarea id={id} className="input textarea lib-mono" readOnly value={value} rows={3} onFocus={(e) => e.target.select()} />
          : <input id={id} className="input lib-mono" readOnly value={value} onFocus={(e) => e.target.select()} />}
        <Button onClick={() => void copy()}>{t('library.action.copy')}<span className="visually-hidden"> {label}</span></Button>
      </div>
      <span role="status" className="lib-copied">{copied ? t('library.action.copied') : ''}</span>
    </div>
  );
}
