/**
 * A small reader for the Bicep files under infra/, built on the tree-sitter Bicep grammar
 * (npm `tree-sitter-bicep`, whose package ships a WASM build, loaded with `web-tree-sitter`). No Azure or
 * Bicep CLI is needed. Parsing fails loudly on any ERROR or MISSING node, then each declaration is turned
 * into a plain value tree that the infra tests query.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

import { Language, type Node, Parser } from 'web-tree-sitter';

export const REPO_ROOT = path.resolve(__dirname, '../../..');
export const INFRA_DIR = path.join(REPO_ROOT, 'infra');

/** A Bicep expression, reduced to what the tests need. `text` is always the exact source. */
export type Value =
  | { kind: 'string'; text: string; value: string; interpolated: boolean; parts: Value[] }
  | { kind: 'number'; text: string; value: number }
  | { kind: 'boolean'; text: string; value: boolean }
  | { kind: 'null'; text: string }
  | { kind: 'object'; text: string; props: Map<string, Value> }
  | { kind: 'array'; text: string; items: Value[] }
  | { kind: 'ref'; text: string; name: string }
  | { kind: 'member'; text: string; object: Value; property: string }
  | { kind: 'call'; text: string; fn: string; args: Value[] }
  | { kind: 'expr'; text: string };

export interface ParamDecl {
  name: string;
  type: string;
  defaultValue: Value | undefined;
  decorators: string[];
}

export interface ResourceDecl {
  symbol: string;
  /** e.g. `Microsoft.Storage/storageAccounts` */
  type: string;
  apiVersion: string;
  existing: boolean;
  conditional: boolean;
  loop: boolean;
  body: Value;
}

export interface ModuleDecl {
  symbol: string;
  source: string;
  conditional: boolean;
  body: Value;
}

export interface BicepFile {
  /** Path relative to the repository root, with forward slashes. */
  file: string;
  source: string;
  targetScope: string;
  params: Map<string, ParamDecl>;
  vars: Map<string, Value>;
  resources: ResourceDecl[];
  modules: ModuleDecl[];
  outputs: Map<string, Value>;
  imports: Array<{ names: string[]; from: string }>;
}

export interface SyntaxProblem {
  line: number;
  column: number;
  kind: 'ERROR' | 'MISSING';
  text: string;
}

export class BicepSyntaxError extends Error {
  constructor(
    readonly file: string,
    readonly problems: SyntaxProblem[],
  ) {
    super(
      `${file}: ${problems.length} syntax problem(s): ` +
        problems.map((p) => `${p.kind} at ${p.line}:${p.column} near ${JSON.stringify(p.text)}`).join('; '),
    );
    this.name = 'BicepSyntaxError';
  }
}

let parserPromise: Promise<Parser> | undefined;

/** The Bicep parser, initialised once per test file. */
export function bicepParser(): Promise<Parser> {
  parserPromise ??= (async () => {
    await Parser.init();
    // Loaded from bytes: Language.load(path) would use a dynamic import that jest's CommonJS runtime rejects.
    const wasm = readFileSync(require.resolve('tree-sitter-bicep/tree-sitter-bicep.wasm'));
    const language = await Language.load(new Uint8Array(wasm));
    const parser = new Parser();
    parser.setLanguage(language);
    return parser;
  })();
  return parserPromise;
}

function named(node: Node): Node[] {
  return node.namedChildren.filter((child): child is Node => child !== null && child.type !== 'comment');
}

/** Every ERROR and MISSING node of a tree, with 1-based positions. */
export function syntaxProblems(root: Node): SyntaxProblem[] {
  const problems: SyntaxProblem[] = [];
  const visit = (node: Node): void => {
    if (node.isError || node.isMissing) {
      problems.push({
        line: node.startPosition.row + 1,
        column: node.startPosition.column + 1,
        kind: node.isMissing ? 'MISSING' : 'ERROR',
        text: node.isMissing ? node.type : node.text.slice(0, 60),
      });
    }
    if (!node.hasError) return;
    for (const child of node.children) if (child !== null) visit(child);
  };
  visit(root);
  return problems;
}

