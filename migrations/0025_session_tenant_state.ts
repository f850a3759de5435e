import { sql, type Kysely } from 'kysely';

// The session lookup also answers whether the session's tenant is in the
// trash (deleted or purged), so the trash and offboarding rules ("a deleted
// tenant answers nothing", "an offboarded tenant is read-only") read the
// tenant's state from the request context instead of asking the database
// again on every request. The result gains a column, so the function is
// replaced (CREATE OR REPLACE cannot change a function's result type).
export async function up(db: Kysely<any>): Promise<void> {
  await sql`drop function haven_session_lookup(bytea)`.execute(db);
  await sql`
    create function haven_session_lookup(p_token_hash bytea)
    returns table (
      id uuid, user_id uuid, tenant_id uuid, created_at timestamptz, last_seen_at timestamptz, expires_at timestamptz,
      idle_timeout_seconds int, mfa_at timestamptz, reauth_at timestamptz, user_status text, platform_roles text[],
      preferred_language text, role text, tenant_status text, tenant_deleted boolean, tenant_settings jsonb, tenant_security_level text,
      second_factor boolean, pending_consents int
    )
    language plpgsql stable security invoker as $$
    declare
      previous_scope text := coalesce(current_setting('app.scope', true), '');
    begin
      perform set_config('app.scope', 'platform', true);
      return query
        select s.id, s.user_id, s.tenant_id, s.created_at, s.last_seen_at, s.expires_at, s.idle_timeout_seconds, s.mfa_at, s.reauth_at,
               u.status, u.platform_roles, u.preferred_language,
               m.role, t.status, (t.deleted_at is not null or t.purged_at is not null), t.settings, t.security_level,
               (u.totp_enabled_at is not null or exists (select 1 from webauthn_credentials c where c.user_id = u.id)),
               (select count(*)::int from consent_documents d
                 where (d.tenant_id is null or d.tenant_id = s.tenant_id)
                   and d.version = (select max(d2.version) from consent_documents d2 where d2.tenant_id is not distinct from d.tenant_id and d2.kind = d.kind)
                   and (d.audience = 'all' or m.role = 'owner')
                   and coalesce((select r.decision from consent_records r where r.user_id = s.user_id and r.document_id = d.id order by r.recorded_at desc limit 1), '') <> 'accepted')
        from sessions s
        join users u on u.id = s.user_id
        left join memberships m on m.tenant_id = s.tenant_id and m.user_id = s.user_id and m.status = 'active'
        left join tenants t on t.id = s.tenant_id
        where s.token_hash = p_token_hash and s.revoked_at is null;
      perform set_config('app.scope', previous_scope, true);
    end
    $$`.execute(db);
}
