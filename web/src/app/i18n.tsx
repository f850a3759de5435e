// The UI's languages: every string goes through t(key, vars). The language is
// the signed-in person's preferred one (the session provider sets it), else
// one chosen here before signing in, else the browser's among en/sv/fi/de.
import { createContext, type ReactNode, useCallback, useContext, useEffect, useMemo, useRef, useState } from 'react';
import type { ApiError } from '../api/client.ts';
import { features } from '../features/index.ts';
import { type Language, languages, type Messages } from '../features/types.ts';

export { languages, type Language };

const STORAGE_KEY = 'haven.language';

/** The shell's messages merge last, so a feature cannot shadow them by accident. */
const merging = [...features.filter((f) => f.id !== 'shell'), ...features.filter((f) => f.id === 'shell')];
/** Every feature's messages merged per language: English from the start, the others once loaded. */
const catalog: Partial<Record<Language, Messages>> & { en: Messages } = { en: Object.assign({}, ...merging.map((f) => f.messages.en)) };
const loading = new Map<Exclude<Language, 'en'>, Promise<void>>();

/** Loads a language's messages (a chunk per feature); resolves at once for one already here. */
export function loadLanguage(language: Language): Promise<void> {
  if (language === 'en' || catalog[language]) return Promise.resolve();
  let pending = loading.get(language);
  if (!pending) {
    pending = Promise.all(merging.map((f) => f.messages[language]())).then((parts) => { catalog[language] = Object.assign({}, ...parts); });
    // A failed load (the network) may be tried again on the next switch.
    pending.catch(() => loading.delete(language));
    loading.set(language, pending);
  }
  return pending;
}

export function isLanguage(value: unknown): value is Language {
  return typeof value === 'string' && (languages as readonly string[]).includes(value);
}

/** The browser's first preferred language that the UI speaks. */
export function browserLanguage(): Language {
  for (const tag of navigator.languages ?? [navigator.language]) {
    const base = tag.toLowerCase().split('-')[0];
    if (isLanguage(base)) return base;
  }
  return 'en';
}

/** The language the UI starts in: the one chosen on this browser, else the browser's. */
export function initialLanguage(): Language {
  return storedLanguage() ?? browserLanguage();
}

function storedLanguage(): Language | undefined {
  try {
    const v = localStorage.getItem(STORAGE_KEY);
    return isLanguage(v) ? v : undefined;
  } catch {
    return undefined;
  }
}

export type Translate = (key: string, vars?: Record<string, string | number>) => string;

export function translate(language: Language, key: string, vars?: Record<string, string | number>): string {
  const text = catalog[language]?.[key] ?? catalog.en[key];
  if (text === undefined) {
    if (import.meta.env.DEV) console.warn(`missing message ${key}`);
    return key;
  }
  return vars ? text.replace(/\{(\w+)\}/g, (m, name: string) => (name in vars ? String(vars[name]) : m)) : text;
}

/** Whether a message exists (any language falls back to English). */
export function hasMessage(key: string): boolean {
  return key in catalog.en;
}

interface I18nValue { language: Language; setLanguage(language: Language): void; t: Translate }
const I18nContext = createContext<I18nValue | undefined>(undefined);

// errorText() is called from event handlers too; it follows the provider's language.
let currentLanguage: Language = 'en';

export function I18nProvider({ children }: { children: ReactNode }) {
  const [language, setLanguageState] = useState<Language>(initialLanguage);
  currentLanguage = language;
  useEffect(() => {
    document.documentElement.lang = language;
  }, [language]);
  // The last language asked for: one chosen after it, but loaded sooner, must not win.
  const wanted = useRef(language);
  const setLanguage = useCallback((next: Language) => {
    try { localStorage.setItem(STORAGE_KEY, next); } catch { /* private mode: the choice lasts this page */ }
    wanted.current = next;
    // The UI changes language when its words are here; if they cannot be loaded, it speaks English meanwhile.
    const change = () => { if (wanted.current === next) setLanguageState(next); };
    loadLanguage(next).then(change, change);
  }, []);
  const t = useCallback<Translate>((key, vars) => translate(language, key, vars), [language]);
  const value = useMemo(() => ({ language, setLanguage, t }), [language, setLanguage, t]);
  return <I18nContext.Provider value={value}>{children}</I18nContext.Provider>;
}

function useI18n(): I18nValue {
  const value = useContext(I18nContext);
  if (!value) throw new Error('useT() outside <I18nProvider>');
  return value;
}

/** `t(key, vars?)` in the current language. */
export function useT(): Translate {
  return useI18n().t;
}

/** The current language and a way to change it (the account menu also saves it to the profile). */
export function useLanguage(): { language: Language; setLanguage(language: Language): void } {
  const { language, setLanguage } = useI18n();
  return { language, setLanguage };
}

/** A localized message for an API error: `shell.error.<code>` when known, else the server's own message. */
export function errorText(err: ApiError | Error | unknown): string {
  const code = (err as ApiError | undefined)?.code;
  if (typeof code === 'string' && hasMessage(`shell.error.${code}`)) return translate(currentLanguage, `shell.error.${code}`);
  const status = (err as ApiError | undefined)?.status;
  if (typeof status === 'number' && status >= 500) return translate(currentLanguage, 'shell.error.server_error');
  if (err instanceof Error && err.message) return err.message;
  return translate(currentLanguage, 'shell.error.unknown');
}

/**
 * Formats dates and numbers in the UI's language. The Intl formatters are made
 * once per language: constructing one costs far more than formatting with it,
 * and a page of the library formats hundreds of counts and dates.
 */
export function useFormat() {
  const { language } = useI18n();
  return useMemo(() => {
    const date = new Intl.DateTimeFormat(language, { dateStyle: 'medium' });
    const dateTime = new Intl.DateTimeFormat(language, { dateStyle: 'medium', timeStyle: 'short' });
    const number = new Intl.NumberFormat(language);
    const sizes = [new Intl.NumberFormat(language, { maximumFractionDigits: 0 }), new Intl.NumberFormat(language, { maximumFractionDigits: 1 })] as const;
    return {
      date: (value: string | number | Date) => date.format(new Date(value)),
      dateTime: (value: string | number | Date) => dateTime.format(new Date(value)),
      number: (value: number) => number.format(value),
      bytes: (value: number) => {
        const units = ['B', 'kB', 'MB', 'GB', 'TB'];
        let v = value; let i = 0;
        while (v >= 1000 && i < units.length - 1) { v /= 1000; i++; }
        return `${sizes[i ? 1 : 0].format(v)} ${units[i]}`;
      },
    };
  }, [language]);
}
