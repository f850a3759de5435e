// How a part of the web app plugs into the shell: its routes (lazy, so each
// page's code loads only when visited), its navigation entries and its
// messages in every language the UI speaks. The shell (web/src/app/) reads
// the list in index.ts; features never import each other's pages.
import type { ComponentType } from 'react';

export const languages = ['en', 'sv', 'fi', 'de'] as const;
export type Language = (typeof languages)[number];

/** Message key → text; `{name}` placeholders are filled by the shell's t(key, {name}). */
export type Messages = Record<string, string>;

/**
 * English comes with the app's code (every message falls back to it); each
 * other language is a chunk of its own, loaded when the UI first speaks it,
 * so nobody downloads the three languages they do not read.
 */
export type FeatureMessages = { en: Messages } & Record<Exclude<Language, 'en'>, () => Promise<Messages>>;

export type NavSection = 'library' | 'admin' | 'privacy' | 'account';
export type Role = 'owner' | 'admin' | 'editor' | 'viewer';

export interface FeatureRoute {
  /** react-router path under `/`, e.g. `library`, `videos/:id`, `admin/users`. */
  path: string;
  /** The page, loaded on first visit. */
  page: () => Promise<{ default: ComponentType }>;
  /** The API GETs the page makes first, for a visit that starts on it: fetched at boot with its code. */
  firstRequests?: (at: { params: Record<string, string | undefined>; search: URLSearchParams }) => string[];
  /** Who may open it (default: any signed-in member); platform routes say `platform: true`. */
  roles?: Role[];
  platform?: boolean;
  /** Reachable without signing in (sign-in, password reset, invitation, public landing). */
  public?: boolean;
}

export interface NavEntry { section: NavSection; to: string; label: string; roles?: Role[]; platform?: boolean }

export interface Feature {
  id: string;
  routes: FeatureRoute[];
  nav: NavEntry[];
  /** The feature's messages per language; keys are prefixed with the feature id (`library.upload.title`). */
  messages: FeatureMessages;
}
