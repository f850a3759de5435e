// Tables the platform itself owns. None holds raw personal data: counters are
// keyed by pseudonyms of addresses and accounts.
import type { ColumnDeclaration, DataMap } from '../datamap.ts';

const no: ColumnDeclaration = { personal: false };

export const datamap: DataMap = {
  rate_limits: {
    key: {
      personal: true,
      category: 'user.device.ip_address.pseudonymous',
      subject: 'client',
      purpose: 'rate limiting and sign-in throttling (security)',
      legalBasis: 'GDPR Art. 6(1)(f) legitimate interest in keeping the service available and accounts safe',
      retention: 'one window (at most an hour), swept hourly',
      erasure: 'retain',
      retainBasis: 'A keyed pseudonym that expires within the hour; it cannot be linked to a person without the pseudonym key.',
    },
    window_start: no,
    count: no,
  },
  keyring_check: { id: no, master_key_check: no, created_at: no },
  kysely_migration: { name: no, timestamp: no },
  kysely_migration_lock: { id: no, is_locked: no },
};
