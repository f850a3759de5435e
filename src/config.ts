// Every setting Haven reads, in one schema. Sources, later winning:
// defaults → haven.config.json (or HAVEN_CONFIG) → environment variables.
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { z } from 'zod';
import { residencyConfigProblem } from './platform/storage/regions.ts';

const int = (min: number, max: number) =>
  z.coerce.number({ error: 'must be a number' }).int('must be a whole number').min(min, `must be at least ${min}`).max(max, `must be at most ${max}`);

const base64Key = z
  .string()
  .refine((s) => Buffer.from(s, 'base64').length === 32, 'must be 32 bytes, base64-encoded');

const fsStorage = z.object({
  driver: z.literal('fs').describe('Local filesystem'),
  path: z.string().optional().describe('Directory for objects; defaults to <dataDir>/storage/<region>'),
  jurisdiction: z.string().min(2).optional().describe('Jurisdiction the location lies in; must equal its region\'s (defaults to it)'),
});

const s3Storage = z.object({
  driver: z.literal('s3').describe('S3-compatible object storage'),
  bucket: z.string().min(3).describe('Bucket name'),
  endpoint: z.url().optional().describe('S3-compatible endpoint; omit for AWS'),
  region: z.string().default('us-east-1').describe('The S3 region of the bucket'),
  accessKeyId: z.string().optional().describe('Access key id; omit to use the SDK\'s default credential chain'),
  secretAccessKey: z.string().optional().describe('Secret access key (given together with accessKeyId)'),
  forcePathStyle: z.boolean().default(true).describe('Path-style URLs (needed by most S3-compatible servers)'),
  prefix: z.string().default('').describe('Key prefix for every object, e.g. haven/'),
  jurisdiction: z.string().min(2).optional().describe('Jurisdiction the bucket lies in; must equal its region\'s (defaults to it, or for AWS without endpoint to the AWS region\'s)'),
}).refine((s) => Boolean(s.accessKeyId) === Boolean(s.secretAccessKey), { message: 'accessKeyId and secretAccessKey must be given together', path: ['accessKeyId'] });

export const storageLocationSchema = z.discriminatedUnion('driver', [fsStorage, s3Storage]);
export type StorageLocationConfig = z.infer<typeof storageLocationSchema>;

const regionSchema = z.object({
  jurisdiction: z.string().min(2).describe('Legal jurisdiction of the region, e.g. EU, CH, US'),
  storage: storageLocationSchema.describe('Where the region\'s objects are stored'),
  backup: storageLocationSchema.optional().describe('Where the region\'s backups go (same shape as storage); defaults to <dataDir>/backups/<region>'),
});

/** Haven features that can hand personal data to a subprocessor (the records part's transfer rule). */
export const subprocessorFeatures = ['email', 'storage', 'sso', 'backup'] as const;
export type SubprocessorFeature = (typeof subprocessorFeatures)[number];
/** Transfer bases the platform operator may hold for every tenant (a tenant may add its own, consent included). */
export const platformTransferBases = ['scc', 'adequacy', 'bcr'] as const;

const hostName = z.string().trim().toLowerCase().regex(/^(?=.{1,253}$)([a-z0-9-]{1,63}\.)*[a-z0-9-]{1,63}$/, 'is not a host name');

