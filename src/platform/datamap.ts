// The data map's vocabulary (DESIGN §5): every column of every table declares
// whether it can hold personal data and, if so, what the privacy machinery
// (export, erasure, retention, the record of processing) must do with it.
// Modules declare their tables in their own datamap.ts.

export type ErasureAction = 'delete' | 'null' | 'pseudonymize' | 'crypto_shred' | 'retain';

export type ColumnDeclaration =
  | { personal: false }
  | {
      personal: true;
      /** Dotted data category in the spirit of fideslang, e.g. user.contact.email. */
      category: string;
      /** Whose data it is: the role (column) that links the row to a data subject. */
      subject: string;
      purpose: string;
      legalBasis: string;
      retention: string;
      erasure: ErasureAction;
      /** Required reading for 'retain': why the value may stay after an erasure request. */
      retainBasis?: string;
    };

/** table → column → declaration. */
export type DataMap = Record<string, Record<string, ColumnDeclaration>>;