function stringValue(node: Node): Value {
  const parts: Value[] = [];
  let value = '';
  let interpolated = false;
  for (const child of named(node)) {
    if (child.type === 'interpolation') {
      interpolated = true;
      const inner = named(child)[0];
      const expr = inner ? toValue(inner) : { kind: 'expr' as const, text: '' };
      parts.push(expr);
      value += '${' + expr.text + '}';
    } else if (child.type === 'escape_sequence') {
      const unescaped = child.text.startsWith('\\u{')
        ? String.fromCodePoint(parseInt(child.text.slice(3, -1), 16))
        : ({ "\\'": "'", '\\\\': '\\', '\\n': '\n', '\\r': '\r', '\\t': '\t', '\\$': '$' }[child.text] ??
          child.text);
      value += unescaped;
    } else {
      value += child.text;
    }
  }
  if (named(node).length === 0 && node.text.startsWith("'''")) value = node.text.slice(3, -3);
  return { kind: 'string', text: node.text, value, interpolated, parts };
}

function propertyKey(node: Node): string {
  return node.type === 'string' ? (stringValue(node) as { value: string }).value : node.text;
}

/** Converts one expression node into a Value. */
export function toValue(node: Node): Value {
  const text = node.text;
  switch (node.type) {
    case 'string':
      return stringValue(node);
    case 'number':
      return { kind: 'number', text, value: Number(text) };
    case 'boolean':
      return { kind: 'boolean', text, value: text === 'true' };
    case 'null':
      return { kind: 'null', text };
    case 'identifier':
      return { kind: 'ref', text, name: text };
    case 'parenthesized_expression': {
      const inner = named(node)[0];
      return inner ? toValue(inner) : { kind: 'expr', text };
    }
    case 'object': {
      const props = new Map<string, Value>();
      for (const prop of named(node)) {
        if (prop.type !== 'object_property') continue;
        const [key, value] = named(prop);
        if (key && value) props.set(propertyKey(key), toValue(value));
      }
      return { kind: 'object', text, props };
    }
    case 'array':
      return { kind: 'array', text, items: named(node).map(toValue) };
    case 'member_expression': {
      const object = node.childForFieldName('object');
      const property = node.childForFieldName('property');
      if (object && property) {
        return { kind: 'member', text, object: toValue(object), property: property.text };
      }
      return { kind: 'expr', text };
    }
    case 'subscript_expression': {
      const object = node.childForFieldName('object');
      const index = node.childForFieldName('index');
      if (object && index)
        return { kind: 'member', text, object: toValue(object), property: `[${index.text}]` };
      return { kind: 'expr', text };
    }
    case 'call_expression': {
      const fn = node.childForFieldName('function');
      const args = node.childForFieldName('arguments');
      return {
        kind: 'call',
        text,
        fn: fn?.text ?? '',
        args: args ? named(args).map(toValue) : [],
      };
    }
    default:
      return { kind: 'expr', text };
  }
}

/** The object a resource or module is declared with, through `if (...)` and `[for ...: ...]`. */
function declarationBody(node: Node): { body: Value; conditional: boolean; loop: boolean } {
  let conditional = false;
  let loop = false;
  let current: Node | undefined = named(node).at(-1);
  while (current && current.type !== 'object') {
    if (current.type === 'if_statement') conditional = true;
    else if (current.type === 'for_statement') loop = true;
    else break;
    current = named(current).at(-1);
  }
  return {
    body: current ? toValue(current) : { kind: 'expr', text: node.text },
    conditional,
    loop,
  };
}

function decoratorNames(node: Node | null): string[] {
  if (node?.type !== 'decorators') return [];
  return named(node).map((decorator) => {
    const call = named(decorator)[0];
    return call?.childForFieldName('function')?.text ?? call?.text ?? '';
  });
}

