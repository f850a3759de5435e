// What access needs from identity's groups (src/modules/identity/groups/):
// which groups a member is in, and whether ids name groups of the tenant.
// Both run inside the caller's transaction, in the tenant's scope.
import type { Tx } from '../../../platform/db/database.ts';

export interface GroupDirectory {
  memberGroupIds(tx: Tx, tenantId: string, userId: string): Promise<string[]>;
  existingGroupIds(tx: Tx, tenantId: string, ids: readonly string[]): Promise<string[]>;
}
