// Caption tracks: one WebVTT file per language and video, validated on the
// way in, stored HVN1-encrypted with the video's data key next to its media
// (so crypto-shredding the video shreds its captions), served to players
// under a playback token. The words of every track are copied into
// videos.captions_text, which the library's search reads.
import { decryptBuffer, encryptBuffer, encryptedSize } from '../../../platform/crypto/stream.ts';
import type { Tx } from '../../../platform/db/database.ts';
import { AppError, notFound } from '../../../platform/errors.ts';
import type { Platform } from '../../../platform/platform.ts';
import type { AuditService } from '../../audit/service.ts';
import { actorUserId, type RequestContext } from '../../identity/actor.ts';
import { authorize } from '../../identity/access.ts';
import { ensureVideoKeys, videoKeys } from '../../media/keys.ts';
import { videoPrefix } from '../../media/objects.ts';
import type { PlaybackGrant } from '../contracts.ts';
import { parseWebVtt, spokenText } from './webvtt.ts';

export const CAPTIONS_MAX_BYTES = 2 * 1024 * 1024;
export const MAX_TRACKS_PER_VIDEO = 50;
/** videos.captions_text holds at most this many characters (its check constraint). */
const CAPTIONS_TEXT_MAX = 2_000_000;

export interface CaptionTrack {
  lang: string;
  label: string;
  bytes: number;
  createdBy: string | null;
  createdAt: Date;
}

export interface PlayerCaptionTrack { lang: string; label: string; url: string }

export const captionObjectKey = (tenantId: string, videoId: string, lang: string) => `${videoPrefix(tenantId, videoId)}captions/${lang}.vtt.hvn`;

