import { type LakeStore, NotFoundError } from '../lake';
import { normalizeEtag } from '../lake/names';

/**
 * Whether the file version an event announces is still the blob's current version. Event Grid may deliver
 * the events of one blob out of order (their `sequencer` tells), but a blob's properties carry no
 * sequencer: the eTag answers the same question with authority. An event whose version was overwritten
 * (or deleted) since starts nothing; the newer version's own event does the work.
 */
export type VersionCheck =
  { current: true } | { current: false; reason: 'SUPERSEDED' | 'BLOB_GONE'; detail: string };

export async function checkCurrentVersion(
  lake: LakeStore,
  file: { container: string; path: string; etag: string },
): Promise<VersionCheck> {
  try {
    const properties = await lake.properties(file.container, file.path);
    const current = normalizeEtag(properties.etag);
    if (current === normalizeEtag(file.etag)) return { current: true };
    return {
      current: false,
      reason: 'SUPERSEDED',
      detail: `${file.container}/${file.path} is now at eTag ${current}, not ${normalizeEtag(file.etag)}`,
    };
  } catch (error) {
    if (error instanceof NotFoundError) {
      return {
        current: false,
        reason: 'BLOB_GONE',
        detail: `${file.container}/${file.path} no longer exists`,
      };
    }
    throw error;
  }
}
