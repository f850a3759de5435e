// The start page after signing in: the places the person's role opens, by section.
import { Link } from 'react-router';
import { useT } from '../../app/i18n.tsx';
import { visibleNav } from '../../app/Layout.tsx';
import { useSession } from '../../app/session.tsx';
import { features } from '../index.ts';
import type { NavSection } from '../types.ts';
import { EmptyState, Page } from '../../ui/index.ts';

const sections: NavSection[] = ['library', 'admin', 'privacy', 'account'];

export default function HomePage() {
  const t = useT();
  const { user, role, platformRoles } = useSession();
  const entries = visibleNav(features.flatMap((f) => f.nav), role, platformRoles);
  return (
    <Page title={t('shell.home.title', { name: user?.displayName || user?.username || '' })} description={t('shell.home.intro')}>
      {entries.length === 0 ? <EmptyState title={t('shell.home.empty')} /> : null}
      {sections.map((section) => {
        const items = entries.filter((e) => e.section === section);
        if (!items.length) return null;
        return (
          <section key={section} className="home-section" aria-labelledby={`home-${section}`}>
            <h2 id={`home-${section}`} className="section-title">{t(`shell.nav.section.${section}`)}</h2>
            <ul className="home-grid">
              {items.map((e) => <li key={e.to}><Link className="home-card" to={e.to}>{t(e.label)}</Link></li>)}
            </ul>
          </section>
        );
      })}
    </Page>
  );
}
