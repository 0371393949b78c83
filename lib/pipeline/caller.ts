import { z } from 'zod';

import { invalidRequest, RunsApiError } from './runsRequest';

/**
 * Who called the operator API. In Azure, App Service authentication (Easy Auth) validates the Entra ID
 * token in front of the app, strips any client-sent `x-ms-client-principal*` headers and sets its own:
 * `x-ms-client-principal` (base64 JSON: `auth_typ`, `claims`, `name_typ`, `role_typ`) and
 * `x-ms-client-principal-name`. The app trusts them only when the platform says Easy Auth is on
 * (`WEBSITE_AUTH_ENABLED`); otherwise anyone could forge them, so every call is refused.
 * Locally there is no Easy Auth and the host listens on loopback only: the caller is `local`, or the name
 * the CLI sends in `x-lakewatt-caller` (its OS user). It is a label there, not an authentication.
 */

/** The app role (Entra ID app registration, `roles` claim) every operator call needs. */
export const OPERATOR_ROLE = 'Lakewatt.Operator';

export const LOCAL_CALLER_HEADER = 'x-lakewatt-caller';

export const callerSchema = z.object({
  /** entra: authenticated by Easy Auth in Azure; local: the embedded runtime (loopback, unauthenticated). */
  kind: z.enum(['entra', 'local']),
  /** The Entra object id (`oid`), or the local name. */
  id: z.string().min(1).max(200),
  /** The user principal name or app display name, or the local name. */
  name: z.string().min(1).max(200),
});
export type Caller = z.infer<typeof callerSchema>;

export interface CallerEnvironment {
  mode: 'local' | 'azure';
  /** App Service sets `WEBSITE_AUTH_ENABLED=True` when Easy Auth is on for the app. */
  easyAuthEnabled: boolean;
}

/** What the function needs of a request's headers (the Fetch API `Headers`, or a map in tests). */
export interface HeaderReader {
  get(name: string): string | null;
}

const principalSchema = z.object({
  auth_typ: z.string().min(1),
  claims: z.array(z.object({ typ: z.string(), val: z.string() })).max(500),
  name_typ: z.string().optional(),
  role_typ: z.string().optional(),
});

const OBJECT_ID_CLAIMS = ['http://schemas.microsoft.com/identity/claims/objectidentifier', 'oid'];
const ROLE_CLAIMS = ['roles', 'http://schemas.microsoft.com/ws/2008/06/identity/claims/role'];
const LOCAL_NAME = /^[\w.@:\\-]{1,100}$/;
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const unauthenticated = (message: string): RunsApiError => new RunsApiError(401, 'UNAUTHENTICATED', message);

function decodePrincipal(header: string): z.infer<typeof principalSchema> {
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(header, 'base64').toString('utf8'));
  } catch {
    throw unauthenticated('x-ms-client-principal is not base64 JSON');
  }
  const parsed = principalSchema.safeParse(decoded);
  if (!parsed.success) throw unauthenticated('x-ms-client-principal is not a client principal');
  return parsed.data;
}

function entraCaller(headers: HeaderReader): Caller {
  const header = headers.get('x-ms-client-principal');
  if (!header) throw unauthenticated('no authenticated principal (Entra ID sign-in is required)');
  const principal = decodePrincipal(header);
  if (principal.auth_typ !== 'aad') {
    throw unauthenticated(`principal authenticated by ${principal.auth_typ}, not Entra ID`);
  }
  const claim = (types: readonly string[]): string[] =>
    principal.claims.filter((c) => types.includes(c.typ)).map((c) => c.val);
  const objectId = claim(OBJECT_ID_CLAIMS)[0];
  if (!objectId || !GUID.test(objectId)) throw unauthenticated('principal has no object id (oid) claim');
  const roleTypes = principal.role_typ ? [...ROLE_CLAIMS, principal.role_typ] : ROLE_CLAIMS;
  if (!claim(roleTypes).includes(OPERATOR_ROLE)) {
    throw new RunsApiError(403, 'OPERATOR_ROLE_REQUIRED', `the caller lacks the app role ${OPERATOR_ROLE}`);
  }
  const name = (headers.get('x-ms-client-principal-name') ?? '').trim().slice(0, 200);
  return { kind: 'entra', id: objectId.toLowerCase(), name: name === '' ? objectId.toLowerCase() : name };
}

/**
 * The caller of one request, or the 401/403/503 the request is refused with. Every route of the API
 * calls this first, so nothing runs for a caller without the operator role.
 */
export function callerOf(headers: HeaderReader, environment: CallerEnvironment): Caller {
  if (environment.mode === 'azure') {
    if (!environment.easyAuthEnabled) {
      throw new RunsApiError(
        503,
        'AUTH_NOT_CONFIGURED',
        'App Service authentication is off for this app; the operator API refuses every call',
      );
    }
    return entraCaller(headers);
  }
  const given = headers.get(LOCAL_CALLER_HEADER)?.trim();
  if (given && !LOCAL_NAME.test(given)) {
    throw invalidRequest(`${LOCAL_CALLER_HEADER}: expected a name of letters, digits and . @ : \\ - _`);
  }
  const name = given || 'local';
  return { kind: 'local', id: name, name };
}
