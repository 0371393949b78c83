import { LakewattError } from '../errors';

/**
 * The Jobs API answered with an error body (`{error_code, message, details}`) or an error status.
 * `errorCode` is the API's `error_code` when it sent a string one, otherwise derived from the HTTP status
 * (the research notes some legacy endpoints send a number there). Branch on `errorCode`, not on `message`.
 */
export class DatabricksApiError extends LakewattError {
  constructor(
    readonly status: number,
    readonly errorCode: string,
    readonly apiMessage: string,
    readonly route: string,
    readonly retryable: boolean,
    readonly details: readonly unknown[] = [],
  ) {
    // A platform failure (429, 5xx) has its own code, so an orchestration can tell an outage from a refusal.
    super(
      retryable ? 'DATABRICKS_UNAVAILABLE' : 'DATABRICKS_API',
      `Databricks ${route} failed: HTTP ${status} ${errorCode}: ${apiMessage}`,
    );
  }
}

/** The request never got an HTTP answer: connection refused or reset, DNS failure, or the request timed out. */
export class DatabricksConnectionError extends LakewattError {
  constructor(
    readonly route: string,
    readonly timedOut: boolean,
    message: string,
    options?: { cause?: unknown },
  ) {
    super('DATABRICKS_UNREACHABLE', `Databricks ${route}: ${message}`, options);
  }
}

/** A 2xx answer whose body is not JSON or does not have the shape the route promises. */
export class DatabricksResponseError extends LakewattError {
  constructor(
    readonly route: string,
    readonly issues: readonly string[],
    readonly bodyExcerpt: string,
  ) {
    super(
      'DATABRICKS_BAD_RESPONSE',
      `Databricks ${route} returned an unexpected response: ${issues.join('; ')} (body starts: ${JSON.stringify(bodyExcerpt)})`,
    );
  }
}

/** `jobs/list?name=` found no job (or more than one) with the configured name. */
export class DatabricksJobNotFoundError extends LakewattError {
  constructor(
    readonly jobName: string,
    readonly host: string,
    readonly matches: readonly number[],
  ) {
    super(
      'DATABRICKS_JOB_NOT_FOUND',
      matches.length === 0
        ? `No Databricks job named '${jobName}' in ${host}; is the bundle deployed to this workspace and may this identity see the job?`
        : `${matches.length} Databricks jobs are named '${jobName}' in ${host} (ids ${matches.join(', ')}); job names must be unique`,
    );
  }
}

/** Acquiring a token for the workspace failed (managed identity not available, PAT missing...). */
export class DatabricksAuthError extends LakewattError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('DATABRICKS_AUTH', message, options);
  }
}

/** A request the client refuses to send (a too long idempotency token, a non-integer run id...). */
export class DatabricksRequestError extends LakewattError {
  constructor(message: string) {
    super('DATABRICKS_BAD_REQUEST', message);
  }
}
