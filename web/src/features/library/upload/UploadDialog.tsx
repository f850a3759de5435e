// The upload dialog: drop files or pick them; each uploads in parallel with
// its own progress, can be paused or cancelled, resumes after a reload when
// the same file is chosen again, then shows processing live until ready.
import { type DragEvent, useEffect, useId, useRef, useState, useSyncExternalStore } from 'react';
import { Link } from 'react-router';
import { useFormat, useT } from '../../../app/i18n.tsx';
import { Button, Dialog, Icon } from '../../../ui/index.ts';
import type { PreviousUpload } from 'tus-js-client';
import {
  cancelUpload, clearFinished, forgetRemembered, pauseUpload, rememberedUploads, resumeUpload, startUploads,
  subscribeUploads, type UploadItem, uploadSnapshot,
} from './uploads.ts';

const ACCEPT = 'video/*,audio/*,.mov,.mp4,.mkv,.webm,.avi,.m4v,.mxf';

export function useUploads(): UploadItem[] {
  return useSyncExternalStore(subscribeUploads, uploadSnapshot);
}

function UploadRow({ item }: { item: UploadItem }) {
  const t = useT();
  const format = useFormat();
  const uploadPercent = item.size ? Math.floor((item.sent / item.size) * 100) : 0;
  const errorMessage = item.error ? (t(`library.error.${item.error.code}`) !== `library.error.${item.error.code}` ? t(`library.error.${item.error.code}`) : item.error.message || item.error.code) : '';
  return (
    <li className={`lib-upload lib-upload-${item.phase}`}>
      <div className="lib-upload-head">
        <span className="lib-upload-name">{item.fileName}</span>
        <span className="lib-upload-size">{format.bytes(item.size)}</span>
      </div>
      {item.phase === 'uploading' || item.phase === 'paused' ? (
        <label className="lib-progress">
          <span>
            {item.phase === 'paused' ? t('library.upload.paused', { percent: uploadPercent }) : t('library.upload.sending', { percent: uploadPercent })}
            {item.resumedFrom ? ` · ${t('library.upload.resumed', { sent: format.bytes(item.resumedFrom) })}` : ''}
          </span>
          <progress max={100} value={uploadPercent} />
        </label>
      ) : null}
      {item.phase === 'processing' ? (
        <label className="lib-progress">
          <span>{t('library.upload.processing', { percent: item.processingPercent })}{item.processingStep ? ` · ${t(`library.step.${item.processingStep}`) !== `library.step.${item.processingStep}` ? t(`library.step.${item.processingStep}`) : item.processingStep}` : ''}</span>
          <progress max={100} value={item.processingPercent} />
        </label>
      ) : null}
      {item.phase === 'ready' ? <p className="lib-upload-state lib-ok"><Icon name="check" /> {t('library.upload.ready')}</p> : null}
      {item.phase === 'cancelled' ? <p className="lib-upload-state">{t('library.upload.cancelled')}</p> : null}
      {item.phase === 'failed' ? <p className="lib-upload-state lib-failed" role="alert"><Icon name="error" /> {t('library.upload.failed', { message: errorMessage })}</p> : null}
      <div className="lib-upload-actions">
        {item.phase === 'uploading' ? <Button onClick={() => pauseUpload(item.key)}>{t('library.upload.pause')}<span className="visually-hidden"> {item.fileName}</span></Button> : null}
        {item.phase === 'paused' ? <Button onClick={() => resumeUpload(item.key)}>{t('library.upload.resume')}<span className="visually-hidden"> {item.fileName}</span></Button> : null}
        {item.phase === 'uploading' || item.phase === 'paused' || item.phase === 'processing' ? (
          <Button variant="danger" onClick={() => void cancelUpload(item.key)}>{t('library.action.cancel')}<span className="visually-hidden"> {item.fileName}</span></Button>
        ) : null}
        {item.videoId && item.phase !== 'cancelled' ? <Link className="btn btn-ghost" to={`/videos/${item.videoId}`}>{t('library.upload.openVideo')}<span className="visually-hidden"> {item.fileName}</span></Link> : null}
      </div>
    </li>
  );
}

export function UploadDialog({ open, onClose }: { open: boolean; onClose(): void }) {
  const t = useT();
  const format = useFormat();
  const items = useUploads();
  const inputRef = useRef<HTMLInputElement>(null);
  const inputId = useId();
  const [dragging, setDragging] = useState(false);
  const [remembered, setRemembered] = useState<PreviousUpload[]>([]);

  useEffect(() => {
    if (open) void rememberedUploads().then(setRemembered);
  }, [open, items.length]);

  function choose(files: FileList | null) {
    if (!files?.length) return;
    startUploads([...files]);
    if (inputRef.current) inputRef.current.value = '';
  }
  function onDrop(e: DragEvent) {
    e.preventDefault();
    setDragging(false);
    choose(e.dataTransfer.files);
  }
  const active = new Set(items.filter((i) => i.uploadId).map((i) => i.uploadId));
  const waiting = remembered.filter((r) => !active.has(decodeURIComponent(r.uploadUrl?.split('/').pop() ?? '')));

  return (
    <Dialog open={open} title={t('library.upload.title')} onClose={onClose} size="large"
      actions={<>
        {items.some((i) => ['ready', 'failed', 'cancelled'].includes(i.phase)) ? <Button onClick={clearFinished}>{t('library.upload.clear')}</Button> : null}
        <Button variant="primary" onClick={onClose}>{t('library.action.close')}</Button>
      </>}>
      <div
        className={['lib-dropzone', dragging ? 'is-dragging' : ''].join(' ')}
        onDragOver={(e) => { e.preventDefault(); setDragging(true); }}
        onDragLeave={() => setDragging(false)}
        onDrop={onDrop}
      >
        <Icon name="upload" size={32} />
        <p>{t('library.upload.drop')}</p>
        <label htmlFor={inputId} className="btn btn-primary">{t('library.upload.choose')}</label>
        <input id={inputId} ref={inputRef} type="file" multiple accept={ACCEPT} className="visually-hidden" onChange={(e) => choose(e.target.files)} data-testid="upload-input" />
        <p className="field-hint">{t('library.upload.hint')}</p>
      </div>
      {waiting.length ? (
        <section className="lib-remembered" aria-label={t('library.upload.unfinished')}>
          <h3>{t('library.upload.unfinished')}</h3>
          <ul>
            {waiting.map((r) => (
              <li key={r.urlStorageKey}>
                <span>{t('library.upload.chooseAgain', { name: r.metadata.filename ?? '?', size: r.size ? format.bytes(r.size) : '?' })}</span>{' '}
                <Button variant="ghost" onClick={() => void forgetRemembered(r).then(() => rememberedUploads()).then(setRemembered)}>
                  {t('library.upload.forget')}<span className="visually-hidden"> {r.metadata.filename}</span>
                </Button>
              </li>
            ))}
          </ul>
        </section>
      ) : null}
      {items.length ? (
        <ul className="lib-uploads" aria-label={t('library.upload.list')}>
          {items.map((item) => <UploadRow key={item.key} item={item} />)}
        </ul>
      ) : null}
    </Dialog>
  );
}