/** Parses one Bicep source. Throws BicepSyntaxError when the grammar finds any ERROR or MISSING node. */
export async function parseBicep(source: string, file = '<inline>'): Promise<BicepFile> {
  const parser = await bicepParser();
  const tree = parser.parse(source);
  if (!tree) throw new Error(`${file}: the parser returned no tree`);
  const root = tree.rootNode;
  if (root.type !== 'infrastructure') throw new Error(`${file}: unexpected root ${root.type}`);
  const problems = syntaxProblems(root);
  if (problems.length > 0 || root.hasError) throw new BicepSyntaxError(file, problems);

  const result: BicepFile = {
    file,
    source,
    targetScope: 'resourceGroup',
    params: new Map(),
    vars: new Map(),
    resources: [],
    modules: [],
    outputs: new Map(),
    imports: [],
  };
  for (const decl of named(root)) {
    const children = named(decl);
    const first = children[0];
    switch (decl.type) {
      case 'target_scope_assignment':
        if (first) result.targetScope = (toValue(first) as { value: string }).value;
        break;
      case 'parameter_declaration': {
        const [nameNode, typeNode, defaultNode] = children;
        if (!nameNode) break;
        result.params.set(nameNode.text, {
          name: nameNode.text,
          type: typeNode?.text ?? '',
          defaultValue: defaultNode ? toValue(defaultNode) : undefined,
          decorators: decoratorNames(decl.previousNamedSibling),
        });
        break;
      }
      case 'variable_declaration': {
        const [nameNode, valueNode] = children;
        if (nameNode && valueNode) result.vars.set(nameNode.text, toValue(valueNode));
        break;
      }
      case 'output_declaration': {
        const nameNode = children[0];
        const valueNode = children.at(-1);
        if (nameNode && valueNode) result.outputs.set(nameNode.text, toValue(valueNode));
        break;
      }
      case 'import_functionality': {
        const from = children.at(-1);
        result.imports.push({
          names: children.slice(0, -1).map((n) => n.text),
          from: from ? (toValue(from) as { value: string }).value : '',
        });
        break;
      }
      case 'resource_declaration': {
        const [symbolNode, typeNode] = children;
        if (!symbolNode || !typeNode) break;
        const typeText = (toValue(typeNode) as { value: string }).value;
        const [type = '', apiVersion = ''] = typeText.split('@');
        const header = source.slice(typeNode.endIndex, decl.endIndex);
        result.resources.push({
          symbol: symbolNode.text,
          type,
          apiVersion,
          existing: /^\s*existing\s*=/.test(header),
          ...declarationBody(decl),
        });
        break;
      }
      case 'module_declaration': {
        const [symbolNode, pathNode] = children;
        if (!symbolNode || !pathNode) break;
        const { body, conditional } = declarationBody(decl);
        result.modules.push({
          symbol: symbolNode.text,
          source: (toValue(pathNode) as { value: string }).value,
          conditional,
          body,
        });
        break;
      }
      default:
        break;
    }
  }
  return result;
}

/** Every .bicep file under infra/, sorted, as repository-relative paths. */
export function bicepFilePaths(dir = INFRA_DIR): string[] {
  const found: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) found.push(...bicepFilePaths(full));
    else if (entry.name.endsWith('.bicep')) found.push(full);
  }
  return found.sort();
}

/** Parses every Bicep file under infra/, keyed by repository-relative path (e.g. `infra/main.bicep`). */
export async function loadInfra(): Promise<Map<string, BicepFile>> {
  const files = new Map<string, BicepFile>();
  for (const full of bicepFilePaths()) {
    const rel = path.relative(REPO_ROOT, full).split(path.sep).join('/');
    files.set(rel, await parseBicep(readFileSync(full, 'utf8'), rel));
  }
  return files;
}

// ---- Queries over values

/** Follows a dotted path through object values: `prop(body, 'properties.filter.subjectBeginsWith')`. */
export function prop(value: Value | undefined, dotted: string): Value | undefined {
  let current = value;
  for (const key of dotted.split('.')) {
    if (current?.kind !== 'object') return undefined;
    current = current.props.get(key);
  }
  return current;
}

