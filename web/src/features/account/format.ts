// Small presentation helpers shared by the account pages.

/** "Chrome on Linux" from a User-Agent header; undefined when there is none. */
export function describeUserAgent(ua: string | null | undefined): string | undefined {
  if (!ua) return undefined;
  const browser = /Edg\//.test(ua) ? 'Edge' : /Firefox\//.test(ua) ? 'Firefox' : /Chrom(e|ium)\//.test(ua) ? 'Chrome' : /Safari\//.test(ua) ? 'Safari' : /curl|node|undici/i.test(ua) ? 'API client' : undefined;
  const os = /Windows/.test(ua) ? 'Windows' : /Android/.test(ua) ? 'Android' : /iPhone|iPad/.test(ua) ? 'iOS' : /Mac OS X/.test(ua) ? 'macOS' : /Linux/.test(ua) ? 'Linux' : undefined;
  if (browser && os) return `${browser} · ${os}`;
  return browser ?? os ?? ua.slice(0, 60);
}

/** The secret of an otpauth:// URI, grouped in fours for reading aloud or typing. */
export function groupSecret(secret: string): string {
  return secret.replace(/(.{4})(?=.)/g, '$1 ');
}

/** base64url ⇄ bytes, for WebAuthn's JSON forms. */
export function fromBase64url(value: string): ArrayBuffer {
  const base64 = value.replace(/-/g, '+').replace(/_/g, '/').padEnd(Math.ceil(value.length / 4) * 4, '=');
  const bin = atob(base64);
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  return bytes.buffer;
}

export function toBase64url(buffer: ArrayBuffer | ArrayBufferView): string {
  const bytes = buffer instanceof ArrayBuffer ? new Uint8Array(buffer) : new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  let bin = '';
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

const factValue = (v: unknown): string => (v === null || v === undefined ? '—' : typeof v === 'object' ? JSON.stringify(v) : String(v));

/**
 * An audit entry's recorded facts in one line: changed fields as
 * "role: viewer → editor", details as "category: personal_data".
 */
export function describeAuditFacts(diff: unknown, details: unknown): string {
  const parts: string[] = [];
  if (diff && typeof diff === 'object') {
    for (const [field, change] of Object.entries(diff as Record<string, unknown>)) {
      const c = change as { from?: unknown; to?: unknown } | null;
      parts.push(c && typeof c === 'object' && ('from' in c || 'to' in c) ? `${field}: ${factValue(c.from)} → ${factValue(c.to)}` : `${field}: ${factValue(change)}`);
    }
  }
  if (details && typeof details === 'object') {
    for (const [key, value] of Object.entries(details as Record<string, unknown>)) parts.push(`${key}: ${factValue(value)}`);
  }
  return parts.join(', ');
}
