// Maintenance notices hold the operator's announcement and who published it.
import type { ColumnDeclaration, DataMap } from '../../platform/datamap.ts';

const no: ColumnDeclaration = { personal: false };

export const datamap: DataMap = {
  platform_notices: {
    id: no,
    // The operator's announcement to every user ("Maintenance on Sunday 02:00–04:00"), not about a person.
    message: no,
    severity: no, starts_at: no, ends_at: no,
    created_by: {
      personal: true,
      category: 'user.unique_id',
      subject: 'created_by',
      purpose: 'knowing which operator announced a maintenance notice',
      legalBasis: 'GDPR Art. 6(1)(f) legitimate interest in accountable platform operations',
      retention: 'as long as the notice exists; operators delete notices when they are no longer needed',
      erasure: 'null',
    },
    created_at: no,
  },
};
