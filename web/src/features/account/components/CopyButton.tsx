// Copies a secret or a URI to the clipboard and says so to screen readers.
import { useState } from 'react';
import { useT } from '../../../app/i18n.tsx';
import { Button } from '../../../ui/index.ts';

export function CopyButton({ text, label }: { text: string; label: string }) {
  const t = useT();
  const [state, setState] = useState<'idle' | 'copied' | 'failed'>('idle');
  async function copy() {
    try {
      await navigator.clipboard.writeText(text);
      setState('copied');
    } catch {
      setState('failed');
    }
  }
  return (
    <span className="account-copy">
      <Button variant="secondary" onClick={copy} aria-label={label}>{t('account.action.copy')}</Button>
      <span role="status" aria-live="polite" className="muted">
        {state === 'copied' ? t('account.copy.done') : state === 'failed' ? t('account.copy.failed') : ''}
      </span>
    </span>
  );
}
