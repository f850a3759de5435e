// The only place plaintext media exists: a private directory per region under
// the data dir, shared by the region's nodes (DESIGN: upload state lives on
// disk and in PostgreSQL, not in a process). Everything here is removed once
// its video is ready or failed, and swept after crashes (sweeper.ts).
//
//   <dataDir>/staging/<region>/            0700
//     uploads/<uploadId>, <uploadId>.json  the tus upload and its state (@tus/file-store)
//     sources/<videoId>                    a source restored from original.hvn when the upload is gone
//     work/<videoId>/<attempt>/            ffmpeg's plaintext output before it is encrypted and stored
import { chmod, mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';

export interface Staging {
  regionDir(region: string): string;
  uploadsDir(region: string): string;
  uploadFile(region: string, uploadId: string): string;
  sourceFile(region: string, videoId: string): string;
  workDir(region: string, videoId: string): string;
  /** Creates the region's private directories (0700, whatever the umask); once per process and region. */
  prepare(region: string): Promise<void>;
  /** A fresh directory for one job attempt's output. */
  attemptDir(region: string, videoId: string, attempt: string): Promise<string>;
  /** Everything staged for a video: the upload, a restored source, work directories. */
  removeVideo(region: string, videoId: string, uploadId?: string): Promise<void>;
  removeUpload(region: string, uploadId: string): Promise<void>;
}

const UPLOAD_ID = /^[a-f0-9]{32}$/;

export function createStaging(dataDir: string): Staging {
  const root = join(dataDir, 'staging');
  const prepared = new Set<string>();
  const regionDir = (region: string) => join(root, region);
  const uploadFile = (region: string, uploadId: string) => {
    // Ids come from the database or the URL; a path is only ever built from the expected shape.
    if (!UPLOAD_ID.test(uploadId)) throw new Error(`not an upload id: ${uploadId.slice(0, 40)}`);
    return join(regionDir(region), 'uploads', uploadId);
  };
  const staging: Staging = {
    regionDir,
    uploadsDir: (region) => join(regionDir(region), 'uploads'),
    uploadFile,
    sourceFile: (region, videoId) => join(regionDir(region), 'sources', videoId),
    workDir: (region, videoId) => join(regionDir(region), 'work', videoId),
    async prepare(region) {
      if (prepared.has(region)) return;
      for (const dir of [root, regionDir(region), ...['uploads', 'sources', 'work'].map((d) => join(regionDir(region), d))]) {
        await mkdir(dir, { recursive: true, mode: 0o700 });
        await chmod(dir, 0o700);
      }
      prepared.add(region);
    },
    async attemptDir(region, videoId, attempt) {
      const dir = join(staging.workDir(region, videoId), attempt);
      await rm(dir, { recursive: true, force: true });
      await mkdir(dir, { recursive: true, mode: 0o700 });
      return dir;
    },
    async removeVideo(region, videoId, uploadId) {
      if (uploadId) await staging.removeUpload(region, uploadId);
      await rm(staging.sourceFile(region, videoId), { force: true });
      await rm(staging.workDir(region, videoId), { recursive: true, force: true });
    },
    async removeUpload(region, uploadId) {
      const file = uploadFile(region, uploadId);
      await rm(file, { force: true });
      await rm(`${file}.json`, { force: true });
    },
  };
  return staging;
}

export const isUploadId = (id: string) => UPLOAD_ID.test(id);
