// Captions (WebVTT per language) and attachments (any file, downloaded back).
import { useRef, useState } from 'react';
import { api, call, request } from '../../../api/client.ts';
import { useFormat, useT } from '../../../app/i18n.tsx';
import { Button, ErrorView, Form, Loading, Section, TextField, useAsync, useToast } from '../../../ui/index.ts';
import { useErrorText } from '../data.ts';
import type { Video } from '../types.ts';

const LANG = /^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$/;

export function CaptionsSection({ video, canEdit }: { video: Video; canEdit: boolean }) {
  const t = useT();
  const format = useFormat();
  const toast = useToast();
  const errorText = useErrorText();
  const captions = useAsync(() => call(api.GET('/api/v1/videos/{id}/captions', { params: { path: { id: video.id } } })), [video.id]);
  const [lang, setLang] = useState('');
  const [label, setLabel] = useState('');
  const fileRef = useRef<HTMLInputElement>(null);
  const [fileError, setFileError] = useState<string | undefined>();
  const [rowError, setRowError] = useState<string | null>(null);

  return (
    <Section title={t('library.captions.title')}>
      {captions.error ? <ErrorView error={captions.error} onRetry={captions.reload} /> : !captions.data ? <Loading /> : captions.data.items.length === 0 ? <p>{t('library.captions.none')}</p> : (
        <ul className="lib-list">
          {captions.data.items.map((c) => (
            <li key={c.lang}>
              <span><strong>{c.label}</strong> ({c.lang}) · {format.bytes(c.bytes)} · {format.dateTime(c.createdAt)}</span>
              {canEdit ? <Button variant="danger" onClick={async () => {
                setRowError(null);
                try {
                  await call(api.DELETE('/api/v1/videos/{id}/captions/{lang}', { params: { path: { id: video.id, lang: c.lang } } }));
                  toast.show(t('library.captions.deleted'));
                  captions.reload();
                } catch (err) { setRowError(errorText(err)); }
              }}>{t('library.action.delete')}<span className="visually-hidden"> {c.label}</span></Button> : null}
            </li>
          ))}
        </ul>
      )}
      {rowError ? <p className="alert alert-error" role="alert">{rowError}</p> : null}
      {canEdit ? (
        <Form label={t('library.captions.add')} submitLabel={t('library.captions.upload')}
          validate={() => {
            const file = fileRef.current?.files?.[0];
            const err = !file ? t('library.captions.fileRequired') : file.size > 2 * 1024 * 1024 ? t('library.captions.tooBig') : !/\.vtt$/i.test(file.name) ? t('library.captions.notVtt') : undefined;
            setFileError(err);
            return { lang: LANG.test(lang) ? undefined : t('library.meta.languageInvalid'), captionFile: err };
          }}
          onSubmit={async () => {
            const file = fileRef.current!.files![0]!;
            const query = label.trim() ? `?label=${encodeURIComponent(label.trim())}` : '';
            await request(`/api/v1/videos/${video.id}/captions/${encodeURIComponent(lang)}${query}`, { method: 'PUT', headers: { 'content-type': 'text/vtt' }, body: file });
            toast.show(t('library.captions.saved'));
            setLang(''); setLabel('');
            if (fileRef.current) fileRef.current.value = '';
            captions.reload();
          }}>
          <div className="lib-row">
            <TextField label={t('library.captions.lang')} name="lang" value={lang} onChange={(e) => setLang(e.target.value)} hint={t('library.meta.languageHint')} maxLength={35} />
            <TextField label={t('library.captions.label')} name="label" value={label} onChange={(e) => setLabel(e.target.value)} maxLength={100} />
          </div>
          <div className={['field', fileError ? 'field-invalid' : ''].join(' ')}>
            <label className="field-label" htmlFor="lib-caption-file">{t('library.captions.file')}</label>
            <input id="lib-caption-file" ref={fileRef} name="captionFile" type="file" accept=".vtt,text/vtt" className="input" aria-invalid={fileError ? true : undefined} aria-describedby={fileError ? 'lib-caption-file-error' : undefined} />
            {fileError ? <p className="field-error" id="lib-caption-file-error">{fileError}</p> : null}
          </div>
        </Form>
      ) : null}
    </Section>
  );
}

export function AttachmentsSection({ video, canEdit }: { video: Video; canEdit: boolean }) {
  const t = useT();
  const format = useFormat();
  const toast = useToast();
  const errorText = useErrorText();
  const list = useAsync(() => call(api.GET('/api/v1/videos/{id}/attachments', { params: { path: { id: video.id } } })), [video.id]);
  const fileRef = useRef<HTMLInputElement>(null);
  const [fileError, setFileError] = useState<string | undefined>();
  const [rowError, setRowError] = useState<string | null>(null);

  return (
    <Section title={t('library.attachments.title')}>
      {list.error ? <ErrorView error={list.error} onRetry={list.reload} /> : !list.data ? <Loading /> : list.data.items.length === 0 ? <p>{t('library.attachments.none')}</p> : (
        <ul className="lib-list">
          {list.data.items.map((a) => (
            <li key={a.id}>
              <a href={`/api/v1/videos/${video.id}/attachments/${a.id}`} download={a.filename}>{a.filename}</a>
              <span> · {format.bytes(a.sizeBytes)} · {format.dateTime(a.createdAt)}</span>
              {canEdit ? <Button variant="danger" onClick={async () => {
                setRowError(null);
                try {
                  await call(api.DELETE('/api/v1/videos/{id}/attachments/{attachmentId}', { params: { path: { id: video.id, attachmentId: a.id } } }));
                  toast.show(t('library.attachments.deleted'));
                  list.reload();
                } catch (err) { setRowError(errorText(err)); }
              }}>{t('library.action.delete')}<span className="visually-hidden"> {a.filename}</span></Button> : null}
            </li>
          ))}
        </ul>
      )}
      {rowError ? <p className="alert alert-error" role="alert">{rowError}</p> : null}
      {canEdit ? (
        <Form label={t('library.attachments.add')} submitLabel={t('library.attachments.upload')}
          validate={() => {
            const file = fileRef.current?.files?.[0];
            const err = !file ? t('library.attachments.fileRequired') : file.size > 50 * 1024 * 1024 ? t('library.attachments.tooBig') : undefined;
            setFileError(err);
            return { attachment: err };
          }}
          onSubmit={async () => {
            const file = fileRef.current!.files![0]!;
            await request(`/api/v1/videos/${video.id}/attachments?filename=${encodeURIComponent(file.name)}`, { method: 'POST', headers: { 'content-type': file.type || 'application/octet-stream' }, body: file });
            toast.show(t('library.attachments.saved'));
            if (fileRef.current) fileRef.current.value = '';
            list.reload();
          }}>
          <div className={['field', fileError ? 'field-invalid' : ''].join(' ')}>
            <label className="field-label" htmlFor="lib-attachment-file">{t('library.attachments.file')}</label>
            <input id="lib-attachment-file" ref={fileRef} name="attachment" type="file" className="input" aria-invalid={fileError ? true : undefined} aria-describedby={fileError ? 'lib-attachment-error' : undefined} />
            {fileError ? <p className="field-error" id="lib-attachment-error">{fileError}</p> : null}
          </div>
        </Form>
      ) : null}
    </Section>
  );
}
