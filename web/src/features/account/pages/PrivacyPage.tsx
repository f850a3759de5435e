// My data (self-service privacy): what Haven holds about me, my consents,
// download my data, request erasure, my requests, and who accessed my account.
import { useEffect, useState } from 'react';
import { api, ApiError, call } from '../../../api/client.ts';
import { errorText, useT } from '../../../app/i18n.tsx';
import { useSession } from '../../../app/session.tsx';
import { Button, CheckboxField, Dialog, ErrorView, Loading, Page, Section, useAsync, useToast } from '../../../ui/index.ts';
import { AccessLogSection, ConsentSection, HeldSection, isOpen, type PrivacyRequest, RequestsSection } from '../components/PrivacyParts.tsx';
import '../account.css';

const POLL_MS = 2_000;

export default function PrivacyPage() {
  const t = useT();
  const toast = useToast();
  const { tenant } = useSession();
  const requests = useAsync(() => call(api.GET('/api/v1/privacy/requests')), []);
  const [filing, setFiling] = useState<'access' | 'erasure' | null>(null);
  const [downloading, setDownloading] = useState<string | null>(null);
  const [erasureOpen, setErasureOpen] = useState(false);
  const [understood, setUnderstood] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const items = requests.data?.items ?? [];
  const openAccess = items.find((r) => r.type === 'access' && isOpen(r));
  const openErasure = items.find((r) => r.type === 'erasure' && isOpen(r));
  const polling = items.some((r) => r.state === 'approved' || r.state === 'in_processing' || (r.state === 'pending' && r.type === 'access'));

  // While a request is being worked on, its state is read again until it settles.
  useEffect(() => {
    if (!polling) return;
    const timer = setTimeout(requests.reload, POLL_MS);
    return () => clearTimeout(timer);
  }, [polling, requests.data, requests.reload]);

  async function file(type: 'access' | 'erasure') {
    setFiling(type);
    setError(null);
    try {
      await call(api.POST('/api/v1/privacy/requests', { body: { type } }));
      toast.show(t(type === 'access' ? 'account.download.filed' : 'account.erasure.filed'));
    } catch (err) {
      // One open request per type: the existing one is already in the list.
      if (!(err instanceof ApiError && err.code === 'request_exists')) setError(errorText(err));
    } finally {
      setFiling(null);
      requests.reload();
    }
  }

  async function download(r: PrivacyRequest) {
    setDownloading(r.id);
    setError(null);
    try {
      const link = await call(api.POST('/api/v1/privacy/requests/{id}/export-link', { params: { path: { id: r.id } } }));
      // The link is same-origin; only its path is followed, whatever base URL the server was configured with.
      const url = new URL(link.url, location.origin);
      const a = document.createElement('a');
      a.href = `${url.pathname}${url.search}`;
      a.download = 'haven-data-export.zip';
      document.body.append(a);
      a.click();
      a.remove();
    } catch (err) {
      setError(errorText(err));
    } finally {
      setDownloading(null);
    }
  }

  return (
    <Page title={t('account.privacy.title')} description={t('account.privacy.description', { organization: tenant?.name ?? '' })} className="account-page">
      {error ? <p className="alert alert-error" role="alert">{error}</p> : null}
      <HeldSection />

      <Section title={t('account.download.title')}>
        <p>{t('account.download.intro')}</p>
        {openAccess ? <p className="alert alert-info" role="status">{t('account.download.in_progress', { state: t(`account.requests.state.${openAccess.state}`) })}</p> : null}
        <div><Button variant="primary" icon="download" busy={filing === 'access'} disabled={Boolean(openAccess)} onClick={() => file('access')}>{t('account.download.request')}</Button></div>
      </Section>

      {requests.error ? <ErrorView error={requests.error} onRetry={requests.reload} /> : !requests.data ? <Loading /> : (
        <RequestsSection requests={items} onDownload={download} busy={downloading} />
      )}

      <Section title={t('account.erasure.title')} className="account-danger-zone">
        <p>{t('account.erasure.intro')}</p>
        <ul className="account-list">
          <li>{t('account.erasure.point_account')}</li>
          <li>{t('account.erasure.point_videos')}</li>
          <li>{t('account.erasure.point_retained')}</li>
          <li>{t('account.erasure.point_review')}</li>
        </ul>
        {openErasure ? <p className="alert alert-info" role="status">{t('account.erasure.in_progress', { state: t(`account.requests.state.${openErasure.state}`) })}</p> : null}
        <div><Button variant="danger" busy={filing === 'erasure'} disabled={Boolean(openErasure)} onClick={() => { setUnderstood(false); setErasureOpen(true); }}>{t('account.erasure.request')}</Button></div>
      </Section>

      <ConsentSection />
      <AccessLogSection />

      <Dialog open={erasureOpen} title={t('account.erasure.confirm_title')} onClose={() => setErasureOpen(false)} size="small"
        actions={<>
          <Button onClick={() => setErasureOpen(false)}>{t('account.action.cancel')}</Button>
          <Button variant="danger" disabled={!understood} onClick={() => { setErasureOpen(false); void file('erasure'); }}>{t('account.erasure.confirm')}</Button>
        </>}>
        <p>{t('account.erasure.confirm_body', { organization: tenant?.name ?? '' })}</p>
        <CheckboxField label={t('account.erasure.understand')} name="understood" checked={understood} onChange={(e) => setUnderstood(e.target.checked)} />
      </Dialog>
    </Page>
  );
}
