// Facets beside the results: counts of the matching videos per tag, status,
// publish state, month and duration; choosing one narrows the search.
import { useMemo } from 'react';
import { useFormat, useLanguage, useT } from '../../../app/i18n.tsx';
import { type LibrarySearch, PUBLISH_STATES, STATUSES } from '../search.ts';
import type { Facets } from '../types.ts';

interface Props {
  facets: Facets | undefined;
  search: LibrarySearch;
  onChange(next: LibrarySearch): void;
}

function toggle<T>(list: T[], value: T): T[] {
  return list.includes(value) ? list.filter((v) => v !== value) : [...list, value];
}

export function FacetPanel({ facets, search, onChange }: Props) {
  const t = useT();
  const format = useFormat();
  const { language } = useLanguage();
  const months = useMemo(() => new Intl.DateTimeFormat(language, { month: 'long', year: 'numeric', timeZone: 'UTC' }), [language]);
  const monthName = (value: string) => {
    const [y, m] = value.split('-').map(Number) as [number, number];
    return months.format(new Date(Date.UTC(y, m - 1, 1)));
  };
  const tagValues = [...new Set([...(facets?.tags.map((f) => f.value) ?? []), ...search.tags])];
  const count = (n: number | undefined) => format.number(n ?? 0);

  return (
    <div className="lib-facets">
      <h2 className="lib-side-title">{t('library.facets.title')}</h2>
      {tagValues.length ? (
        <fieldset className="lib-facet">
          <legend>{t('library.field.tags')}</legend>
          {tagValues.slice(0, 20).map((tag) => (
            <label key={tag} className="lib-facet-option">
              <input type="checkbox" className="checkbox" checked={search.tags.includes(tag)} onChange={() => onChange({ ...search, tags: toggle(search.tags, tag) })} />
              <span>{tag}</span>
              <span className="lib-count">{count(facets?.tags.find((f) => f.value === tag)?.count)}</span>
            </label>
          ))}
        </fieldset>
      ) : null}
      <fieldset className="lib-facet">
        <legend>{t('library.field.status')}</legend>
        {STATUSES.map((s) => (
          <label key={s} className="lib-facet-option">
            <input type="checkbox" className="checkbox" checked={search.status.includes(s)} onChange={() => onChange({ ...search, status: toggle(search.status, s) })} />
            <span>{t(`library.status.${s}`)}</span>
            <span className="lib-count">{count(facets?.status[s])}</span>
          </label>
        ))}
      </fieldset>
      <fieldset className="lib-facet">
        <legend>{t('library.field.publishState')}</legend>
        {PUBLISH_STATES.map((s) => (
          <label key={s} className="lib-facet-option">
            <input type="checkbox" className="checkbox" checked={search.publishState.includes(s)} onChange={() => onChange({ ...search, publishState: toggle(search.publishState, s) })} />
            <span>{t(`library.publish.${s}`)}</span>
            <span className="lib-count">{count(facets?.publishState[s])}</span>
          </label>
        ))}
      </fieldset>
      <fieldset className="lib-facet">
        <legend>{t('library.facets.month')}</legend>
        <label className="lib-facet-option">
          <input type="radio" name="lib-month" checked={!search.month} onChange={() => onChange({ ...search, month: '' })} />
          <span>{t('library.facets.any')}</span>
        </label>
        {(facets?.createdMonth ?? []).slice(0, 12).map((m) => (
          <label key={m.value} className="lib-facet-option">
            <input type="radio" name="lib-month" checked={search.month === m.value} onChange={() => onChange({ ...search, month: m.value })} />
            <span>{monthName(m.value)}</span>
            <span className="lib-count">{count(m.count)}</span>
          </label>
        ))}
      </fieldset>
      <fieldset className="lib-facet">
        <legend>{t('library.field.duration')}</legend>
        <label className="lib-facet-option">
          <input type="radio" name="lib-duration" checked={!search.duration} onChange={() => onChange({ ...search, duration: '' })} />
          <span>{t('library.facets.any')}</span>
        </label>
        {(facets?.duration ?? []).map((d) => (
          <label key={d.bucket} className="lib-facet-option">
            <input type="radio" name="lib-duration" checked={search.duration === d.bucket} onChange={() => onChange({ ...search, duration: d.bucket })} />
            <span>{t(`library.duration.${d.bucket}`)}</span>
            <span className="lib-count">{count(d.count)}</span>
          </label>
        ))}
      </fieldset>
    </div>
  );
}
