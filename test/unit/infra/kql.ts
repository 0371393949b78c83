/**
 * What a KQL query of the workbook or the alert rules refers to, found by pattern (no KQL parser is needed
 * for the shapes these queries use): the event names it filters on and the dimensions it reads.
 */

export interface KqlReferences {
  /** Tables a query reads (`customEvents`, `traces`, ...). */
  tables: string[];
  /** Event names: `name == "X"`, `name in ("X", "Y")`, or a JSON log line `startswith '{"event":"X"'`. */
  events: string[];
  /** Dimensions read: `customDimensions.x`, `customDimensions["x"]`, or a field of a parsed JSON line. */
  dimensions: string[];
  /** The fields of those read from a JSON log line (`parse_json(message)`). */
  jsonFields: string[];
}

const TABLES = /(?:^|\(|union\s)\s*(customEvents|traces|dependencies|requests|exceptions)\b/gm;

export function kqlReferences(query: string): KqlReferences {
  const tables = [...query.matchAll(TABLES)].map((m) => m[1]!);
  const events = [
    ...[...query.matchAll(/\bname\s*==\s*"([^"]+)"/g)].map((m) => m[1]!),
    ...[...query.matchAll(/\bname\s+in\s*\(([^)]*)\)/g)].flatMap((m) =>
      [...m[1]!.matchAll(/"([^"]+)"/g)].map((n) => n[1]!),
    ),
    ...[...query.matchAll(/startswith\s+'\{"event":"([^"]+)"/g)].map((m) => m[1]!),
  ];
  // Aliases of a JSON log line: `extend breach = parse_json(message)` makes `breach.x` a dimension.
  const aliases = [...query.matchAll(/\b(\w+)\s*=\s*parse_json\(\s*message\s*\)/g)].map((m) => m[1]!);
  const jsonFields = aliases.flatMap((alias) =>
    [...query.matchAll(new RegExp(`\\b${alias}\\.(\\w+)`, 'g'))].map((m) => m[1]!),
  );
  const dimensions = [
    ...[...query.matchAll(/\bcustomDimensions\.(\w+)/g)].map((m) => m[1]!),
    ...[...query.matchAll(/\bcustomDimensions\[\s*["'](\w+)["']\s*\]/g)].map((m) => m[1]!),
    ...jsonFields,
  ];
  const unique = (values: string[]): string[] => [...new Set(values)].sort();
  return {
    tables: unique(tables),
    events: unique(events),
    dimensions: unique(dimensions),
    jsonFields: unique(jsonFields),
  };
}

/**
 * Every name a query uses that the code does not emit: an unknown event, or a dimension that none of the
 * events it filters on carries. A query that names no event at all is a problem too (it would read every row).
 */
export function unknownReferences(
  query: string,
  emitted: Readonly<Record<string, readonly string[]>>,
): string[] {
  const refs = kqlReferences(query);
  const problems: string[] = [];
  if (refs.events.length === 0) problems.push('no event name');
  for (const event of refs.events) if (!(event in emitted)) problems.push(`event ${event}`);
  const carried = new Set(refs.events.flatMap((event) => emitted[event] ?? []));
  for (const dimension of refs.dimensions)
    if (!carried.has(dimension)) problems.push(`dimension ${dimension}`);
  return problems;
}
