// What differs between identity providers: where their issuer is, and how
// each says that an email address really belongs to the person signing in.
import { AppError } from '../../../platform/errors.ts';

export const presets = ['entra', 'google', 'generic'] as const;
export type Preset = (typeof presets)[number];

export const GOOGLE_ISSUER = 'https://accounts.google.com';
const ENTRA_ISSUER = /^https:\/\/login\.microsoftonline\.com\/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\/v2\.0$/;

/** Single-tenant Entra ID: the directory's own issuer (multi-tenant "common" is not accepted). */
export const entraIssuer = (directoryId: string) => `https://login.microsoftonline.com/${directoryId.toLowerCase()}/v2.0`;

export const directoryIdOf = (issuer: string): string | null => ENTRA_ISSUER.exec(issuer)?.[1] ?? null;

const invalid = (message: string) => new AppError('invalid_sso_provider', 400, message);

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

/** Whether requests to this issuer may go over plain HTTP (a loopback IdP outside production). */
export const isLoopbackHttp = (issuer: string) => {
  const u = new URL(issuer);
  return u.protocol === 'http:' && LOOPBACK.has(u.hostname);
};

/** The issuer a provider of this preset uses; throws a 400 naming what is missing or wrong. */
export function issuerFor(input: { preset: Preset; issuer?: string; directoryId?: string }, env: string): string {
  switch (input.preset) {
    case 'entra':
      if (input.issuer) throw invalid('An Entra ID provider takes a directoryId (the directory\'s tenant id), not an issuer.');
      if (!input.directoryId) throw invalid('An Entra ID provider needs the directoryId (Directory (tenant) ID of the app registration).');
      return entraIssuer(input.directoryId);
    case 'google':
      if (input.issuer || input.directoryId) throw invalid('A Google provider takes neither an issuer nor a directoryId.');
      return GOOGLE_ISSUER;
    case 'generic':
      if (input.directoryId) throw invalid('A generic provider takes an issuer, not a directoryId.');
      if (!input.issuer) throw invalid('A generic OpenID Connect provider needs its issuer URL.');
      return checkIssuer(input.issuer, env);
  }
}

function checkIssuer(raw: string, env: string): string {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw invalid('The issuer is not a URL.');
  }
  if (u.search || u.hash || u.username || u.password) throw invalid('The issuer URL must not have a query, fragment or credentials.');
  // The IdP is trusted over TLS alone; plain HTTP only for a local test IdP.
  if (u.protocol !== 'https:' && !(env !== 'production' && isLoopbackHttp(raw))) {
    throw invalid('The issuer must be an https:// URL.');
  }
  return raw;
}

export type Claims = Record<string, unknown>;

/**
 * Whether the IdP vouches that the email address belongs to this person.
 * Entra ID sends no email_verified; its optional claim xms_edov says the
 * email's domain is verified by the directory's owner (the "nOAuth" lesson:
 * an unverified Entra email must never be trusted for linking).
 */
export function emailVerified(preset: Preset, claims: Claims): boolean {
  if (claims.email_verified === true) return true;
  return preset === 'entra' && claims.xms_edov === true;
}

/**
 * Whether the sign-in proves membership of an allowed domain (an empty list
 * allows any). For Google the email domain is not enough (a consumer account
 * can verify an address at any domain): the Workspace hosted domain (hd) must
 * be allowed too.
 */
export function domainAllowed(preset: Preset, email: string, claims: Claims, allowed: readonly string[]): boolean {
  if (allowed.length === 0) return true;
  const emailDomain = email.split('@')[1] ?? '';
  if (!allowed.includes(emailDomain)) return false;
  if (preset !== 'google') return true;
  return typeof claims.hd === 'string' && allowed.includes(claims.hd.toLowerCase());
}

/** Extra authorization request parameters a preset benefits from. */
export function authorizationHints(preset: Preset, allowedDomains: string[]): Record<string, string> {
  // Google narrows its account chooser to the one Workspace domain.
  if (preset === 'google' && allowedDomains.length === 1) return { hd: allowedDomains[0]! };
  return {};
}
