// Title, description, language, tags, custom fields and publish state.
import { useState } from 'react';
import { api, call } from '../../../api/client.ts';
import { useT } from '../../../app/i18n.tsx';
import { Form, SelectField, TextAreaField, TextField, useToast } from '../../../ui/index.ts';
import type { CustomField, Video } from '../types.ts';

const LANGUAGE_CODE = /^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$/;

function toLocalInput(iso: string | null | undefined): string {
  if (!iso) return '';
  const d = new Date(iso);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

export function MetadataPanel({ video, fields, canEdit, onSaved }: { video: Video; fields: CustomField[]; canEdit: boolean; onSaved(v: Video): void }) {
  const t = useT();
  const toast = useToast();
  const [title, setTitle] = useState(video.title);
  const [description, setDescription] = useState(video.description);
  const [language, setLanguage] = useState(video.language ?? '');
  const [tags, setTags] = useState(video.tags.join(', '));
  const [custom, setCustom] = useState<Record<string, string>>(() => Object.fromEntries(fields.map((f) => [f.key, String(video.customFields[f.key] ?? '')])));
  const [publishState, setPublishState] = useState(video.publishState);
  const [publishAt, setPublishAt] = useState(toLocalInput(video.publishAt));

  const tagList = () => tags.split(',').map((s) => s.trim()).filter(Boolean);

  function validate() {
    const errors: Record<string, string | undefined> = {};
    if (!title.trim()) errors.title = t('library.meta.titleRequired');
    if (language && !LANGUAGE_CODE.test(language)) errors.language = t('library.meta.languageInvalid');
    if (tagList().some((tag) => tag.length > 64)) errors.tags = t('library.meta.tagTooLong');
    if (tagList().length > 50) errors.tags = t('library.meta.tooManyTags');
    if (publishState === 'scheduled' && !publishAt) errors.publishAt = t('library.meta.publishAtRequired');
    for (const f of fields) {
      const v = custom[f.key] ?? '';
      if (v && f.type === 'number' && !Number.isFinite(Number(v))) errors[`cf-${f.key}`] = t('library.meta.numberInvalid');
    }
    return errors;
  }

  async function save() {
    const customFields: Record<string, string | number | null> = {};
    for (const f of fields) {
      const v = (custom[f.key] ?? '').trim();
      const before = video.customFields[f.key];
      if (!v) { if (before !== undefined) customFields[f.key] = null; continue; }
      customFields[f.key] = f.type === 'number' ? Number(v) : v;
    }
    const saved = await call(api.PATCH('/api/v1/videos/{id}', {
      params: { path: { id: video.id } },
      body: {
        title: title.trim(), description, language: language || null, tags: tagList(), customFields, publishState,
        ...(publishState === 'scheduled' ? { publishAt: new Date(publishAt).toISOString() } : {}),
      },
    }));
    toast.show(t('library.meta.saved'));
    onSaved(saved);
  }

  const disabled = !canEdit;
  return (
    <Form label={t('library.meta.title')} validate={validate} onSubmit={save} submitLabel={t('library.action.save')} className="lib-meta-form">
      <fieldset disabled={disabled} className="lib-fieldset">
        <TextField label={t('library.field.title')} name="title" value={title} onChange={(e) => setTitle(e.target.value)} maxLength={500} required />
        <TextAreaField label={t('library.field.description')} name="description" value={description} onChange={(e) => setDescription(e.target.value)} maxLength={20000} rows={4} />
        <TextField label={t('library.field.language')} name="language" value={language} onChange={(e) => setLanguage(e.target.value)} hint={t('library.meta.languageHint')} maxLength={12} />
        <TextField label={t('library.field.tags')} name="tags" value={tags} onChange={(e) => setTags(e.target.value)} hint={t('library.meta.tagsHint')} />
        {fields.map((f) => (
          f.type === 'choice' ? (
            <SelectField key={f.id} label={f.label} name={`cf-${f.key}`} value={custom[f.key] ?? ''} onChange={(e) => setCustom({ ...custom, [f.key]: e.target.value })}
              options={[{ value: '', label: t('library.meta.none') }, ...f.choices.map((c) => ({ value: c, label: c }))]} />
          ) : (
            <TextField key={f.id} label={f.label} name={`cf-${f.key}`} type={f.type === 'number' ? 'number' : f.type === 'date' ? 'date' : 'text'}
              value={custom[f.key] ?? ''} onChange={(e) => setCustom({ ...custom, [f.key]: e.target.value })} />
          )
        ))}
        <SelectField label={t('library.field.publishState')} name="publishState" value={publishState} onChange={(e) => setPublishState(e.target.value as Video['publishState'])}
          options={(['draft', 'scheduled', 'published'] as const).map((s) => ({ value: s, label: t(`library.publish.${s}`) }))} />
        {publishState === 'scheduled' ? (
          <TextField label={t('library.meta.publishAt')} name="publishAt" type="datetime-local" value={publishAt} onChange={(e) => setPublishAt(e.target.value)} />
        ) : null}
      </fieldset>
    </Form>
  );
}
