/**
 * The job parameter that carries a run's W3C trace context into Databricks. The silver and gold jobs declare
 * it (databricks/resources/*.job.yml) and write it into the `userMetadata` of every Delta commit they make,
 * so a commit leads back to the trace of the file (or batch) it was made for.
 */
export const TRACEPARENT_PARAMETER = 'traceparent';

/** `parameters` plus the trace context, when there is one; the caller's object is not changed. */
export function withTraceparent(
  parameters: Readonly<Record<string, string>>,
  traceparent: string | undefined,
): Record<string, string> {
  return traceparent === undefined
    ? { ...parameters }
    : { ...parameters, [TRACEPARENT_PARAMETER]: traceparent };
}
