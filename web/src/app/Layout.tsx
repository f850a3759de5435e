// The signed-in frame: skip link, header (organization, account menu with
// language and sign-out), navigation from features[].nav, notices, main.
import { type ReactNode, useEffect, useId, useRef, useState } from 'react';
import { NavLink, useLocation } from 'react-router';
import { api, call } from '../api/client.ts';
import { features } from '../features/index.ts';
import type { NavEntry, NavSection } from '../features/types.ts';
import { Icon, useToast } from '../ui/index.ts';
import { errorText, isLanguage, type Language, languages, useLanguage, useT } from './i18n.tsx';
import { useSession } from './session.tsx';
import './app.css';
import './notices.css';

const sections: NavSection[] = ['library', 'admin', 'privacy', 'account'];

export function SkipLink() {
  const t = useT();
  return <a className="skip-link" href="#main">{t('shell.skip')}</a>;
}

/** A maintenance notice as GET /api/v1/notices gives it. */
type PlatformNotice = { id: string; message: { en: string } & Partial<Record<Language, string>>; severity: 'info' | 'warning' };

const DISMISSED_KEY = 'haven.notices.dismissed';
const NOTICE_REFRESH_MS = 5 * 60_000;

function readDismissed(): string[] {
  try {
    const parsed: unknown = JSON.parse(localStorage.getItem(DISMISSED_KEY) ?? '[]');
    return Array.isArray(parsed) ? parsed.filter((v): v is string => typeof v === 'string') : [];
  } catch {
    return [];
  }
}

/** The operators' current maintenance notices, refreshed every few minutes; a failed fetch shows nothing rather than an error. */
function usePlatformNotices(): PlatformNotice[] {
  const [notices, setNotices] = useState<PlatformNotice[]>([]);
  useEffect(() => {
    let alive = true;
    const load = () => call(api.GET('/api/v1/notices')).then((r) => { if (alive) setNotices(r.items as PlatformNotice[]); }, () => undefined);
    void load();
    const timer = window.setInterval(() => void load(), NOTICE_REFRESH_MS);
    return () => { alive = false; window.clearInterval(timer); };
  }, []);
  return notices;
}

/** Offline state, the operators' maintenance notices (dismissible, remembered per notice in this browser) and other notices above the page. */
export function NoticeBanner({ notices = [] }: { notices?: ReactNode[] }) {
  const t = useT();
  const { language } = useLanguage();
  const platformNotices = usePlatformNotices();
  const [dismissed, setDismissed] = useState<string[]>(readDismissed);
  const [online, setOnline] = useState(() => navigator.onLine);
  useEffect(() => {
    const on = () => setOnline(true);
    const off = () => setOnline(false);
    window.addEventListener('online', on);
    window.addEventListener('offline', off);
    return () => { window.removeEventListener('online', on); window.removeEventListener('offline', off); };
  }, []);
  function dismiss(id: string) {
    // Only ids still in effect are kept, so the list does not grow forever.
    const next = [...dismissed.filter((d) => platformNotices.some((n) => n.id === d)), id];
    setDismissed(next);
    try { localStorage.setItem(DISMISSED_KEY, JSON.stringify(next)); } catch { /* private mode: dismissed for this page only */ }
  }
  const shown = platformNotices.filter((n) => !dismissed.includes(n.id));
  const all = [...(online ? [] : [t('shell.notice.offline')]), ...notices];
  if (!all.length && !shown.length) return null;
  return (
    <div className="notices" role="region" aria-label={t('shell.notice.label')}>
      {shown.map((n) => {
        const own = n.message[language];
        return (
          <div key={n.id} className={`notice alert ${n.severity === 'warning' ? 'alert-warning' : 'alert-info'}`} data-notice={n.id}>
            <Icon name={n.severity === 'warning' ? 'warning' : 'info'} />
            <span className="notice-text"><span className="visually-hidden">{t('shell.notice.maintenance')}: </span><span lang={own ? language : 'en'}>{own ?? n.message.en}</span></span>
            <button type="button" className="icon-button notice-dismiss" onClick={() => dismiss(n.id)}>
              <Icon name="close" size={18} label={t('shell.notice.dismiss')} />
            </button>
          </div>
        );
      })}
      {all.map((n, i) => <div key={i} className="notice alert alert-warning"><Icon name="warning" /><span>{n}</span></div>)}
    </div>
  );
}

export function LanguageSelect({ persist }: { persist: boolean }) {
  const t = useT();
  const id = useId();
  const { language, setLanguage } = useLanguage();
  const session = useSession();
  const toast = useToast();
  async function change(value: string) {
    if (!isLanguage(value)) return;
    setLanguage(value);
    if (!persist) return;
    try {
      await call(api.PATCH('/api/v1/account', { body: { language: value } }));
      await session.refresh();
      toast.show(t('shell.language.saved'));
    } catch (err) {
      toast.show(errorText(err), 'error');
    }
  }
  return (
    <div className="language-select">
      <label htmlFor={id}><Icon name="globe" size={18} /><span className="visually-hidden">{t('shell.language.label')}</span></label>
      <select id={id} className="input select select-compact" value={language} onChange={(e) => void change(e.target.value)} aria-label={t('shell.language.label')}>
        {languages.map((l) => <option key={l} value={l} lang={l}>{t(`shell.language.${l}`)}</option>)}
      </select>
    </div>
  );
}

