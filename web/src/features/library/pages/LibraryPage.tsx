// The library: search with facets, collections, grid or list, cursor paging,
// bulk actions and the upload dialog. Serves /library and /collections/:id.
import { useEffect, useMemo, useState } from 'react';
import { useParams, useSearchParams } from 'react-router';
import { api, call } from '../../../api/client.ts';
import { useT } from '../../../app/i18n.tsx';
import { Button, EmptyState, ErrorView, Icon, Loading, Page, SelectField, useAsync } from '../../../ui/index.ts';
import { BulkBar } from '../components/BulkBar.tsx';
import { CollectionsPanel } from '../components/CollectionsPanel.tsx';
import { FacetPanel } from '../components/FacetPanel.tsx';
import { type ViewMode, VideoResults } from '../components/VideoResults.tsx';
import { useErrorText } from '../data.ts';
import { useRoleAtLeast } from '../roles.ts';
import { apiQuery, hasFilters, type LibrarySearch, PAGE_SIZE, readSearch, writeSearch } from '../search.ts';
import type { Facets, Video } from '../types.ts';
import { UploadDialog } from '../upload/UploadDialog.tsx';
import '../library.css';

const VIEW_KEY = 'haven.library.view';

function storedView(): ViewMode {
  try { return localStorage.getItem(VIEW_KEY) === 'list' ? 'list' : 'grid'; } catch { return 'grid'; }
}

