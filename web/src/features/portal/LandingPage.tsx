// A tenant's public landing (/t/:slug): its public videos as a grid, each
// opening the player page (/watch/{id}, served by Haven, not by this app).
import { useState } from 'react';
import { useParams } from 'react-router';
import { request } from '../../api/client.ts';
import { useFormat, useT } from '../../app/i18n.tsx';
import { Button, EmptyState, ErrorView, Loading, Page, useAsync } from '../../ui/index.ts';
import './portal.css';

/** GET /api/v1/public/tenants/{slug}/videos (playback module, access/public-listing.ts). */
interface PublicListing {
  tenant: { slug: string; name: string };
  items: { id: string; title: string; durationMs: number | null; publishedAt: string | null }[];
  nextCursor: string | null;
}

async function loadPage(slug: string, cursor?: string): Promise<PublicListing> {
  const query = new URLSearchParams({ limit: '48', ...(cursor ? { cursor } : {}) });
  const res = await request(`/api/v1/public/tenants/${encodeURIComponent(slug)}/videos?${query}`, { headers: { accept: 'application/json' } });
  return (await res.json()) as PublicListing;
}

function duration(ms: number | null): string | null {
  if (ms === null) return null;
  const s = Math.round(ms / 1000);
  const h = Math.floor(s / 3600); const m = Math.floor((s % 3600) / 60); const sec = s % 60;
  const pad = (n: number) => String(n).padStart(2, '0');
  return h ? `${h}:${pad(m)}:${pad(sec)}` : `${m}:${pad(sec)}`;
}

function PlayIcon() {
  return (
    <svg className="portal-play" viewBox="0 0 24 24" width="40" height="40" aria-hidden="true" focusable="false">
      <circle cx="12" cy="12" r="11" />
      <path d="M10 8l6 4-6 4z" />
    </svg>
  );
}

export default function LandingPage() {
  const t = useT();
  const fmt = useFormat();
  const { slug = '' } = useParams();
  const listing = useAsync(() => loadPage(slug), [slug]);
  const [more, setMore] = useState<{ items: PublicListing['items']; cursor: string | null; loading: boolean; error: unknown } | null>(null);

  if (!listing.data) {
    return (
      <Page title={t('portal.title')} className="portal">
        {listing.error ? <ErrorView error={listing.error} onRetry={listing.reload} /> : <Loading />}
      </Page>
    );
  }
  const data = listing.data;
  const items = [...data.items, ...(more?.items ?? [])];
  const cursor = more ? more.cursor : data.nextCursor;

  async function loadMore() {
    if (!cursor) return;
    setMore((m) => ({ items: m?.items ?? [], cursor, loading: true, error: null }));
    try {
      const next = await loadPage(slug, cursor);
      setMore((m) => ({ items: [...(m?.items ?? []), ...next.items], cursor: next.nextCursor, loading: false, error: null }));
    } catch (error) {
      setMore((m) => ({ items: m?.items ?? [], cursor, loading: false, error }));
    }
  }

  return (
    <Page title={data.tenant.name} description={t('portal.description', { organization: data.tenant.name })} className="portal">
      {items.length === 0 ? <EmptyState title={t('portal.empty')} icon="video">{t('portal.empty_body')}</EmptyState> : (
        <ul className="portal-grid" aria-label={t('portal.list_label', { organization: data.tenant.name })}>
          {items.map((v) => (
            <li key={v.id} className="portal-card">
              <a href={`/watch/${v.id}`} className="portal-link">
                <span className="portal-thumb" aria-hidden="true">
                  <PlayIcon />
                  {duration(v.durationMs) ? <span className="portal-duration">{duration(v.durationMs)}</span> : null}
                </span>
                <span className="portal-title">{v.title}</span>
                <span className="portal-meta">
                  {duration(v.durationMs) ? <span className="visually-hidden">{t('portal.duration', { duration: duration(v.durationMs)! })} · </span> : null}
                  {v.publishedAt ? t('portal.published', { date: fmt.date(v.publishedAt) }) : null}
                </span>
              </a>
            </li>
          ))}
        </ul>
      )}
      {more?.error ? <ErrorView error={more.error} onRetry={loadMore} /> : null}
      {cursor && !more?.error ? <div className="portal-more"><Button busy={more?.loading} onClick={loadMore}>{t('portal.more')}</Button></div> : null}
    </Page>
  );
}
