// A destructive action in two steps, in place: the button asks, then offers
// Confirm and Cancel (no modal, so keyboard focus stays where it was).
import { useState } from 'react';
import { useT } from '../../../app/i18n.tsx';
import { Button } from '../../../ui/Button.tsx';

export function ConfirmButton({ label, confirmLabel, onConfirm, describedBy }: { label: string; confirmLabel: string; onConfirm: () => Promise<void>; describedBy?: string }) {
  const t = useT();
  const [asking, setAsking] = useState(false);
  const [busy, setBusy] = useState(false);
  if (!asking) return <Button variant="ghost" onClick={() => setAsking(true)} aria-describedby={describedBy}>{label}</Button>;
  return (
    <span className="admin-actions">
      <Button variant="danger" busy={busy} autoFocus aria-describedby={describedBy} onClick={async () => {
        setBusy(true);
        try { await onConfirm(); } finally { setBusy(false); setAsking(false); }
      }}>{confirmLabel}</Button>
      <Button variant="ghost" onClick={() => setAsking(false)}>{t('admin.cancel')}</Button>
    </span>
  );
}
