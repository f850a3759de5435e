// Search results as a grid of cards or a table. A ready video's card shows
// its thumbnail from the members' poster route (GET /videos/{id}/poster),
// which needs no playback token and starts no view; the drawn placeholder
// stays underneath for videos without a picture and while it loads.
import { useState } from 'react';
import { Link } from 'react-router';
import { useFormat, useT } from '../../../app/i18n.tsx';
import { Icon } from '../../../ui/Icon.tsx';
import { formatDuration } from '../data.ts';
import type { Video } from '../types.ts';
import './poster.css';

export type ViewMode = 'grid' | 'list';

interface Props {
  videos: Video[];
  mode: ViewMode;
  selectable: boolean;
  selected: Set<string>;
  onToggle(id: string): void;
  onToggleAll(select: boolean): void;
}

export function StatusBadge({ video }: { video: Pick<Video, 'status' | 'progress'> }) {
  const t = useT();
  const label = t(`library.status.${video.status}`);
  return (
    <span className={`lib-badge lib-badge-${video.status}`}>
      {video.status === 'processing' ? `${label} ${video.progress.percent} %` : label}
    </span>
  );
}

export function PublishBadge({ state }: { state: Video['publishState'] }) {
  const t = useT();
  return <span className={`lib-badge lib-badge-pub-${state}`}>{t(`library.publish.${state}`)}</span>;
}

/** The thumbnail, lazily loaded; hidden again if the server has none (404) or it fails. */
function PosterImage({ video }: { video: Pick<Video, 'id' | 'status'> }) {
  const [failed, setFailed] = useState(false);
  if (video.status !== 'ready' || failed) return null;
  return (
    <img className="lib-poster-img" src={`/api/v1/videos/${encodeURIComponent(video.id)}/poster?size=thumb`} alt="" loading="lazy" decoding="async"
      width={320} height={180} onError={() => setFailed(true)} />
  );
}

export function VideoResults({ videos, mode, selectable, selected, onToggle, onToggleAll }: Props) {
  const t = useT();
  const format = useFormat();
  const allSelected = videos.length > 0 && videos.every((v) => selected.has(v.id));

  if (mode === 'list') {
    return (
      <div className="lib-table-wrap">
        <table className="lib-table">
          <caption className="visually-hidden">{t('library.results.caption')}</caption>
          <thead>
            <tr>
              {selectable ? (
                <th scope="col" className="lib-col-check">
                  <input type="checkbox" className="checkbox" checked={allSelected} onChange={(e) => onToggleAll(e.target.checked)} aria-label={t('library.select.all')} />
                </th>
              ) : null}
              <th scope="col">{t('library.field.title')}</th>
              <th scope="col">{t('library.field.status')}</th>
              <th scope="col">{t('library.field.publishState')}</th>
              <th scope="col">{t('library.field.duration')}</th>
              <th scope="col">{t('library.field.created')}</th>
              <th scope="col">{t('library.field.tags')}</th>
            </tr>
          </thead>
          <tbody>
            {videos.map((v) => (
              <tr key={v.id} className={selected.has(v.id) ? 'is-selected' : undefined}>
                {selectable ? (
                  <td className="lib-col-check">
                    <input type="checkbox" className="checkbox" checked={selected.has(v.id)} onChange={() => onToggle(v.id)} aria-label={t('library.select.one', { title: v.title })} />
                  </td>
                ) : null}
                <td><Link to={`/videos/${v.id}`} className="lib-title-link">{v.title}</Link></td>
                <td><StatusBadge video={v} /></td>
                <td><PublishBadge state={v.publishState} /></td>
                <td>{formatDuration(v.durationMs)}</td>
                <td>{format.date(v.createdAt)}</td>
                <td className="lib-tags-cell">{v.tags.join(', ')}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    );
  }

  return (
    <ul className="lib-grid" aria-label={t('library.results.caption')}>
      {videos.map((v) => (
        <li key={v.id} className={['lib-card', selected.has(v.id) ? 'is-selected' : ''].join(' ')}>
          <div className={`lib-poster lib-poster-${v.status}`} aria-hidden="true">
            <Icon name="video" size={36} />
            <PosterImage video={v} />
            <span className="lib-duration">{formatDuration(v.durationMs)}</span>
          </div>
          <div className="lib-card-body">
            <h3 className="lib-card-title"><Link to={`/videos/${v.id}`} className="lib-title-link">{v.title}</Link></h3>
            <p className="lib-card-meta">
              <StatusBadge video={v} /> <PublishBadge state={v.publishState} />
            </p>
            <p className="lib-card-date">{format.date(v.createdAt)}</p>
            {v.tags.length ? <p className="lib-card-tags">{v.tags.slice(0, 5).map((tag) => <span key={tag} className="lib-tag">{tag}</span>)}</p> : null}
          </div>
          {selectable ? (
            <label className="lib-card-check">
              <input type="checkbox" className="checkbox" checked={selected.has(v.id)} onChange={() => onToggle(v.id)} />
              <span className="visually-hidden">{t('library.select.one', { title: v.title })}</span>
            </label>
          ) : null}
        </li>
      ))}
    </ul>
  );
}
