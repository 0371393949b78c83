import Module from 'node:module';

/**
 * A stand-in for `@azure/functions-core`, the module the Azure Functions Node worker provides to
 * `@azure/functions` at run time. `@azure/functions` requires it lazily on the first `app.*` call; with this
 * stand-in installed, every registration (`app.http`, `app.eventGrid`, `app.timer`, `df.app.*`, ...) lands
 * here with its full binding metadata and its real (wrapped) handler, and hooks (`app.hook.*`) are kept so
 * the local host can run them like the worker does.
 *
 * State lives on `globalThis` under a registered symbol, so copies of this module loaded by different
 * module registries (jest) share one registry, as the single worker does.
 */

/** The binding metadata `@azure/functions` hands to the worker (`toCoreFunctionMetadata`). */
export interface CoreBinding {
  type?: string | null;
  direction?: 'in' | 'out' | 'inout' | null;
  name?: string;
  [key: string]: unknown;
}

export interface CoreFunctionMetadata {
  name: string;
  bindings: Record<string, CoreBinding>;
  retryOptions?: unknown;
}

export type CoreFunctionCallback = (...args: unknown[]) => unknown;
export type CoreHookCallback = (context: object) => unknown;

/** The worker's view of one invocation, as `@azure/functions`' `InvocationModel` reads it. */
export interface CoreInvocationContext {
  invocationId: string;
  request: {
    inputData?: Array<{ name: string; data: RpcTypedData | null | undefined }>;
    triggerMetadata?: Record<string, RpcTypedData>;
    retryContext?: null;
    traceContext?: null;
  };
  metadata: { name: string; bindings: Record<string, CoreBinding> };
  state?: 'preInvocationHooks' | 'postInvocationHooks' | 'invocation';
  log(level: string, category: string, message: string): void;
}

export interface RpcHttpData {
  method?: string;
  url?: string;
  headers?: Record<string, string>;
  query?: Record<string, string>;
  params?: Record<string, string>;
  body?: RpcTypedData | null;
  statusCode?: string;
  cookies?: unknown[];
}

export interface RpcTypedData {
  string?: string | null;
  json?: string | null;
  bytes?: Uint8Array | null;
  http?: RpcHttpData | null;
  int?: number | null;
  double?: number | null;
}

export interface CoreInvocationModel {
  getArguments(): Promise<{ context: unknown; inputs: unknown[] }>;
  invokeFunction(context: unknown, inputs: unknown[], handler: CoreFunctionCallback): Promise<unknown>;
  getResponse(
    context: unknown,
    result: unknown,
  ): Promise<{ returnValue?: RpcTypedData | null; outputData?: unknown[] }>;
}

export interface CoreProgrammingModel {
  name: string;
  version: string;
  getInvocationModel(coreCtx: CoreInvocationContext): CoreInvocationModel;
}

export interface CapturedFunction {
  metadata: CoreFunctionMetadata;
  callback: CoreFunctionCallback;
}

export interface CoreRegistry {
  functions: Map<string, CapturedFunction>;
  hooks: Map<string, CoreHookCallback[]>;
  programmingModel: CoreProgrammingModel | undefined;
  /** Where worker-level logs (`workerSystemLog`) go; the host replaces it with its logger. */
  logSink: (level: string, category: string, message: string) => void;
}

const REGISTRY_KEY = Symbol.for('lakewatt.functionsCore.registry');

export function coreRegistry(): CoreRegistry {
  const holder = globalThis as { [REGISTRY_KEY]?: CoreRegistry };
  holder[REGISTRY_KEY] ??= {
    functions: new Map(),
    hooks: new Map(),
    programmingModel: undefined,
    logSink: () => {},
  };
  return holder[REGISTRY_KEY];
}

class Disposable {
  constructor(private readonly onDispose: () => void) {}
  dispose(): void {
    this.onDispose();
  }
}

/** The module object `require('@azure/functions-core')` returns. */
export const functionsCoreApi = {
  Disposable,
  setProgrammingModel(model: CoreProgrammingModel): void {
    coreRegistry().programmingModel = model;
  },
  getProgrammingModel(): CoreProgrammingModel | undefined {
    return coreRegistry().programmingModel;
  },
  registerFunction(metadata: CoreFunctionMetadata, callback: CoreFunctionCallback): Disposable {
    const registry = coreRegistry();
    if (registry.functions.has(metadata.name)) {
      throw new Error(`A function named "${metadata.name}" is already registered.`);
    }
    registry.functions.set(metadata.name, { metadata, callback });
    return new Disposable(() => registry.functions.delete(metadata.name));
  },
  registerHook(hookName: string, callback: CoreHookCallback): Disposable {
    const hooks = coreRegistry().hooks;
    const list = hooks.get(hookName) ?? [];
    list.push(callback);
    hooks.set(hookName, list);
    return new Disposable(() => {
      const index = list.indexOf(callback);
      if (index >= 0) list.splice(index, 1);
    });
  },
  log(level: string, category: string, message: string): void {
    coreRegistry().logSink(level, category, message);
  },
};

const STAND_IN_ID = '\0lakewatt:@azure/functions-core';
let installed = false;

/**
 * Makes plain Node `require('@azure/functions-core')` return the stand-in (a resolution hook plus a
 * pre-filled require cache entry). Must run before the first `app.*` registration. Under jest, whose
 * resolver bypasses Node's, tests map the module with `jest.mock(..., { virtual: true })` instead.
 */
export function installFunctionsCoreStandIn(): void {
  if (installed) return;
  installed = true;
  const moduleInternals = Module as unknown as {
    _resolveFilename: (request: string, ...rest: unknown[]) => string;
    _cache: Record<string, unknown>;
  };
  const original = moduleInternals._resolveFilename;
  moduleInternals._resolveFilename = function (this: unknown, request: string, ...rest: unknown[]) {
    if (request === '@azure/functions-core') return STAND_IN_ID;
    return original.call(this, request, ...rest);
  };
  const standIn = new Module(STAND_IN_ID);
  standIn.exports = functionsCoreApi;
  standIn.loaded = true;
  moduleInternals._cache[STAND_IN_ID] = standIn;
}
