// One video: preview, metadata, access, files, technical record, analytics.
import { lazy, Suspense, useEffect, useState } from 'react';
import { useNavigate, useParams, useSearchParams } from 'react-router';
import { api, call } from '../../../api/client.ts';
import { useLanguage, useT } from '../../../app/i18n.tsx';
import { Button, ButtonLink, Dialog, ErrorView, Form, Loading, Page, Tabs, useAsync, useToast } from '../../../ui/index.ts';
import { PublishBadge, StatusBadge } from '../components/VideoResults.tsx';
import { useRoleAtLeast } from '../roles.ts';
import type { Video } from '../types.ts';
import { AccessPanel } from '../video/AccessPanel.tsx';
import { AttachmentsSection, CaptionsSection } from '../video/FilesPanel.tsx';
import { MetadataPanel } from '../video/MetadataPanel.tsx';
import { TechnicalPanel } from '../video/TechnicalPanel.tsx';
import '../library.css';

const AnalyticsPanel = lazy(() => import('../video/AnalyticsPanel.tsx'));
const TABS = ['details', 'access', 'files', 'technical', 'analytics'] as const;

export default function VideoPage() {
  const t = useT();
  const { id = '' } = useParams();
  const [params, setParams] = useSearchParams();
  const tab = (TABS as readonly string[]).includes(params.get('tab') ?? '') ? params.get('tab')! : 'details';
  const canEdit = useRoleAtLeast('editor');
  const video = useAsync(() => call(api.GET('/api/v1/videos/{id}', { params: { path: { id } } })), [id]);
  const fields = useAsync(() => call(api.GET('/api/v1/custom-fields')), []);

  if (video.error) return <Page title={t('library.video.title')}><ErrorView error={video.error} onRetry={video.reload} /></Page>;
  if (!video.data || !fields.data) {
    if (fields.error) return <Page title={t('library.video.title')}><ErrorView error={fields.error} onRetry={fields.reload} /></Page>;
    return <Page title={t('library.video.title')}><Loading /></Page>;
  }
  const v = video.data;
  return (
    <Page
      title={v.title}
      className="lib-page"
      description={<span className="lib-badges"><StatusBadge video={v} /> <PublishBadge state={v.publishState} /></span>}
      actions={<>
        <ButtonLink to="/library" icon="video">{t('library.video.back')}</ButtonLink>
        {canEdit ? <DeleteVideo video={v} /> : null}
      </>}
    >
      <Tabs label={t('library.video.sections')} active={tab} onChange={(next) => setParams(next === 'details' ? {} : { tab: next }, { replace: true })}
        tabs={[
          { id: 'details', label: t('library.video.tab.details'), content: <DetailsTab video={v} fields={fields.data.items} canEdit={canEdit} onSaved={video.setData} onReload={video.reload} /> },
          { id: 'access', label: t('library.video.tab.access'), content: <AccessPanel video={v} canEdit={canEdit} /> },
          { id: 'files', label: t('library.video.tab.files'), content: <div className="lib-stack"><CaptionsSection video={v} canEdit={canEdit} /><AttachmentsSection video={v} canEdit={canEdit} /></div> },
          { id: 'technical', label: t('library.video.tab.technical'), content: <TechnicalPanel video={v} /> },
          { id: 'analytics', label: t('library.video.tab.analytics'), content: <Suspense fallback={<Loading />}><AnalyticsPanel videoId={v.id} /></Suspense> },
        ]} />
    </Page>
  );
}

function DetailsTab({ video, fields, canEdit, onSaved, onReload }: { video: Video; fields: Parameters<typeof MetadataPanel>[0]['fields']; canEdit: boolean; onSaved(v: Video): void; onReload(): void }) {
  const t = useT();
  const { language } = useLanguage();
  // While processing, follow progress live and reload when it ends.
  const [progress, setProgress] = useState(video.progress);
  useEffect(() => {
    if (video.status !== 'processing' && video.status !== 'uploading') return;
    const events = new EventSource(`/api/v1/videos/${video.id}/events`, { withCredentials: true });
    events.addEventListener('progress', (e) => setProgress((JSON.parse((e as MessageEvent<string>).data) as { progress: Video['progress'] }).progress));
    events.addEventListener('end', () => { events.close(); onReload(); });
    return () => events.close();
  }, [video.id, video.status, onReload]);
  return (
    <div className="lib-video-layout">
      <div className="lib-preview">
        {video.playable ? (
          <iframe className="lib-player" src={`/embed/${video.id}?lang=${language}`} title={t('library.video.player', { title: video.title })} allow="autoplay; fullscreen; picture-in-picture" allowFullScreen />
        ) : video.status === 'failed' ? (
          <p className="alert alert-error" role="alert">{t('library.video.failed', { message: video.error?.message ?? video.error?.code ?? '' })}</p>
        ) : (
          <div className="lib-preview-wait">
            <label className="lib-progress">
              <span>{t('library.upload.processing', { percent: progress.percent })}</span>
              <progress max={100} value={progress.percent} />
            </label>
          </div>
        )}
        <p><a href={`/watch/${video.id}`} target="_blank" rel="noopener">{t('library.video.openWatch')}</a></p>
      </div>
      <MetadataPanel key={video.updatedAt} video={video} fields={fields} canEdit={canEdit} onSaved={onSaved} />
    </div>
  );
}

function DeleteVideo({ video }: { video: Video }) {
  const t = useT();
  const toast = useToast();
  const navigate = useNavigate();
  const [open, setOpen] = useState(false);
  return (
    <>
      <Button variant="danger" icon="trash" onClick={() => setOpen(true)}>{t('library.video.delete')}</Button>
      <Dialog open={open} title={t('library.video.delete')} onClose={() => setOpen(false)} size="small">
        <Form label={t('library.video.delete')} submitVariant="danger" submitLabel={t('library.video.deleteConfirm')}
          secondary={<Button onClick={() => setOpen(false)}>{t('library.action.cancel')}</Button>}
          onSubmit={async () => {
            await call(api.DELETE('/api/v1/videos/{id}', { params: { path: { id: video.id } } }));
            toast.show(t('library.video.deleted', { title: video.title }));
            setOpen(false);
            navigate('/library');
          }}>
          <p>{t('library.video.deleteExplain', { title: video.title })}</p>
        </Form>
      </Dialog>
    </>
  );
}
