// Actions on the selected videos. There is no bulk tagging endpoint: tags are
// added with one PATCH per video, in sequence, with progress. Moving uses the
// collection endpoint in one call.
import { useState } from 'react';
import { api, call } from '../../../api/client.ts';
import { useT } from '../../../app/i18n.tsx';
import { Button, SelectField, TextField, useToast } from '../../../ui/index.ts';
import { useErrorText } from '../data.ts';
import type { Collection, Video } from '../types.ts';
import { collectionOptions } from './CollectionsPanel.tsx';

interface Props {
  selected: Video[];
  collections: Collection[];
  currentCollection: string | undefined;
  onDone(): void;
  onClear(): void;
}

export function BulkBar({ selected, collections, currentCollection, onDone, onClear }: Props) {
  const t = useT();
  const toast = useToast();
  const errorText = useErrorText();
  const [tag, setTag] = useState('');
  const [target, setTarget] = useState('');
  const [progress, setProgress] = useState<{ done: number; total: number } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [tagError, setTagError] = useState<string | undefined>();

  async function addTag() {
    const value = tag.trim().toLowerCase();
    if (!value || value.length > 64) { setTagError(t('library.bulk.tagInvalid')); return; }
    setTagError(undefined);
    setError(null);
    setProgress({ done: 0, total: selected.length });
    let done = 0;
    for (const v of selected) {
      if (!v.tags.includes(value)) {
        try {
          await call(api.PATCH('/api/v1/videos/{id}', { params: { path: { id: v.id } }, body: { tags: [...v.tags, value] } }));
        } catch (err) {
          setError(t('library.bulk.failedAt', { title: v.title, message: errorText(err) }));
          setProgress(null);
          onDone();
          return;
        }
      }
      setProgress({ done: ++done, total: selected.length });
    }
    setProgress(null);
    setTag('');
    toast.show(t('library.bulk.tagged', { count: selected.length, tag: value }));
    onDone();
  }

  async function move() {
    if (!target) return;
    setError(null);
    try {
      await call(api.POST('/api/v1/collections/{id}/videos', {
        params: { path: { id: target } },
        body: { videoIds: selected.map((v) => v.id), ...(currentCollection && currentCollection !== target ? { fromCollectionId: currentCollection } : {}) },
      }));
      toast.show(t(currentCollection ? 'library.bulk.moved' : 'library.bulk.added', { count: selected.length }));
      onDone();
    } catch (err) {
      setError(errorText(err));
    }
  }

  return (
    <section className="lib-bulk" aria-label={t('library.bulk.title')}>
      <p className="lib-bulk-count" role="status">{t('library.bulk.selected', { count: selected.length })}</p>
      <div className="lib-bulk-group">
        <TextField label={t('library.bulk.tag')} value={tag} onChange={(e) => setTag(e.target.value)} maxLength={64} error={tagError}
          onKeyDown={(e) => { if (e.key === 'Enter') { e.preventDefault(); void addTag(); } }} />
        <Button onClick={() => void addTag()} busy={progress !== null}>{t('library.bulk.addTag')}</Button>
      </div>
      {collections.length ? (
        <div className="lib-bulk-group">
          <SelectField label={t('library.bulk.collection')} value={target} onChange={(e) => setTarget(e.target.value)}
            options={[{ value: '', label: t('library.bulk.chooseCollection') }, ...collectionOptions(collections)]} />
          <Button onClick={() => void move()} disabled={!target}>{currentCollection ? t('library.bulk.move') : t('library.bulk.add')}</Button>
        </div>
      ) : null}
      <Button variant="ghost" onClick={onClear}>{t('library.bulk.clear')}</Button>
      {progress ? (
        <div className="lib-bulk-progress">
          <label>
            {t('library.bulk.progress', { done: progress.done, total: progress.total })}
            <progress max={progress.total} value={progress.done} />
          </label>
        </div>
      ) : null}
      {error ? <p className="alert alert-error" role="alert">{error}</p> : null}
    </section>
  );
}
