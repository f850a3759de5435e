// The messages identity and privacy send, in every language Haven speaks.
// Each locale writes a template as plain blocks of copy; this file turns the
// blocks into a text body and an HTML body. Because the HTML renderer escapes
// every block, a variable (a display name, a tenant name) can never become
// markup, whichever locale interpolated it.
import { de } from './locales/de.ts';
import { en } from './locales/en.ts';
import { fi } from './locales/fi.ts';
import { sv } from './locales/sv.ts';

export interface EmailVars {
  invitation: { inviterName: string; tenantName: string; acceptUrl: string; expiresAt: Date };
  verify_email: { verifyUrl: string };
  password_reset: { resetUrl: string; validMinutes: number };
  account_locked: { lockedUntil: Date; resetUrl: string };
  /** network is the keyed pseudonym of the IP address, never the address itself. */
  new_login: { at: Date; browser: string; network: string };
  dsar_code: { code: string; validMinutes: number };
  export_ready: { downloadUrl: string; expiresAt: Date };
}
export type EmailTemplate = keyof EmailVars;
export const emailTemplates = ['invitation', 'verify_email', 'password_reset', 'account_locked', 'new_login', 'dsar_code', 'export_ready'] as const satisfies readonly EmailTemplate[];

/** A paragraph (newlines become line breaks), a call-to-action link, or a one-time code shown large. */
export type Block = string | { label: string; url: string } | { code: string };
export interface Letter { subject: string; blocks: Block[] }

/** Formats values the way the reader's language writes them. */
export interface Formats {
  /** Date and time in UTC, with the zone named. */
  date(value: Date): string;
  minutes(count: number): string;
}

type Templates = { readonly [T in EmailTemplate]: (vars: EmailVars[T], f: Formats) => Letter };
export type Locale = Templates & { readonly footer: string };

export const languages = { en, sv, fi, de } as const satisfies Record<string, Locale>;
export type Language = keyof typeof languages;

export interface RenderedEmail { subject: string; text: string; html: string }

/** Picks the language from a tag such as "sv-SE"; anything Haven does not speak falls back to English. */
export function emailLanguage(tag: string | undefined): Language {
  const primary = (tag ?? '').trim().toLowerCase().split(/[-_]/)[0] ?? '';
  return Object.hasOwn(languages, primary) ? (primary as Language) : 'en';
}

export function renderEmail<T extends EmailTemplate>(template: T, lang: string | undefined, vars: EmailVars[T]): RenderedEmail {
  const language = emailLanguage(lang);
  const locale: Locale = languages[language];
  const write: Templates[T] = locale[template];
  const letter = write(vars, formatsFor(language));
  // A name with a line break must not turn into a second header line.
  const subject = letter.subject.replace(/\s+/g, ' ').trim();
  return {
    subject,
    text: renderText(letter.blocks, locale.footer),
    html: renderHtml(language, subject, letter.blocks, locale.footer),
  };
}

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => ENTITIES[c]!);
}

function formatsFor(language: Language): Formats {
  const date = new Intl.DateTimeFormat(language, {
    year: 'numeric', month: 'long', day: 'numeric', hour: 'numeric', minute: '2-digit', timeZone: 'UTC', timeZoneName: 'short',
  });
  const minutes = new Intl.NumberFormat(language, { style: 'unit', unit: 'minute', unitDisplay: 'long' });
  return { date: (d) => date.format(d), minutes: (n) => minutes.format(n) };
}

function renderText(blocks: Block[], footer: string): string {
  const parts = blocks.map((b) => (typeof b === 'string' ? b : 'code' in b ? `    ${b.code}` : `${b.label}:\n${safeUrl(b.url)}`));
  return `${[...parts, '--', footer].join('\n\n')}\n`;
}

// Plain, self-contained HTML: no scripts, stylesheets, fonts or images to fetch.
function renderHtml(language: Language, subject: string, blocks: Block[], footer: string): string {
  const paragraph = (text: string, style = '') => `<p${style && ` style="${style}"`}>${escapeHtml(text).replaceAll('\n', '<br>')}</p>`;
  const body = blocks.map((b) => {
    if (typeof b === 'string') return paragraph(b);
    if ('code' in b) return paragraph(b.code, 'font-size:28px;font-weight:bold;letter-spacing:4px;font-family:monospace');
    const url = escapeHtml(safeUrl(b.url));
    // The URL is repeated as text for mail clients that strip links.
    return `<p><a href="${url}" style="font-weight:bold">${escapeHtml(b.label)}</a></p>\n<p style="font-size:13px;color:#555;word-break:break-all">${url}</p>`;
  });
  return [
    '<!doctype html>',
    `<html lang="${language}">`,
    `<head><meta charset="utf-8"><title>${escapeHtml(subject)}</title></head>`,
    '<body style="font-family:sans-serif;line-height:1.5;color:#222;max-width:600px">',
    ...body,
    '<hr>',
    paragraph(footer, 'font-size:12px;color:#777'),
    '</body>',
    '</html>',
    '',
  ].join('\n');
}

// Escaping keeps a URL inside its attribute, but a javascript: URL would still
// be a link; only web links are ever sent.
function safeUrl(url: string): string {
  const { protocol } = new URL(url);
  if (protocol !== 'https:' && protocol !== 'http:') throw new Error(`refusing to put a ${protocol} link into an email`);
  return url;
}