const subprocessorSchema = z.object({
  name: z.string().trim().min(1).max(200).describe('Name of the provider, as in the data processing agreement'),
  purpose: z.string().trim().min(3).max(500).describe('What it does for Haven, e.g. delivering outgoing mail'),
  dataCategories: z.array(z.string().regex(/^[a-z_]+(\.[a-z_]+)+$/, 'must be a dotted data category, e.g. user.contact.email')).min(1).describe('Data categories it receives (data map vocabulary)'),
  location: z.string().regex(/^[A-Z]{2}$/, 'must be an ISO 3166 country code, e.g. DE').describe('Country where it processes the data'),
  jurisdiction: z.string().trim().min(2).toUpperCase().describe('Legal jurisdiction it is subject to, in the vocabulary of the regions (EU, CH, US, …)'),
  features: z.array(z.enum(subprocessorFeatures)).min(1).describe('Haven features that use it: email (SMTP relay), storage (S3 provider), sso (identity provider), backup'),
  hosts: z.array(hostName).default([]).describe('Host names that identify it (SSO issuer, S3 endpoint, SMTP server); a host matches itself and its subdomains'),
  transferBasis: z.enum(platformTransferBases).optional().describe('A basis the operator holds for transfers to it from every region (e.g. SCCs signed with it); without it a tenant outside its jurisdiction needs its own'),
});
export type SubprocessorConfig = z.infer<typeof subprocessorSchema>;

/** The subprocessor of a feature that a host belongs to (host or a subdomain of one of its hosts). */
export function subprocessorForHost(subprocessors: readonly SubprocessorConfig[], feature: SubprocessorFeature, host: string): SubprocessorConfig | undefined {
  const h = host.toLowerCase();
  return subprocessors.find((s) => s.features.includes(feature) && s.hosts.some((known) => h === known || h.endsWith(`.${known}`)));
}

/** The host an S3 location talks to: its endpoint, or AWS's regional endpoint. */
export function storageHost(storage: StorageLocationConfig): string | undefined {
  if (storage.driver !== 's3') return undefined;
  return storage.endpoint ? new URL(storage.endpoint).hostname : `s3.${storage.region}.amazonaws.com`;
}