export default function LibraryPage() {
  const t = useT();
  const errorText = useErrorText();
  const { collectionId } = useParams();
  const [params, setParams] = useSearchParams();
  const search = useMemo(() => readSearch(params), [params]);
  const canEdit = useRoleAtLeast('editor');
  const [view, setView] = useState<ViewMode>(storedView);
  const [query, setQuery] = useState(search.q);
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [uploadOpen, setUploadOpen] = useState(false);
  const [extra, setExtra] = useState<{ items: Video[]; cursor: string | null; error: unknown; loading: boolean }>({ items: [], cursor: null, error: undefined, loading: false });

  const collections = useAsync(() => call(api.GET('/api/v1/collections')), []);
  const first = useAsync(
    () => call(api.GET('/api/v1/videos', { params: { query: apiQuery(search, collectionId, undefined, PAGE_SIZE) } })),
    [params.toString(), collectionId],
  );
  useEffect(() => {
    setExtra({ items: [], cursor: first.data?.nextCursor ?? null, error: undefined, loading: false });
  }, [first.data]);
  useEffect(() => setQuery(search.q), [search.q]);
  useEffect(() => setSelected(new Set()), [collectionId]);

  const videos = useMemo(() => [...(first.data?.items ?? []), ...extra.items], [first.data, extra.items]);
  const facets: Facets | undefined = first.data?.facets ?? undefined;
  const current = collections.data?.items.find((c) => c.id === collectionId);

  function change(next: LibrarySearch) {
    setParams(writeSearch(next));
  }
  function chooseView(mode: ViewMode) {
    setView(mode);
    try { localStorage.setItem(VIEW_KEY, mode); } catch { /* private mode */ }
  }
  async function loadMore() {
    if (!extra.cursor) return;
    setExtra((e) => ({ ...e, loading: true, error: undefined }));
    try {
      const page = await call(api.GET('/api/v1/videos', { params: { query: apiQuery(search, collectionId, extra.cursor, PAGE_SIZE) } }));
      setExtra((e) => ({ items: [...e.items, ...page.items], cursor: page.nextCursor, error: undefined, loading: false }));
    } catch (err) {
      setExtra((e) => ({ ...e, error: err, loading: false }));
    }
  }
  function refresh() {
    first.reload();
    collections.reload();
  }
  const toggle = (id: string) => setSelected((s) => { const n = new Set(s); if (n.has(id)) n.delete(id); else n.add(id); return n; });
  const toggleAll = (on: boolean) => setSelected(on ? new Set(videos.map((v) => v.id)) : new Set());

  const title = current ? current.name : collectionId ? t('library.collections.title') : t('library.title');

  return (
    <Page
      title={title}
      className="lib-page"
      actions={canEdit ? <Button variant="primary" icon="upload" onClick={() => setUploadOpen(true)}>{t('library.upload.open')}</Button> : null}
    >
      <div className="lib-layout">
        <aside className="lib-side">
          {collections.error ? <ErrorView error={collections.error} onRetry={collections.reload} /> : (
            <CollectionsPanel collections={collections.data?.items ?? []} current={current} canEdit={canEdit} onChanged={refresh} />
          )}
          <FacetPanel facets={facets} search={search} onChange={change} />
        </aside>
        <div className="lib-main">
          <form className="lib-toolbar" role="search" onSubmit={(e) => { e.preventDefault(); change({ ...search, q: query }); }}>
            <div className="field lib-search-field">
              <label className="field-label" htmlFor="lib-search">{t('library.search.label')}</label>
              <div className="lib-search-row">
                <input id="lib-search" className="input" type="search" value={query} maxLength={200} onChange={(e) => setQuery(e.target.value)} placeholder={t('library.search.placeholder')} />
                <Button type="submit" icon="search">{t('library.search.submit')}</Button>
              </div>
            </div>
            <SelectField
              label={t('library.sort.label')}
              className="lib-sort"
              value={`${search.sort}:${search.order}`}
              onChange={(e) => { const [sort, order] = e.target.value.split(':') as [LibrarySearch['sort'], LibrarySearch['order']]; change({ ...search, sort, order }); }}
              options={[
                { value: ':', label: t('library.sort.default') },
                { value: 'created:desc', label: t('library.sort.newest') },
                { value: 'created:asc', label: t('library.sort.oldest') },
                { value: 'title:asc', label: t('library.sort.titleAsc') },
                { value: 'title:desc', label: t('library.sort.titleDesc') },
                { value: 'duration:desc', label: t('library.sort.longest') },
                { value: 'duration:asc', label: t('library.sort.shortest') },
                { value: 'relevance:desc', label: t('library.sort.relevance') },
              ]}
            />
            <div className="lib-view-toggle" role="group" aria-label={t('library.view.label')}>
              <Button variant={view === 'grid' ? 'primary' : 'secondary'} aria-pressed={view === 'grid'} onClick={() => chooseView('grid')}>{t('library.view.grid')}</Button>
              <Button variant={view === 'list' ? 'primary' : 'secondary'} aria-pressed={view === 'list'} onClick={() => chooseView('list')}>{t('library.view.list')}</Button>
            </div>
          </form>

          {hasFilters(search) ? (
            <p className="lib-filters">
              <span role="status">{facets ? t('library.results.count', { count: facets.total }) : null}</span>{' '}
              <Button variant="ghost" onClick={() => { setQuery(''); change({ ...search, q: '', tags: [], status: [], publishState: [], month: '', duration: '' }); }}>{t('library.search.clear')}</Button>
            </p>
          ) : facets ? <p className="lib-filters" role="status">{t('library.results.count', { count: facets.total })}</p> : null}

          {canEdit && selected.size > 0 ? (
            <BulkBar
              selected={videos.filter((v) => selected.has(v.id))}
              collections={collections.data?.items ?? []}
              currentCollection={collectionId}
              onDone={() => { setSelected(new Set()); refresh(); }}
              onClear={() => setSelected(new Set())}
            />
          ) : null}

          {first.error ? <ErrorView error={first.error} onRetry={first.reload} /> : first.loading && !first.data ? <Loading /> : videos.length === 0 ? (
            <EmptyState icon="video" title={hasFilters(search) ? t('library.empty.noMatch') : t('library.empty.title')}
              action={canEdit && !hasFilters(search) ? <Button variant="primary" icon="upload" onClick={() => setUploadOpen(true)}>{t('library.upload.open')}</Button> : undefined}>
              {hasFilters(search) ? t('library.empty.noMatchHint') : t('library.empty.hint')}
            </EmptyState>
          ) : (
            <>
              <VideoResults videos={videos} mode={view} selectable={canEdit} selected={selected} onToggle={toggle} onToggleAll={toggleAll} />
              {extra.error ? <p className="alert alert-error" role="alert"><Icon name="error" /> {errorText(extra.error)}</p> : null}
              {extra.cursor ? (
                <div className="lib-more">
                  <Button onClick={() => void loadMore()} busy={extra.loading}>{extra.error ? t('library.results.retryMore') : t('library.results.more')}</Button>
                </div>
              ) : null}
            </>
          )}
        </div>
      </div>
      {canEdit ? <UploadDialog open={uploadOpen} onClose={() => { setUploadOpen(false); first.reload(); }} /> : null}
    </Page>
  );
}