/**
 * Resolves a value within one file: a reference to a `var` is replaced by the variable's value, and a
 * reference to a `param` by its default (if any). Anything else is returned as is.
 */
export function resolve(file: BicepFile, value: Value | undefined, depth = 0): Value | undefined {
  if (value?.kind !== 'ref' || depth > 10) return value;
  const variable = file.vars.get(value.name);
  if (variable) return resolve(file, variable, depth + 1);
  const param = file.params.get(value.name);
  if (param?.defaultValue) return resolve(file, param.defaultValue, depth + 1);
  return value;
}

/** A literal string (after resolving vars and param defaults), or undefined when it is not one. */
export function literalString(file: BicepFile, value: Value | undefined): string | undefined {
  const resolved = resolve(file, value);
  return resolved?.kind === 'string' && !resolved.interpolated ? resolved.value : undefined;
}

/**
 * A string with every interpolation of a literal var or param default filled in, for example a role
 * assignment condition built from pieces. Interpolations that are not literals stay as `${...}`.
 */
export function expandString(file: BicepFile, value: Value | undefined, depth = 0): string | undefined {
  const resolved = resolve(file, value);
  if (resolved?.kind !== 'string' || depth > 10) return undefined;
  if (!resolved.interpolated) return resolved.value;
  let out = resolved.value;
  for (const part of resolved.parts) {
    const inner = expandString(file, part, depth + 1);
    if (inner !== undefined) out = out.replace('${' + part.text + '}', inner);
  }
  return out;
}

/** A literal array of strings (after resolving), or undefined. */
export function literalStrings(file: BicepFile, value: Value | undefined): string[] | undefined {
  const resolved = resolve(file, value);
  if (resolved?.kind !== 'array') return undefined;
  const items = resolved.items.map((item) => literalString(file, item));
  return items.every((item): item is string => item !== undefined) ? items : undefined;
}

export function literalBoolean(file: BicepFile, value: Value | undefined): boolean | undefined {
  const resolved = resolve(file, value);
  return resolved?.kind === 'boolean' ? resolved.value : undefined;
}

/** Resources of one type (`Microsoft.Storage/storageAccounts`), created (not `existing`) unless asked. */
export function resourcesOfType(
  files: Iterable<BicepFile>,
  type: string,
  options: { includeExisting?: boolean } = {},
): Array<{ file: BicepFile; resource: ResourceDecl }> {
  const found: Array<{ file: BicepFile; resource: ResourceDecl }> = [];
  for (const file of files) {
    for (const resource of file.resources) {
      if (resource.type.toLowerCase() !== type.toLowerCase()) continue;
      if (resource.existing && !options.includeExisting) continue;
      found.push({ file, resource });
    }
  }
  return found;
}

/** Every value of a file, depth first: param defaults, vars, resource and module bodies, outputs. */
export function* allValues(file: BicepFile): Generator<Value> {
  const roots: Value[] = [
    ...[...file.params.values()].flatMap((p) => (p.defaultValue ? [p.defaultValue] : [])),
    ...file.vars.values(),
    ...file.resources.map((r) => r.body),
    ...file.modules.map((m) => m.body),
    ...file.outputs.values(),
  ];
  const stack = [...roots];
  while (stack.length > 0) {
    const value = stack.pop()!;
    yield value;
    switch (value.kind) {
      case 'object':
        stack.push(...value.props.values());
        break;
      case 'array':
        stack.push(...value.items);
        break;
      case 'string':
        stack.push(...value.parts);
        break;
      case 'member':
        stack.push(value.object);
        break;
      case 'call':
        stack.push(...value.args);
        break;
      case 'boolean':
      case 'expr':
      case 'null':
      case 'number':
      case 'ref':
        break;
    }
  }
}

/** Looks up a file by repository-relative path and fails clearly when it is missing. */
export function fileAt(files: Map<string, BicepFile>, rel: string): BicepFile {
  const file = files.get(rel);
  if (!file) throw new Error(`${rel} not found among ${[...files.keys()].join(', ')}`);
  return file;
}