function UserMenu() {
  const t = useT();
  const { user, tenant, signOut } = useSession();
  const [open, setOpen] = useState(false);
  const panelId = useId();
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!open) return;
    const onDoc = (e: MouseEvent) => { if (!ref.current?.contains(e.target as Node)) setOpen(false); };
    const onKey = (e: KeyboardEvent) => { if (e.key === 'Escape') { setOpen(false); ref.current?.querySelector<HTMLButtonElement>('button')?.focus(); } };
    document.addEventListener('mousedown', onDoc);
    document.addEventListener('keydown', onKey);
    return () => { document.removeEventListener('mousedown', onDoc); document.removeEventListener('keydown', onKey); };
  }, [open]);
  if (!user) return null;
  const name = user.displayName || user.username;
  return (
    <div className="user-menu" ref={ref}>
      <button type="button" className="btn btn-ghost user-menu-button" aria-expanded={open} aria-controls={panelId} onClick={() => setOpen((o) => !o)}>
        <Icon name="user" />
        <span className="user-menu-name">{name}</span>
        <span className="visually-hidden">{t('shell.user.menu')}</span>
        <Icon name="chevronDown" size={16} />
      </button>
      <div id={panelId} className="user-menu-panel" hidden={!open}>
        <p className="user-menu-who">{t('shell.user.signedInAs', { name: user.email })}</p>
        {tenant ? <p className="muted user-menu-tenant">{t('shell.user.organization')}: {tenant.name}</p> : null}
        <LanguageSelect persist />
        <button type="button" className="btn btn-secondary" onClick={() => void signOut()}>
          <Icon name="logout" size={18} />{t('shell.user.signOut')}
        </button>
      </div>
    </div>
  );
}

export function visibleNav(entries: NavEntry[], role: string | null, platformRoles: string[]): NavEntry[] {
  return entries.filter((e) => (!e.roles || (role !== null && (e.roles as string[]).includes(role))) && (!e.platform || platformRoles.length > 0));
}

function Navigation({ open, id, onNavigate }: { open: boolean; id: string; onNavigate: () => void }) {
  const t = useT();
  const { role, platformRoles } = useSession();
  const entries = visibleNav(features.flatMap((f) => f.nav), role, platformRoles);
  return (
    <nav id={id} className={open ? 'app-nav is-open' : 'app-nav'} aria-label={t('shell.nav.label')}>
      <ul className="nav-list">
        <li><NavLink to="/" end className="nav-link" onClick={onNavigate}><Icon name="home" size={18} />{t('shell.nav.home')}</NavLink></li>
      </ul>
      {sections.map((section) => {
        const items = entries.filter((e) => e.section === section);
        if (!items.length) return null;
        return (
          <div key={section} className="nav-section">
            <h2 className="nav-heading">{t(`shell.nav.section.${section}`)}</h2>
            <ul className="nav-list">
              {items.map((e) => <li key={e.to}><NavLink to={e.to} className="nav-link" onClick={onNavigate}>{t(e.label)}</NavLink></li>)}
            </ul>
          </div>
        );
      })}
    </nav>
  );
}

export function AppLayout({ children }: { children: ReactNode }) {
  const t = useT();
  const { tenant } = useSession();
  const [navOpen, setNavOpen] = useState(false);
  const navId = useId();
  const location = useLocation();
  const mainRef = useRef<HTMLElement>(null);
  const first = useRef(true);
  // After navigating, focus moves to the new page's content (screen readers hear the change).
  useEffect(() => {
    if (first.current) { first.current = false; return; }
    setNavOpen(false);
    const heading = mainRef.current?.querySelector<HTMLElement>('h1');
    (heading ?? mainRef.current)?.focus({ preventScroll: false });
  }, [location.pathname]);
  return (
    <div className="app">
      <SkipLink />
      <header className="app-header">
        <button type="button" className="icon-button nav-toggle" aria-expanded={navOpen} aria-controls={navId} onClick={() => setNavOpen((o) => !o)}>
          <Icon name={navOpen ? 'close' : 'menu'} label={t('shell.nav.toggle')} />
        </button>
        <NavLink to="/" className="brand">
          <img src="/favicon.svg" alt="" width={28} height={28} />
          <span>{t('shell.app.name')}</span>
        </NavLink>
        {tenant ? <span className="tenant-name">{tenant.name}</span> : null}
        <div className="header-spacer" />
        <UserMenu />
      </header>
      <div className="app-body">
        <Navigation open={navOpen} id={navId} onNavigate={() => setNavOpen(false)} />
        <main id="main" className="app-main" tabIndex={-1} ref={mainRef}>
          <NoticeBanner />
          {children}
        </main>
      </div>
    </div>
  );
}

/** Sign-in, password reset, invitations, the consent gate: a centred card with a language choice. */
export function PublicLayout({ children, persistLanguage = false }: { children: ReactNode; persistLanguage?: boolean }) {
  const t = useT();
  return (
    <div className="public">
      <SkipLink />
      <header className="public-header">
        <span className="brand">
          <img src="/favicon.svg" alt="" width={28} height={28} />
          <span>{t('shell.app.name')}</span>
        </span>
        <LanguageSelect persist={persistLanguage} />
      </header>
      <main id="main" className="public-main" tabIndex={-1}>
        <NoticeBanner />
        {children}
      </main>
    </div>
  );
}
