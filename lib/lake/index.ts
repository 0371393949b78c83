import type { TokenCredential } from '@azure/identity';
import { ManagedIdentityCredential } from '@azure/identity';
import { BlobServiceClient } from '@azure/storage-blob';
import { DataLakeServiceClient } from '@azure/storage-file-datalake';

import type { LakewattConfig } from '../config';
import { AzureBlobLakeStore } from './AzureBlobLakeStore';
import type { LakeStore } from './LakeStore';
import { LocalLakeStore } from './LocalLakeStore';

export { AzureBlobLakeStore, type AzureBlobLakeStoreOptions } from './AzureBlobLakeStore';
export * from './errors';
export * from './LakeStore';
export { LocalLakeStore, type LocalLakeStoreOptions } from './LocalLakeStore';
export {
  containerNameProblem,
  MAX_PATH_LENGTH,
  MAX_PATH_SEGMENTS,
  normalizeEtag,
  objectPathProblem,
  prefixProblem,
  quoteEtag,
} from './names';

export interface CreateLakeStoreOptions {
  /**
   * Credential for the azure lake. Default: the user-assigned managed identity named by the config's
   * client id (no shared keys in production).
   */
  credential?: TokenCredential;
}

/** The LakeStore for the configured lake: local folders, or the ADLS Gen2 account (blob + DFS endpoints). */
export function createLakeStore(
  lake: LakewattConfig['lake'],
  options: CreateLakeStoreOptions = {},
): LakeStore {
  if (lake.kind === 'local') return new LocalLakeStore({ root: lake.root });
  const credential = options.credential ?? new ManagedIdentityCredential({ clientId: lake.clientId });
  return new AzureBlobLakeStore({
    blobService: new BlobServiceClient(lake.blobEndpoint, credential),
    dataLake: new DataLakeServiceClient(lake.dfsEndpoint, credential),
  });
}
