import { sql, type Kysely } from 'kysely';
import { tenantOwned } from './rls.ts';

// Caption tracks of a video: one WebVTT file per language, stored
// HVN1-encrypted with the video's data key beside its media. The row holds
// where the file is and who put it there; the cue text of all tracks is
// copied into videos.captions_text for search.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create table video_captions (
      tenant_id uuid not null references tenants(id),
      video_id uuid not null,
      -- a BCP 47 language tag in canonical form (en, sv, pt-BR, zh-Hant)
      lang text not null check (length(lang) between 2 and 35 and lang ~ '^[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*$'),
      label text not null check (length(label) between 1 and 100),
      object_key text not null,
      -- plaintext size of the WebVTT file
      bytes int not null check (bytes between 0 and 2097152),
      created_by uuid references users(id) on delete set null,
      created_at timestamptz not null default now(),
      primary key (video_id, lang),
      foreign key (tenant_id, video_id) references videos (tenant_id, id) on delete cascade
    )`.execute(db);
  await tenantOwned(db, 'video_captions');
}
