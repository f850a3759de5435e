// The privacy module: what the data map promises, as operations. Records of
// processing and the data map's documents (records/), data-subject requests
// and their exports (dsar/), erasure with its verification and ledger
// (erasure/), the trash and the deletion routine (trash/), tiered encrypted
// backups and restores (backup/), data residency and tenant offboarding
// (residency/, offboarding/). Parts reach each other only through what this
// file hands them.
import type { HttpServer } from '../../platform/http/server.ts';
import type { Platform } from '../../platform/platform.ts';
import type { AuditService } from '../audit/service.ts';
import type { IdentityModule } from '../identity/index.ts';
import type { LibraryModule } from '../library/index.ts';
import type { MediaModule } from '../media/index.ts';
import type { PlaybackModule } from '../playback/index.ts';
import { locateSubject, locateSubjectIn, subjectRows, type SubjectQuery } from './subject/index.ts';
import { createDsar } from './dsar/index.ts';
import { type ErasureDeps, type ErasureInput, type ErasureOptions, eraseSubject, reapplyErasureLedger } from './erasure/index.ts';
import type { RequestContext } from '../identity/actor.ts';
import { createResidency } from './residency/index.ts';
import { createOffboardingPart } from './offboarding/index.ts';
import { createTrashPart } from './trash/index.ts';
import { createRecordsService, registerRecordsRoutes } from './records/index.ts';
import { createBackupService } from './backup/service.ts';

export interface PrivacyDeps {
  audit: AuditService;
  identity: IdentityModule;
  library: LibraryModule;
  media: MediaModule;
  playback: PlaybackModule;
}

export function createPrivacyModule(platform: Platform, deps: PrivacyDeps) {
  void platform; void deps;
  // --- records ---
  const records = createRecordsService(platform, deps.audit);
  // --- dsar ---
  // eraseSubject is bound below (erasure section); it is called only when a request is processed.
  const dsar = createDsar({ platform, audit: deps.audit, tenants: deps.identity.tenants, erase: (input, ctx) => eraseSubject(erasureDeps, input, ctx) });
  // --- erasure ---
  const erasureDeps: ErasureDeps = { platform, audit: deps.audit, staging: deps.media.staging };
  // --- trash ---
  const trash = createTrashPart(platform, deps.audit);
  // --- backup ---
  const backup = createBackupService(platform, { audit: deps.audit });
  // --- residency & offboarding ---
  const residency = createResidency(platform);
  const offboarding = createOffboardingPart(platform, deps.audit);

  return {
    // --- exports ---
    /** Backups (backup/): create, list, verify, prune; the engine for the CLI (restore lives in backup/restore.ts). */
    backup,
    /** Records (records/): the record of processing, transfer bases, and the transfer rule features must pass (assertTransferAllowed). */
    records,
    /** The trash (trash/): the admin's trash service, the purge pass, and purgeTenant for offboarding (key first, then objects and rows). */
    trash: { service: trash.service, purgeDue: trash.purgeDue, purgeTenant: trash.purgeTenant },
    /** Residency (residency/): the report, and the rule exports and backups must pass (assertLocationAllowed). */
    residency,
    /** Offboarding (offboarding/): offboard, the export link and download, destroyDue and the certificate of deletion. */
    offboarding: offboarding.service,
    /** Erasure (erasure/): eraseSubject for erasure requests; reapplyLedger for `haven backup restore` before traffic. */
    erasure: {
      eraseSubject: (input: ErasureInput, ctx: RequestContext, opts?: ErasureOptions) => eraseSubject(erasureDeps, input, ctx, opts),
      reapplyLedger: () => reapplyErasureLedger(erasureDeps),
    },
    /** The subject locator (subject/): a person's identities across tenants, and their rows by the data map. */
    /** Data-subject requests (dsar/): intake, processing, export archives; buildExport for `haven dsar export`. */
    dsar: dsar.service,
    subject: { locate: (query: SubjectQuery) => locateSubject(platform.db, query), locateIn: locateSubjectIn, rows: subjectRows },
    async registerRoutes(app: HttpServer): Promise<void> {
      void app;
      // Route files load only on a node that serves HTTP.
      const { registerDataMapRoutes } = await import('./records/routes-datamap.ts');
      const { registerBackupRoutes } = await import('./backup/routes.ts');
      const { registerResidencyRoutes } = await import('./residency/routes.ts');
      // --- routes: records ---
      registerRecordsRoutes(app, records);
      registerDataMapRoutes(app);
      // --- routes: dsar ---
      await dsar.registerRoutes(app);
      // --- routes: erasure ---
      // --- routes: trash ---
      await trash.registerRoutes(app);
      // --- routes: backup ---
      registerBackupRoutes(app, backup, platform.config);
      // --- routes: residency & offboarding ---
      registerResidencyRoutes(app, residency);
      await offboarding.registerRoutes(app);
    },
    async startWorkers(): Promise<void> {
      // --- workers: dsar ---
      await dsar.startWorkers();
      // --- workers: erasure ---
      // --- workers: trash ---
      await trash.startWorkers();
      // --- workers: backup ---
      await backup.startWorkers();
      // --- workers: residency & offboarding ---
      await offboarding.startWorkers();
    },
    async onStarted(): Promise<void> {
      // --- schedules: dsar ---
      await dsar.onStarted();
      // --- schedules: trash ---
      await trash.onStarted();
      // --- schedules: backup ---
      // --- schedules: residency & offboarding ---
      await offboarding.onStarted();
    },
  };
}

export type PrivacyModule = ReturnType<typeof createPrivacyModule>;
