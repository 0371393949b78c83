/**
 * ASP.NET-style route templates as HTTP triggers declare them (`route: 'items/{id}'`): literal segments
 * (case-insensitive), `{name}`, optional `{name?}`, constrained `{name:int}` / `{name:alpha}` /
 * `{name:guid}` (other constraints are accepted and not checked), and a final catch-all `{*rest}`.
 */
export interface RouteTemplate {
  readonly template: string;
  match(path: string): Record<string, string> | undefined;
}

type Segment =
  | { kind: 'literal'; text: string }
  | { kind: 'param'; name: string; optional: boolean; constraint?: string; catchAll: boolean };

const CONSTRAINTS: Record<string, RegExp> = {
  int: /^-?\d+$/,
  long: /^-?\d+$/,
  alpha: /^[A-Za-z]+$/,
  bool: /^(true|false)$/i,
  guid: /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i,
  double: /^-?\d+(\.\d+)?$/,
};

export function parseRoute(template: string): RouteTemplate {
  const segments: Segment[] = template
    .replace(/^\/+|\/+$/g, '')
    .split('/')
    .filter((s) => s !== '')
    .map((text) => {
      const param = /^\{(\*)?([A-Za-z_][A-Za-z0-9_]*)(?::([A-Za-z]+)(?:\([^)]*\))?)?(\?)?\}$/.exec(text);
      if (!param) return { kind: 'literal', text: text.toLowerCase() };
      return {
        kind: 'param',
        name: param[2]!,
        catchAll: param[1] === '*',
        constraint: param[3]?.toLowerCase(),
        optional: param[4] === '?' || param[1] === '*',
      };
    });
  return {
    template,
    match(path: string): Record<string, string> | undefined {
      const parts = path
        .replace(/^\/+|\/+$/g, '')
        .split('/')
        .filter((s) => s !== '');
      const params: Record<string, string> = {};
      for (let i = 0; i < segments.length; i++) {
        const segment = segments[i]!;
        const part = parts[i];
        if (segment.kind === 'literal') {
          if (part === undefined || decodeURIComponent(part).toLowerCase() !== segment.text) return undefined;
          continue;
        }
        if (segment.catchAll) {
          const rest = parts.slice(i).map(decodeURIComponent).join('/');
          if (rest !== '') params[segment.name] = rest;
          return params;
        }
        if (part === undefined) {
          if (!segment.optional) return undefined;
          continue;
        }
        const value = decodeURIComponent(part);
        const check = segment.constraint ? CONSTRAINTS[segment.constraint] : undefined;
        if (check && !check.test(value)) return undefined;
        params[segment.name] = value;
      }
      return parts.length > segments.length ? undefined : params;
    },
  };
}
