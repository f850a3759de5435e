// The consent gate: shown instead of any page while the session has
// documents to decide on. Each document is shown in full with its version
// and legal basis; declining is explained before it is recorded.
import { useState } from 'react';
import { api, call } from '../../api/client.ts';
import type { ResponseOf } from '../../api/types.ts';
import { errorText, useFormat, useT } from '../../app/i18n.tsx';
import { useSession } from '../../app/session.tsx';
import { Button, ErrorView, Loading, Page, useAsync } from '../../ui/index.ts';

type Consents = ResponseOf<'/api/v1/consent'>;

export default function ConsentGate() {
  const t = useT();
  const fmt = useFormat();
  const session = useSession();
  const docs = useAsync(() => call(api.GET('/api/v1/consent')), []);
  const [busy, setBusy] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);

  async function decide(id: string, decision: 'accepted' | 'declined') {
    setBusy(`${id}:${decision}`);
    setError(null);
    try {
      const next: Consents = await call(api.POST('/api/v1/consent/{id}', { params: { path: { id } }, body: { decision } }));
      docs.setData(next);
      if (next.complete) await session.refresh();
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(null);
    }
  }

  const items = docs.data?.items ?? [];
  const declined = items.some((d) => d.decision === 'declined');
  return (
    <Page title={t('shell.consent.title')} description={t('shell.consent.intro')} className="public-main-wide">
      {docs.loading && !docs.data ? <Loading /> : null}
      {docs.error ? <ErrorView error={docs.error} onRetry={docs.reload} /> : null}
      {declined ? <p className="alert alert-warning" role="status">{t('shell.consent.declinedNotice')}</p> : null}
      {error ? <p className="alert alert-error" role="alert">{error}</p> : null}
      {items.map((d) => {
        const titleId = `doc-${d.id}`;
        return (
          <article key={d.id} className="document" aria-labelledby={titleId}>
            <h2 id={titleId} className="section-title">{d.title}</h2>
            <p className="muted">
              {t('shell.consent.version', { version: d.version, date: fmt.date(d.publishedAt) })}
              {' · '}
              {t('shell.consent.basis', { basis: d.legalBasis })}
            </p>
            <div className="document-body" tabIndex={0} role="document" aria-label={d.title}>{d.body}</div>
            {d.decision === 'accepted' ? (
              <p className="badge badge-success">{t('shell.consent.accepted')}</p>
            ) : (
              <>
                <p className="muted">{t('shell.consent.declineExplain')}</p>
                <div className="row">
                  <Button variant="primary" icon="check" busy={busy === `${d.id}:accepted`} disabled={busy !== null} onClick={() => void decide(d.id, 'accepted')}>
                    {t('shell.consent.accept')}<span className="visually-hidden">: {d.title}</span>
                  </Button>
                  {d.decision === 'declined' ? (
                    <span className="badge badge-warning">{t('shell.consent.declined')}</span>
                  ) : (
                    <Button busy={busy === `${d.id}:declined`} disabled={busy !== null} onClick={() => void decide(d.id, 'declined')}>
                      {t('shell.consent.decline')}<span className="visually-hidden">: {d.title}</span>
                    </Button>
                  )}
                </div>
              </>
            )}
          </article>
        );
      })}
      <div className="row">
        <Button icon="logout" onClick={() => void session.signOut()}>{t('shell.user.signOut')}</Button>
      </div>
    </Page>
  );
}
