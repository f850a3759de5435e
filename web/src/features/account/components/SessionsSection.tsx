// Where I am signed in, and ending any of those sessions but this one.
import { useState } from 'react';
import { api, call } from '../../../api/client.ts';
import { errorText, useFormat, useT } from '../../../app/i18n.tsx';
import { Button, DataTable, ErrorView, Loading, Section, useAsync, useToast } from '../../../ui/index.ts';
import { describeUserAgent } from '../format.ts';

export function SessionsSection({ version }: { version: number }) {
  const t = useT();
  const fmt = useFormat();
  const toast = useToast();
  const sessions = useAsync(() => call(api.GET('/api/v1/account/sessions')), [version]);
  const [busy, setBusy] = useState<string | null>(null);

  async function revoke(id: string) {
    setBusy(id);
    try {
      await call(api.DELETE('/api/v1/account/sessions/{id}', { params: { path: { id } } }));
      toast.show(t('account.sessions.revoked'));
      sessions.reload();
    } catch (err) {
      toast.show(errorText(err), 'error');
    } finally {
      setBusy(null);
    }
  }

  return (
    <Section title={t('account.sessions.title')}>
      <p className="muted">{t('account.sessions.intro')}</p>
      {sessions.error ? <ErrorView error={sessions.error} onRetry={sessions.reload} /> : !sessions.data ? <Loading /> : (
        <DataTable
          caption={t('account.sessions.title')}
          captionHidden
          rows={sessions.data.items}
          rowKey={(s) => s.id}
          columns={[
            { key: 'device', header: t('account.sessions.device'), render: (s) => (
              <span>{describeUserAgent(s.userAgent) ?? t('account.sessions.unknown_device')}{s.current ? <> <span className="badge badge-info">{t('account.sessions.current')}</span></> : null}</span>
            ) },
            { key: 'created', header: t('account.sessions.signed_in'), render: (s) => fmt.dateTime(s.createdAt) },
            { key: 'seen', header: t('account.sessions.last_seen'), render: (s) => fmt.dateTime(s.lastSeenAt) },
            { key: 'actions', header: t('account.table.actions'), render: (s) => s.current ? <span className="muted">{t('account.sessions.this_one')}</span> : (
              <Button variant="danger" busy={busy === s.id} onClick={() => revoke(s.id)} aria-label={t('account.sessions.revoke_label', { device: describeUserAgent(s.userAgent) ?? t('account.sessions.unknown_device'), time: fmt.dateTime(s.createdAt) })}>
                {t('account.sessions.revoke')}
              </Button>
            ) },
          ]}
          empty={t('account.sessions.none')}
        />
      )}
    </Section>
  );
}
