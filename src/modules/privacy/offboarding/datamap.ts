// What offboarding keeps: dates, counts and object keys of one tenant's
// departure, and its signed certificate of deletion. No personal data: the
// certificate counts rows, it does not copy them; the download link is kept
// only as a hash.
import type { ColumnDeclaration, DataMap } from '../../../platform/datamap.ts';

const no: ColumnDeclaration = { personal: false };

export const offboardingDatamap: DataMap = {
  tenant_offboardings: {
    offboarded_tenant: no, region: no, requested_at: no, requested_via: no, grace_ends_at: no, include_media: no,
    export_key: no, export_key_wrapped: no, export_bytes: no, export_sha256: no, export_ready_at: no,
    download_token_hash: no, download_expires_at: no, downloaded_at: no,
    destroy_started_at: no, counts_before: no, destroyed_at: no, certificate: no, certificate_signature: no,
  },
};
