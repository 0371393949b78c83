import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import type { AccessToken, TokenCredential } from '@azure/identity';

import {
  AZURE_DATABRICKS_SCOPE,
  createTokenProvider,
  DatabricksAuthError,
  EntraTokenProvider,
  StaticTokenProvider,
} from '../../../lib/databricks';

/** A credential that hands out numbered tokens expiring `lifetimeMs` after the fake clock. */
function fakeCredential(clock: { now: number }, lifetimeMs: number) {
  const scopes: string[] = [];
  let issued = 0;
  let fail = false;
  const credential: TokenCredential = {
    getToken: (scope) => {
      scopes.push(String(scope));
      if (fail) return Promise.reject(new Error('IMDS unavailable'));
      issued++;
      const token: AccessToken = { token: `token-${issued}`, expiresOnTimestamp: clock.now + lifetimeMs };
      return Promise.resolve(token);
    },
  };
  return { credential, scopes, setFailing: (value: boolean) => (fail = value) };
}

describe('EntraTokenProvider', () => {
  it('when a token is requested, then it is asked for the Azure Databricks scope', async () => {
    const clock = { now: 0 };
    const fake = fakeCredential(clock, 3_600_000);
    await new EntraTokenProvider(fake.credential, { now: () => clock.now }).getToken();
    expect(fake.scopes).toEqual([AZURE_DATABRICKS_SCOPE]);
    expect(AZURE_DATABRICKS_SCOPE).toBe('2ff814a6-3304-4ab8-85cb-cd0e6f879c1d/.default');
  });

  it('when the cached token is far from expiry, then it is reused', async () => {
    const clock = { now: 0 };
    const fake = fakeCredential(clock, 3_600_000);
    const provider = new EntraTokenProvider(fake.credential, { now: () => clock.now });
    await provider.getToken();
    clock.now = 30 * 60_000;
    expect(await provider.getToken()).toBe('token-1');
  });

  it('when the token is within the refresh margin, then a new one is fetched', async () => {
    const clock = { now: 0 };
    const fake = fakeCredential(clock, 3_600_000);
    const provider = new EntraTokenProvider(fake.credential, {
      now: () => clock.now,
      refreshMarginMs: 300_000,
    });
    await provider.getToken();
    clock.now = 3_600_000 - 299_000;
    expect(await provider.getToken()).toBe('token-2');
  });

  it('when a refresh fails while the old token is still valid, then the old token is used', async () => {
    const clock = { now: 0 };
    const fake = fakeCredential(clock, 3_600_000);
    const provider = new EntraTokenProvider(fake.credential, { now: () => clock.now });
    await provider.getToken();
    clock.now = 3_600_000 - 120_000;
    fake.setFailing(true);
    expect(await provider.getToken()).toBe('token-1');
  });

  it('when no token can be had at all, then a DatabricksAuthError names the scope', async () => {
    const clock = { now: 0 };
    const fake = fakeCredential(clock, 3_600_000);
    fake.setFailing(true);
    const provider = new EntraTokenProvider(fake.credential, { now: () => clock.now });
    await expect(provider.getToken()).rejects.toThrow(DatabricksAuthError);
    await expect(provider.getToken()).rejects.toThrow(/2ff814a6-3304-4ab8-85cb-cd0e6f879c1d/);
  });

  it('when callers ask concurrently, then one request reaches the credential', async () => {
    const clock = { now: 0 };
    const fake = fakeCredential(clock, 3_600_000);
    const provider = new EntraTokenProvider(fake.credential, { now: () => clock.now });
    await Promise.all([provider.getToken(), provider.getToken(), provider.getToken()]);
    expect(fake.scopes).toHaveLength(1);
  });
});

describe('createTokenProvider', () => {
  it("when auth is 'pat' without a token, then it fails naming DATABRICKS_TOKEN", () => {
    expect(() => createTokenProvider({ auth: 'pat' })).toThrow(/DATABRICKS_TOKEN/);
  });

  it("when auth is 'static', then the configured token is sent as is", async () => {
    const provider = createTokenProvider({ auth: 'static', token: 'emulator-token' });
    expect(provider).toBeInstanceOf(StaticTokenProvider);
    expect(await provider.getToken()).toBe('emulator-token');
  });

  it("when auth is 'static' without a token or token file, then it fails naming DATABRICKS_TOKEN", () => {
    expect(() => createTokenProvider({ auth: 'static' })).toThrow(/DATABRICKS_TOKEN/);
  });

  describe("when auth is 'static' with the emulator's token file", () => {
    let dir: string;
    beforeEach(() => {
      dir = mkdtempSync(path.join(os.tmpdir(), 'lakewatt-token-file-'));
    });
    afterEach(() => rmSync(dir, { recursive: true, force: true }));

    it('then the token is read from the file, and read again after a 401 (an emulator restart)', async () => {
      const file = path.join(dir, 'jobs-token');
      writeFileSync(file, 'first-start\n');
      const provider = createTokenProvider({ auth: 'static', tokenFile: file });
      expect(await provider.getToken()).toBe('first-start');
      writeFileSync(file, 'second-start\n');
      expect(await provider.getToken()).toBe('first-start');
      provider.invalidate();
      expect(await provider.getToken()).toBe('second-start');
    });

    it('then a missing file fails with DATABRICKS_AUTH naming the file', async () => {
      const file = path.join(dir, 'missing');
      const provider = createTokenProvider({ auth: 'static', tokenFile: file });
      await expect(provider.getToken()).rejects.toMatchObject({ code: 'DATABRICKS_AUTH' });
      await expect(provider.getToken()).rejects.toThrow(file);
    });
  });

  it("when auth is 'managed-identity', then tokens come from an Entra provider", () => {
    expect(createTokenProvider({ auth: 'managed-identity', managedIdentityClientId: 'abc' })).toBeInstanceOf(
      EntraTokenProvider,
    );
  });
});
