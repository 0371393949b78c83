import { readFile } from 'node:fs/promises';

import { type AccessToken, ManagedIdentityCredential, type TokenCredential } from '@azure/identity';

import { ensureError } from '../errors';
import { DatabricksAuthError } from './errors';

/** The Azure Databricks first-party application; its `.default` scope yields tokens the workspace accepts. */
export const AZURE_DATABRICKS_SCOPE = '2ff814a6-3304-4ab8-85cb-cd0e6f879c1d/.default';

/** Supplies the bearer token of each request. `invalidate` is called after a 401 so the next call refreshes. */
export interface TokenProvider {
  getToken(): Promise<string>;
  invalidate(): void;
}

/** A fixed token: a personal access token in development, the emulator's token locally. */
export class StaticTokenProvider implements TokenProvider {
  constructor(private readonly token: string) {
    if (token.trim() === '') throw new DatabricksAuthError('the Databricks token is empty');
  }

  getToken(): Promise<string> {
    return Promise.resolve(this.token);
  }

  invalidate(): void {}
}

/**
 * The local Jobs emulator's token, read from the file it writes at each start. Read once, then again after
 * a 401 (`invalidate`), so a client outlives an emulator restart.
 */
export class FileTokenProvider implements TokenProvider {
  private cached: string | undefined;

  constructor(private readonly file: string) {}

  async getToken(): Promise<string> {
    if (this.cached !== undefined) return this.cached;
    let text: string;
    try {
      text = (await readFile(this.file, 'utf8')).trim();
    } catch (thrown) {
      throw new DatabricksAuthError(
        `cannot read the local Jobs emulator's token from ${this.file} (${ensureError(thrown).message}); start the emulator (lakewatt dev or lakewatt jobs serve) on this LAKEWATT_HOME, or set DATABRICKS_TOKEN`,
      );
    }
    if (text === '') throw new DatabricksAuthError(`the token file ${this.file} is empty`);
    this.cached = text;
    return text;
  }

  invalidate(): void {
    this.cached = undefined;
  }
}

export interface EntraTokenOptions {
  /** Refresh this long before the token expires (default 5 minutes). */
  refreshMarginMs?: number;
  now?: () => number;
}

/**
 * Microsoft Entra ID tokens for the Azure Databricks scope from any `TokenCredential` (a managed identity in
 * Azure). The token is cached and refreshed `refreshMarginMs` before it expires, or from the credential's own
 * `refreshAfterTimestamp` if sooner; concurrent callers share one refresh. If a refresh fails while the cached
 * token is still valid for at least 30 s, the cached token is used and the next call tries again.
 */
export class EntraTokenProvider implements TokenProvider {
  private cached: AccessToken | undefined;
  private inFlight: Promise<string> | undefined;
  private readonly refreshMarginMs: number;
  private readonly now: () => number;

  constructor(
    private readonly credential: TokenCredential,
    options: EntraTokenOptions = {},
  ) {
    this.refreshMarginMs = options.refreshMarginMs ?? 5 * 60_000;
    this.now = options.now ?? Date.now;
  }

  async getToken(): Promise<string> {
    const cached = this.cached;
    if (cached && !this.due(cached)) return cached.token;
    this.inFlight ??= this.refresh(cached).finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  invalidate(): void {
    this.cached = undefined;
  }

  private due(token: AccessToken): boolean {
    const refreshAt = Math.min(
      token.expiresOnTimestamp - this.refreshMarginMs,
      token.refreshAfterTimestamp ?? Number.POSITIVE_INFINITY,
    );
    return this.now() >= refreshAt;
  }

  private async refresh(previous: AccessToken | undefined): Promise<string> {
    try {
      const token = await this.credential.getToken(AZURE_DATABRICKS_SCOPE);
      if (!token) throw new Error('the credential returned no token');
      this.cached = token;
      return token.token;
    } catch (thrown) {
      if (previous && previous.expiresOnTimestamp - this.now() > 30_000) return previous.token;
      const error = ensureError(thrown);
      throw new DatabricksAuthError(
        `could not get a Microsoft Entra ID token for Azure Databricks (${AZURE_DATABRICKS_SCOPE}): ${error.message}`,
        { cause: error },
      );
    }
  }
}

export interface AuthSettings {
  auth: 'managed-identity' | 'pat' | 'static';
  token?: string | undefined;
  /** With 'static' and no token: the file the local Jobs emulator writes its token to. */
  tokenFile?: string | undefined;
  /** Client id of the user-assigned managed identity; the system-assigned one when absent. */
  managedIdentityClientId?: string | undefined;
}

/** The token provider for the configured authentication mode. */
export function createTokenProvider(settings: AuthSettings, credential?: TokenCredential): TokenProvider {
  switch (settings.auth) {
    case 'managed-identity':
      return new EntraTokenProvider(
        credential ??
          (settings.managedIdentityClientId
            ? new ManagedIdentityCredential({ clientId: settings.managedIdentityClientId })
            : new ManagedIdentityCredential()),
      );
    case 'static':
      if (settings.token) return new StaticTokenProvider(settings.token);
      if (settings.tokenFile) return new FileTokenProvider(settings.tokenFile);
      throw new DatabricksAuthError(
        "DATABRICKS_TOKEN (or the emulator's token file) is required when DATABRICKS_AUTH is 'static'",
      );
    case 'pat':
      if (!settings.token) {
        throw new DatabricksAuthError(
          `DATABRICKS_TOKEN is required when DATABRICKS_AUTH is '${settings.auth}'`,
        );
      }
      return new StaticTokenProvider(settings.token);
  }
}
