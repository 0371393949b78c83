import type { BlobServiceClient } from '@azure/storage-blob';

import { AzureBlobLakeStore } from '../../../lib/lake';
import { azuriteBlobServiceClient, uniqueContainerPrefix } from '../../helpers/azurite';
import { collectList } from '../../helpers/lakeData';
import { describeLakeStoreContract, type LakeStoreFixture } from './lakeStore.contract';

let blobService: BlobServiceClient;

beforeAll(() => {
  blobService = azuriteBlobServiceClient();
});

/** Two fresh containers with a prefix unique to the test, deleted afterwards. */
async function azuriteFixture(): Promise<LakeStoreFixture> {
  const prefix = uniqueContainerPrefix('lake');
  const containers = [`${prefix}-a`, `${prefix}-b`] as const;
  // Small blocks, so the multi-megabyte stream test really goes through Put Block / Put Block List.
  const store = new AzureBlobLakeStore({ blobService, uploadBlockBytes: 1024 * 1024, uploadConcurrency: 4 });
  for (const container of containers) await store.ensureContainer(container);
  return {
    store,
    containers,
    missingContainer: `${prefix}-missing`,
    dispose: async () => {
      for (const container of containers) await blobService.getContainerClient(container).deleteIfExists();
    },
  };
}

describeLakeStoreContract('AzureBlobLakeStore on Azurite', azuriteFixture);

describe('AzureBlobLakeStore: HNS specifics', () => {
  let fixture: LakeStoreFixture;

  beforeEach(async () => {
    fixture = await azuriteFixture();
  });

  afterEach(async () => {
    await fixture.dispose();
  });

  test('when the account lists HNS directory placeholders, then list and exists skip them', async () => {
    const [container] = fixture.containers;
    // What an HNS account returns for a directory: a zero-length blob flagged hdi_isfolder=true.
    await blobService
      .getContainerClient(container)
      .getBlockBlobClient('landing')
      .upload('', 0, { metadata: { hdi_isfolder: 'true' } });
    await fixture.store.createOnly(container, 'landing/a.csv', 'x');

    const listed = await collectList(fixture.store.list(container));

    expect(listed.map((entry) => entry.path)).toEqual(['landing/a.csv']);
    expect(await fixture.store.exists(container, 'landing')).toBe(false);
  });
});