/** The canonical BCP 47 form of a language tag (sv-se → sv-SE), or 400 invalid_language. */
export function canonicalLanguage(raw: string): string {
  let tag: string | undefined;
  try {
    tag = raw.length <= 35 ? Intl.getCanonicalLocales(raw)[0] : undefined;
  } catch {
    tag = undefined;
  }
  if (!tag || !/^[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*$/.test(tag)) {
    throw new AppError('invalid_language', 400, `"${raw.slice(0, 40)}" is not a BCP 47 language tag (such as en, sv, pt-BR).`);
  }
  return tag;
}

/** The language's own name for itself ("svenska", "Deutsch"), as the default label. */
export function languageLabel(lang: string): string {
  try {
    const name = new Intl.DisplayNames([lang], { type: 'language' }).of(lang);
    if (name && name !== lang) return name.charAt(0).toLocaleUpperCase(lang) + name.slice(1);
  } catch { /* fall through */ }
  return lang;
}

const toTrack = (r: Record<string, any>): CaptionTrack => ({ lang: r.lang, label: r.label, bytes: r.bytes, createdBy: r.created_by, createdAt: r.created_at });

async function videoRegion(tx: Tx, videoId: string, lock = false): Promise<string> {
  let q = tx.selectFrom('videos').select('region').where('id', '=', videoId);
  if (lock) q = q.forUpdate();
  const row = await q.executeTakeFirst();
  if (!row) throw notFound('video');
  return row.region as string;
}

async function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

export function createCaptionService(platform: Platform, audit: AuditService) {
  const { db, keyring, storage } = platform;

  async function readTrack(region: string, objectKey: string, dataKey: Buffer): Promise<string> {
    return decryptBuffer(dataKey, await readAll(await storage.forRegion(region).get(objectKey))).toString('utf8');
  }

  /**
   * Rewrites videos.captions_text from every track, the one just written
   * given as text (the others are read back from storage). Runs inside the
   * transaction that holds the video's row lock.
   */
  async function refreshCaptionsText(tx: Tx, tenantId: string, videoId: string, region: string, dataKey: Buffer, fresh?: { lang: string; text: string }): Promise<void> {
    const rows = await tx.selectFrom('video_captions').select(['lang', 'object_key']).where('video_id', '=', videoId).orderBy('lang').execute();
    const parts: string[] = [];
    for (const r of rows) {
      if (fresh && r.lang === fresh.lang) parts.push(fresh.text);
      else parts.push(spokenText(parseWebVtt(await readTrack(region, r.object_key, dataKey))));
    }
    const text = parts.filter(Boolean).join('\n\n').slice(0, CAPTIONS_TEXT_MAX);
    await tx.updateTable('videos').set({ captions_text: text }).where('tenant_id', '=', tenantId).where('id', '=', videoId).execute();
  }

  return {
    async list(ctx: RequestContext, videoId: string): Promise<CaptionTrack[]> {
      authorize(ctx, 'videos:read');
      return db.withTenant(ctx.tenantId, async (tx) => {
        await videoRegion(tx, videoId);
        const rows = await tx.selectFrom('video_captions').selectAll().where('video_id', '=', videoId).orderBy('lang').execute();
        return rows.map(toTrack);
      });
    },

    /** Adds or replaces the video's track in one language. */
    async put(ctx: RequestContext, videoId: string, rawLang: string, body: string, label?: string): Promise<{ track: CaptionTrack; created: boolean }> {
      authorize(ctx, 'videos:write');
      const tenantId = ctx.tenantId;
      const lang = canonicalLanguage(rawLang);
      // The video must exist in this tenant before anything about the file is said (or keys are made for it).
      await db.withTenant(tenantId, (tx) => videoRegion(tx, videoId));
      const bytes = Buffer.byteLength(body, 'utf8');
      if (bytes > CAPTIONS_MAX_BYTES) throw new AppError('captions_too_large', 413, `A caption file may be at most ${CAPTIONS_MAX_BYTES / 1024 / 1024} MiB.`);
      const cues = parseWebVtt(body);
      const text = spokenText(cues);
      const trackLabel = (label ?? '').trim() || languageLabel(lang);
      if (trackLabel.length > 100) throw new AppError('invalid_label', 400, 'A caption label may be at most 100 characters.');
      const { dataKey } = await ensureVideoKeys(db, keyring, tenantId, videoId);
      try {
        return await db.withTenant(tenantId, async (tx) => {
          // The row lock serializes caption writes of one video, so captions_text matches the tracks.
          const region = await videoRegion(tx, videoId, true);
          const existing = await tx.selectFrom('video_captions').select(['bytes']).where('video_id', '=', videoId).where('lang', '=', lang).executeTakeFirst();
          if (!existing) {
            const { count } = await tx.selectFrom('video_captions').select((eb) => eb.fn.countAll<number>().as('count')).where('video_id', '=', videoId).executeTakeFirstOrThrow();
            if (Number(count) >= MAX_TRACKS_PER_VIDEO) throw new AppError('too_many_caption_tracks', 409, `A video may have at most ${MAX_TRACKS_PER_VIDEO} caption tracks.`);
          }
          const objectKey = captionObjectKey(tenantId, videoId, lang);
          const ciphertext = encryptBuffer(dataKey, Buffer.from(body, 'utf8'));
          await storage.forRegion(region).put(objectKey, ciphertext, { contentType: 'application/octet-stream' });
          const row = await tx.insertInto('video_captions')
            .values({ tenant_id: tenantId, video_id: videoId, lang, label: trackLabel, object_key: objectKey, bytes, created_by: actorUserId(ctx.actor) ?? null, created_at: new Date() })
            .onConflict((oc) => oc.columns(['video_id', 'lang']).doUpdateSet({ label: trackLabel, object_key: objectKey, bytes, created_by: actorUserId(ctx.actor) ?? null, created_at: new Date() }))
            .returningAll().executeTakeFirstOrThrow();
          const delta = ciphertext.length - (existing ? encryptedSize(Number(existing.bytes)) : 0);
          await tx.updateTable('videos').set((eb) => ({ stored_bytes: eb('stored_bytes', '+', delta) })).where('id', '=', videoId).execute();
          await refreshCaptionsText(tx, tenantId, videoId, region, dataKey, { lang, text });
          await audit.record(tx, ctx, {
            action: 'video.captions.update', target: { type: 'video', id: videoId },
            details: { lang, label: trackLabel, bytes, cues: cues.length, replaced: Boolean(existing) },
          });
          return { track: toTrack(row), created: !existing };
        });
      } finally {
        dataKey.fill(0);
      }
    },

    async remove(ctx: RequestContext, videoId: string, rawLang: string): Promise<void> {
      authorize(ctx, 'videos:write');
      const tenantId = ctx.tenantId;
      const lang = canonicalLanguage(rawLang);
      const { region, objectKey } = await db.withTenant(tenantId, async (tx) => {
        const region = await videoRegion(tx, videoId, true);
        const row = await tx.deleteFrom('video_captions').where('video_id', '=', videoId).where('lang', '=', lang).returning(['object_key', 'bytes']).executeTakeFirst();
        if (!row) throw new AppError('captions_not_found', 404, `The video has no captions in "${lang}".`);
        const keys = await videoKeys(tx, keyring, tenantId, videoId);
        if (keys) {
          try {
            await refreshCaptionsText(tx, tenantId, videoId, region, keys.dataKey);
          } finally {
            keys.dataKey.fill(0);
            keys.hlsKey.fill(0);
          }
        }
        const stored = encryptedSize(Number(row.bytes));
        await tx.updateTable('videos').set((eb) => ({ stored_bytes: eb('stored_bytes', '-', stored) })).where('id', '=', videoId).where('stored_bytes', '>=', stored).execute();
        await audit.record(tx, ctx, { action: 'video.captions.delete', target: { type: 'video', id: videoId }, details: { lang } });
        return { region, objectKey: row.object_key as string };
      });
      await storage.forRegion(region).delete(objectKey).catch((err) => platform.log.error({ err, objectKey }, 'could not remove a deleted caption track\'s object'));
    },

    /** The tracks a player gets with a playback token (for the delivery part's GET /playback). */
    async captionTracks(tenantId: string, videoId: string, token: string): Promise<PlayerCaptionTrack[]> {
      const rows = await db.withTenant(tenantId, (tx) =>
        tx.selectFrom('video_captions').select(['lang', 'label']).where('tenant_id', '=', tenantId).where('video_id', '=', videoId).orderBy('lang').execute());
      return rows.map((r) => ({ lang: r.lang, label: r.label, url: `/play/${token}/captions/${r.lang}.vtt` }));
    },

    /** A track's WebVTT, decrypted, for a verified grant (the /play/<token>/captions route). */
    async openForGrant(grant: PlaybackGrant, rawLang: string): Promise<string> {
      let lang: string;
      try { lang = canonicalLanguage(rawLang); } catch { throw new AppError('captions_not_found', 404, 'The video has no captions in that language.'); }
      const found = await db.withTenant(grant.tenantId, async (tx) => {
        const row = await tx.selectFrom('video_captions as c').innerJoin('videos as v', 'v.id', 'c.video_id')
          .select(['c.object_key', 'v.region']).where('c.video_id', '=', grant.videoId).where('c.lang', '=', lang).executeTakeFirst();
        if (!row) return undefined;
        const keys = await videoKeys(tx, keyring, grant.tenantId, grant.videoId);
        return keys && { row, keys };
      });
      if (!found) throw new AppError('captions_not_found', 404, 'The video has no captions in that language.');
      try {
        return await readTrack(found.row.region as string, found.row.object_key as string, found.keys.dataKey);
      } finally {
        found.keys.dataKey.fill(0);
        found.keys.hlsKey.fill(0);
      }
    },
  };
}

export type CaptionService = ReturnType<typeof createCaptionService>;