export const configSchema = z
  .object({
    env: z.enum(['development', 'test', 'production']).default('development').describe('Deployment mode; production refuses unsafe settings'),
    host: z.string().min(1).default('127.0.0.1').describe('Address the HTTP server binds to'),
    port: int(0, 65535).default(8080).describe('HTTP port (0 picks a free one)'),
    publicUrl: z.url().optional().describe('External URL of Haven when behind a proxy'),
    dataDir: z.string().min(1).default('./data').describe('Directory for the embedded database, local storage and generated secrets'),
    databaseUrl: z.string().regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL').optional().describe('Use this PostgreSQL server (owner role, runs migrations) instead of the embedded one'),
    databaseAppUrl: z.string().regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL').optional().describe('Connection for request work, as a role that does not own the tables; derived when omitted'),
    embeddedDatabasePort: int(1024, 65535).default(54329).describe('Loopback port of the embedded PostgreSQL'),
    allowEmbeddedDatabaseInProduction: z.union([z.boolean(), z.stringbool()]).default(false).describe('Permit the embedded database when env is production'),
    masterKey: base64Key.optional().describe('Key that wraps tenant keys (32 bytes base64); generated into the data dir when omitted'),
    signingKey: base64Key.optional().describe('Key for signed tokens and audit checkpoints; generated when omitted'),
    pseudonymKey: base64Key.optional().describe('Key for keyed pseudonyms of emails and IPs in logs and audit; generated when omitted'),
    tlsCertFile: z.string().optional().describe('PEM certificate for built-in TLS'),
    tlsKeyFile: z.string().optional().describe('PEM private key for built-in TLS'),
    trustProxy: z.string().optional().describe('Comma-separated proxy addresses/CIDRs whose X-Forwarded-* headers are trusted'),
    bodyLimitBytes: int(1024, 64 * 1024 * 1024).default(1024 * 1024).describe('Largest JSON body accepted'),
    rateLimitPerMinute: int(1, 1_000_000).default(600).describe('Requests per client address per minute across all nodes'),
    logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info').describe('Log level'),
    jobConcurrency: int(1, 1_000_000).max(64).default(2).describe('Jobs run at once per queue by one worker'),
    workerRegion: z.string().optional().describe('Only run region-tagged jobs for this region (haven worker --region)'),
    defaultRegion: z.string().default('default').describe('Region of tenants created without one'),
    regions: z.record(z.string().regex(/^[a-z0-9-]+$/), regionSchema)
      .default({ default: { jurisdiction: 'EU', storage: { driver: 'fs' } } })
      .describe('Named regions: jurisdiction and object storage location'),
    subprocessors: z.array(subprocessorSchema).default([]).describe('Subprocessors that receive personal data (records of processing; transfers outside a tenant\'s jurisdiction need a basis)'),
    controller: z.object({
      name: z.string().trim().min(1).max(200).describe('Organization that operates this Haven installation'),
      contact: z.string().trim().min(3).max(300).describe('Contact for privacy matters (email or URL)'),
      dpo: z.string().trim().min(3).max(300).optional().describe('Data protection officer, if one is appointed'),
    }).optional().describe('The platform operator, named in the platform\'s record of processing'),
    loginFailuresPerAccount: int(3, 100).default(100).describe('Failed sign-ins per account per hour before it is locked for an hour (at most 100)'),
    loginFailuresPerAddress: int(3, 10_000).default(30).describe('Failed sign-ins per client address per 15 minutes before it is refused'),
    smtpUrl: z.string().regex(/^smtps?:\/\//, 'must be an smtp:// or smtps:// URL').optional().describe('SMTP server for outgoing mail; without it mail is written to <dataDir>/mail-outbox'),
    mailFrom: z.string().min(3).default('Haven <no-reply@haven.localhost>').describe('From address of outgoing mail'),
    auditRetentionDays: int(180, 36500).default(365).describe('Default audit trail retention (minimum 180 days)'),
    webhooksAllowPrivateTargets: z.union([z.boolean(), z.stringbool()]).default(false).describe('Let webhooks reach loopback, private and link-local addresses and plain http:// URLs (development and tests only; refused by default against SSRF)'),
    uploadExpiryHours: int(1, 24 * 30).default(24).describe('Hours an unfinished upload may sit before it and its video are removed'),
    stagingMaxAgeHours: int(1, 24 * 30).default(48).describe('Hours after which plaintext media left in a region\'s staging dir is removed even while its video is processing'),
    mediaStorageQuotaBytes: int(1, Number.MAX_SAFE_INTEGER).default(500 * 1024 ** 3).describe('Default storage quota per tenant, in bytes (originals, renditions and images)'),
    mediaMaxFileBytes: int(1, Number.MAX_SAFE_INTEGER).default(20 * 1024 ** 3).describe('Default largest upload per file, in bytes'),
    mediaMaxDurationSeconds: int(1, 24 * 3600).default(4 * 3600).describe('Default longest accepted recording, in seconds'),
    mediaReplacedLadderGraceSeconds: int(10, 24 * 3600).default(30).describe('Seconds the previous ladder of a replaced source stays after the new ladder is ready, so players that started on it finish what they buffered (at least 10: longer than delivery caches a master playlist)'),
    transcodeRenditionsPerJob: int(1, 16).default(8).describe('Renditions one transcode job encodes in one ffmpeg run (the lowest always alone, first); each job decodes the source once, so fewer jobs use less CPU, more jobs spread over more workers'),
    transcodePreset: z.enum(['ultrafast', 'superfast', 'veryfast', 'faster', 'fast', 'medium', 'slow']).default('veryfast').describe('libx264 preset of the renditions'),
    playbackTokenTtlSeconds: int(30, 24 * 3600).default(3600).describe('Lifetime of a playback token in seconds (playlists, segments, key and images are served under it; the key endpoint also rechecks the grant)'),
    playbackOffload: z.enum(['none', 'x-accel-redirect', 'x-sendfile']).default('none').describe('Let a reverse proxy send segment bytes after Haven checked the token: none, x-accel-redirect (nginx) or x-sendfile (Apache, lighttpd); filesystem storage only'),
    playbackOffloadPrefix: z.string().regex(/^\/[A-Za-z0-9_\/-]*\/$/, 'must be a path starting and ending with /').default('/_haven_media/').describe('Internal location the proxy maps to the storage root, for x-accel-redirect'),
    analyticsBeaconsPerMinutePerPlayback: int(1, 100_000).default(120).describe('View beacons one playback may send per minute per node before 429 (a player sends a few)'),
    analyticsBeaconsPerMinutePerAddress: int(1, 10_000_000).default(20_000).describe('View beacons one client address may send per minute per node before 429 (offices behind one NAT share an address)'),
    offboardingGraceDays: int(0, 365).default(30).describe('Days an offboarded tenant stays read-only with its export downloadable before everything it has is destroyed'),
    backupSchedule: z.string().regex(/^(off|\S+( \S+){4})$/, 'must be a five-field cron expression, or off').default('7 * * * *').describe('When scheduled backups run (cron, UTC); each run makes one backup, tiered hourly/daily/weekly, and prunes expired ones; off when backups are made by other means'),
    backupHourlyRetentionHours: int(1, 24 * 31).default(24).describe('Hours an hourly backup is kept'),
    backupDailyRetentionDays: int(1, 31).default(7).describe('Days a daily backup (the first of each UTC day) is kept'),
    backupWeeklyRetentionDays: int(1, 31).default(30).describe('Days a weekly backup (the first of each ISO week) is kept; at most 31, so no copy of deleted data outlives a month'),
    backupWalArchive: z.enum(['on', 'off']).default('on').describe('Embedded database only: archive every finished WAL segment, encrypted, into the default region\'s backup location, and make a base backup with each daily/weekly backup, for haven backup restore --at TIME (costs the WAL volume in backup storage, kept as long as the oldest base backup)'),
    backupWalArchiveTimeoutSeconds: int(10, 3600).default(60).describe('Embedded database with WAL archiving: a segment is archived at least this often when anything was written, bounding what a point-in-time restore can lose'),
    analyticsFlushIntervalMs: int(20, 10_000).default(200).describe('Milliseconds between writes of buffered view beacons to the database; a crash loses at most this much'),
  })
  .superRefine((c, ctx) => {
    const names = c.subprocessors.map((s) => s.name.toLowerCase());
    names.forEach((n, i) => { if (names.indexOf(n) !== i) ctx.addIssue({ code: 'custom', path: ['subprocessors', i, 'name'], message: `${c.subprocessors[i]!.name} is declared twice` }); });
    // A region whose storage provider is a subprocessor of another jurisdiction transfers every tenant's media there.
    for (const [name, region] of Object.entries(c.regions)) {
      const host = storageHost(region.storage);
      const provider = host ? subprocessorForHost(c.subprocessors, 'storage', host) : undefined;
      if (provider && provider.jurisdiction !== region.jurisdiction.toUpperCase() && !provider.transferBasis) {
        ctx.addIssue({ code: 'custom', path: ['regions', name, 'storage'], message: `stores in ${provider.name} (${provider.jurisdiction}), outside the region's jurisdiction ${region.jurisdiction}; declare the subprocessor's transferBasis (${platformTransferBases.join(', ')}) or store in ${region.jurisdiction}` });
      }
    }
    if (!(c.defaultRegion in c.regions)) {
      ctx.addIssue({ code: 'custom', path: ['defaultRegion'], message: `names no configured region (have: ${Object.keys(c.regions).join(', ')})` });
    }
    if (Boolean(c.tlsCertFile) !== Boolean(c.tlsKeyFile)) {
      ctx.addIssue({ code: 'custom', path: ['tlsCertFile'], message: 'tlsCertFile and tlsKeyFile must be given together' });
    }
    const residency = residencyConfigProblem(c);
    if (residency) ctx.addIssue({ code: 'custom', path: ['regions'], message: residency });
    if (c.playbackOffload !== 'none') {
      const s3 = Object.entries(c.regions).find(([, r]) => r.storage.driver !== 'fs');
      if (s3) ctx.addIssue({ code: 'custom', path: ['playbackOffload'], message: `${c.playbackOffload} needs filesystem storage, but region ${s3[0]} stores in ${s3[1].storage.driver}; use none` });
    }
  });

export type Config = z.infer<typeof configSchema>;

/** Environment variable for each top-level key. */
export const envNames: Record<keyof Config, string> = {
  env: 'HAVEN_ENV',
  host: 'HAVEN_HOST',
  port: 'HAVEN_PORT',
  publicUrl: 'HAVEN_PUBLIC_URL',
  dataDir: 'HAVEN_DATA_DIR',
  databaseUrl: 'DATABASE_URL',
  databaseAppUrl: 'HAVEN_DATABASE_APP_URL',
  embeddedDatabasePort: 'HAVEN_EMBEDDED_DB_PORT',
  allowEmbeddedDatabaseInProduction: 'HAVEN_ALLOW_EMBEDDED_DB_IN_PRODUCTION',
  masterKey: 'HAVEN_MASTER_KEY',
  signingKey: 'HAVEN_SIGNING_KEY',
  pseudonymKey: 'HAVEN_PSEUDONYM_KEY',
  tlsCertFile: 'HAVEN_TLS_CERT_FILE',
  tlsKeyFile: 'HAVEN_TLS_KEY_FILE',
  trustProxy: 'HAVEN_TRUST_PROXY',
  bodyLimitBytes: 'HAVEN_BODY_LIMIT_BYTES',
  rateLimitPerMinute: 'HAVEN_RATE_LIMIT_PER_MINUTE',
  logLevel: 'HAVEN_LOG_LEVEL',
  jobConcurrency: 'HAVEN_JOB_CONCURRENCY',
  workerRegion: 'HAVEN_WORKER_REGION',
  defaultRegion: 'HAVEN_DEFAULT_REGION',
  regions: 'HAVEN_REGIONS',
  subprocessors: 'HAVEN_SUBPROCESSORS',
  controller: 'HAVEN_CONTROLLER',
  loginFailuresPerAccount: 'HAVEN_LOGIN_FAILURES_PER_ACCOUNT',
  loginFailuresPerAddress: 'HAVEN_LOGIN_FAILURES_PER_ADDRESS',
  smtpUrl: 'HAVEN_SMTP_URL',
  mailFrom: 'HAVEN_MAIL_FROM',
  auditRetentionDays: 'HAVEN_AUDIT_RETENTION_DAYS',
  webhooksAllowPrivateTargets: 'HAVEN_WEBHOOKS_ALLOW_PRIVATE_TARGETS',
  uploadExpiryHours: 'HAVEN_UPLOAD_EXPIRY_HOURS',
  stagingMaxAgeHours: 'HAVEN_STAGING_MAX_AGE_HOURS',
  mediaStorageQuotaBytes: 'HAVEN_MEDIA_STORAGE_QUOTA_BYTES',
  mediaMaxFileBytes: 'HAVEN_MEDIA_MAX_FILE_BYTES',
  mediaMaxDurationSeconds: 'HAVEN_MEDIA_MAX_DURATION_SECONDS',
  mediaReplacedLadderGraceSeconds: 'HAVEN_MEDIA_REPLACED_LADDER_GRACE_SECONDS',
  transcodeRenditionsPerJob: 'HAVEN_TRANSCODE_RENDITIONS_PER_JOB',
  transcodePreset: 'HAVEN_TRANSCODE_PRESET',
  playbackTokenTtlSeconds: 'HAVEN_PLAYBACK_TOKEN_TTL_SECONDS',
  playbackOffload: 'HAVEN_PLAYBACK_OFFLOAD',
  playbackOffloadPrefix: 'HAVEN_PLAYBACK_OFFLOAD_PREFIX',
  analyticsBeaconsPerMinutePerPlayback: 'HAVEN_ANALYTICS_BEACONS_PER_MINUTE_PER_PLAYBACK',
  analyticsBeaconsPerMinutePerAddress: 'HAVEN_ANALYTICS_BEACONS_PER_MINUTE_PER_ADDRESS',
  analyticsFlushIntervalMs: 'HAVEN_ANALYTICS_FLUSH_INTERVAL_MS',
  offboardingGraceDays: 'HAVEN_OFFBOARDING_GRACE_DAYS',
  backupSchedule: 'HAVEN_BACKUP_SCHEDULE',
  backupHourlyRetentionHours: 'HAVEN_BACKUP_HOURLY_RETENTION_HOURS',
  backupDailyRetentionDays: 'HAVEN_BACKUP_DAILY_RETENTION_DAYS',
  backupWeeklyRetentionDays: 'HAVEN_BACKUP_WEEKLY_RETENTION_DAYS',
  backupWalArchive: 'HAVEN_BACKUP_WAL_ARCHIVE',
  backupWalArchiveTimeoutSeconds: 'HAVEN_BACKUP_WAL_ARCHIVE_TIMEOUT_SECONDS',
};

const jsonEnvKeys = new Set<keyof Config>(['regions', 'subprocessors', 'controller']);

export class ConfigError extends Error {}

/** Reads configuration; throws ConfigError with one line naming the key. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, overrides: Partial<Record<keyof Config, unknown>> = {}): Config {
  const raw: Record<string, unknown> = { ...readConfigFile(env) };
  for (const [key, name] of Object.entries(envNames) as [keyof Config, string][]) {
    const value = env[name];
    if (value === undefined || value === '') continue;
    raw[key] = jsonEnvKeys.has(key) ? parseJsonEnv(name, value) : value;
  }
  Object.assign(raw, Object.fromEntries(Object.entries(overrides).filter(([, v]) => v !== undefined)));
  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const path = issue.path.join('.');
    const top = issue.path[0] as keyof Config | undefined;
    const source = top && envNames[top] ? ` (${envNames[top]})` : '';
    throw new ConfigError(`invalid configuration: ${path || 'config'}${source}: ${issue.message}`);
  }
  const config = parsed.data;
  config.dataDir = resolve(config.dataDir);
  return config;
}

function readConfigFile(env: NodeJS.ProcessEnv): Record<string, unknown> {
  const file = env.HAVEN_CONFIG ?? 'haven.config.json';
  if (!existsSync(file)) {
    if (env.HAVEN_CONFIG) throw new ConfigError(`invalid configuration: HAVEN_CONFIG: file ${file} does not exist`);
    return {};
  }
  try {
    const value: unknown = JSON.parse(readFileSync(file, 'utf8'));
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error('expected a JSON object');
    return value as Record<string, unknown>;
  } catch (err) {
    throw new ConfigError(`invalid configuration: ${file}: ${(err as Error).message}`);
  }
}

function parseJsonEnv(name: string, value: string): unknown {
  try {
    return JSON.parse(value);
  } catch {
    throw new ConfigError(`invalid configuration: ${name}: not valid JSON`);
  }
}

/** Settings that are unsafe in production; returns the first problem, if any. */
export function productionProblem(config: Config, generatedSecrets: string[]): string | undefined {
  if (config.env !== 'production') return undefined;
  if (generatedSecrets.length > 0) {
    return `refusing to start in production with generated secrets (${generatedSecrets.join(', ')}); set ${generatedSecrets.map((s) => envNames[s as keyof Config]).join(', ')}`;
  }
  if (!config.tlsCertFile && !config.trustProxy) {
    return 'refusing to serve plain HTTP in production; set HAVEN_TLS_CERT_FILE/HAVEN_TLS_KEY_FILE or HAVEN_TRUST_PROXY for a TLS-terminating proxy';
  }
  if (!config.smtpUrl) {
    return 'refusing to start in production without mail (HAVEN_SMTP_URL): resets, invitations and data-subject codes could not be delivered';
  }
  if (!config.databaseUrl && !config.allowEmbeddedDatabaseInProduction) {
    return 'refusing the embedded database in production; set DATABASE_URL or HAVEN_ALLOW_EMBEDDED_DB_IN_PRODUCTION=true';
  }
  return undefined;
}
