// Renditions, the technical record of the source, and earlier versions.
import { api, call } from '../../../api/client.ts';
import { useFormat, useT } from '../../../app/i18n.tsx';
import { ErrorView, Loading, Section, useAsync } from '../../../ui/index.ts';
import { formatDuration } from '../data.ts';
import type { Video } from '../types.ts';

export function TechnicalPanel({ video }: { video: Video }) {
  const t = useT();
  const format = useFormat();
  const versions = useAsync(() => call(api.GET('/api/v1/videos/{id}/versions', { params: { path: { id: video.id } } })), [video.id]);
  const tech = video.technical;
  return (
    <div className="lib-stack">
      <Section title={t('library.tech.renditions')}>
        {video.renditions.length === 0 ? <p>{t('library.tech.noRenditions')}</p> : (
          <div className="lib-table-wrap">
            <table className="lib-table">
              <caption className="visually-hidden">{t('library.tech.renditions')}</caption>
              <thead><tr><th scope="col">{t('library.tech.name')}</th><th scope="col">{t('library.tech.kind')}</th><th scope="col">{t('library.tech.size')}</th><th scope="col">{t('library.tech.bandwidth')}</th><th scope="col">{t('library.tech.codecs')}</th><th scope="col">{t('library.field.status')}</th></tr></thead>
              <tbody>
                {video.renditions.map((r) => (
                  <tr key={r.name}>
                    <td>{r.name}</td><td>{t(`library.tech.kind.${r.kind}`)}</td><td>{r.width && r.height ? `${r.width}×${r.height}` : '–'}</td>
                    <td>{format.number(Math.round(r.bandwidth / 1000))} kbit/s</td><td className="lib-mono">{r.codecs}</td>
                    <td>{t(`library.tech.rendition.${r.status}`)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Section>
      <Section title={t('library.tech.source')}>
        {!tech ? <p>{t('library.tech.noRecord')}</p> : (
          <>
            <dl className="lib-dl">
              <dt>{t('library.tech.container')}</dt><dd>{tech.container}</dd>
              <dt>{t('library.field.duration')}</dt><dd>{formatDuration(tech.durationMs)}</dd>
              <dt>{t('library.tech.fileSize')}</dt><dd>{format.bytes(tech.sizeBytes)}</dd>
              <dt>{t('library.tech.bitRate')}</dt><dd>{tech.bitRate ? `${format.number(Math.round(tech.bitRate / 1000))} kbit/s` : '–'}</dd>
              <dt>{t('library.tech.chapters')}</dt><dd>{format.number(tech.chapters)}</dd>
              <dt>{t('library.tech.metadataKeys')}</dt><dd>{tech.metadataKeys.length ? tech.metadataKeys.join(', ') : t('library.tech.none')}</dd>
              <dt>{t('library.tech.identifying')}</dt><dd>{tech.identifyingMetadataKeys.length ? tech.identifyingMetadataKeys.join(', ') : t('library.tech.none')}</dd>
            </dl>
            <p className="field-hint">{t('library.tech.stripped')}</p>
            <ul className="lib-list">
              {tech.streams.map((s) => (
                <li key={s.index}>
                  #{s.index} {s.type} · {s.codec}{s.profile ? ` (${s.profile})` : ''}{s.width ? ` · ${s.width}×${s.height}` : ''}{s.fps ? ` · ${format.number(s.fps)} fps` : ''}{s.channels ? ` · ${s.channels} ch` : ''}{s.sampleRate ? ` · ${format.number(s.sampleRate)} Hz` : ''}
                </li>
              ))}
            </ul>
          </>
        )}
      </Section>
      <Section title={t('library.tech.versions')}>
        {versions.error ? <ErrorView error={versions.error} onRetry={versions.reload} /> : !versions.data ? <Loading /> : (
          <>
            <p>{t('library.tech.currentVersion', { version: versions.data.current })}</p>
            {versions.data.items.length === 0 ? <p>{t('library.tech.noVersions')}</p> : (
              <ul className="lib-list">
                {versions.data.items.map((v) => (
                  <li key={v.version}>{t('library.tech.versionLine', { version: v.version, replaced: format.dateTime(v.replacedAt), reason: v.reason })}{v.sourceSizeBytes ? ` · ${format.bytes(v.sourceSizeBytes)}` : ''}</li>
                ))}
              </ul>
            )}
          </>
        )}
      </Section>
    </div>
  );
}
