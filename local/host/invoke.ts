import { randomUUID } from 'node:crypto';

import { ensureError } from '../../lib/errors';
import {
  type CapturedFunction,
  type CoreFunctionCallback,
  type CoreInvocationContext,
  coreRegistry,
  type RpcTypedData,
} from './functionsCore';

export interface InvocationInput {
  /** Values per binding name, as the host would send them over gRPC. */
  inputData: Array<{ name: string; data: RpcTypedData | null | undefined }>;
  triggerMetadata?: Record<string, RpcTypedData>;
  /** Receives every log line of the invocation (user and system). */
  log: (level: string, category: string, message: string) => void;
  invocationId?: string;
}

export interface InvocationResult {
  returnValue: RpcTypedData | null | undefined;
  outputData: unknown[];
}

/** Names of a function's trigger binding and of its input bindings by type. */
export function triggerBinding(fn: CapturedFunction): { name: string; type: string } {
  for (const [name, binding] of Object.entries(fn.metadata.bindings)) {
    if (binding.direction === 'in' && typeof binding.type === 'string' && /trigger$/i.test(binding.type)) {
      return { name, type: binding.type };
    }
  }
  throw new Error(`Function "${fn.metadata.name}" has no trigger binding.`);
}

export function inputBindingsOfType(fn: CapturedFunction, type: string): string[] {
  return Object.entries(fn.metadata.bindings)
    .filter(([, b]) => b.direction === 'in' && b.type?.toLowerCase() === type.toLowerCase())
    .map(([name]) => name);
}

type HookContext = Record<string, unknown> & { hookData: Record<string, unknown> };

const appHookData: Record<string, unknown> = {};

async function runHooks(name: string, context: HookContext): Promise<void> {
  for (const hook of [...(coreRegistry().hooks.get(name) ?? [])]) await hook(context);
}

/** Runs the app-level `appStart` hooks, as the worker does once before the first invocation. */
export async function runAppStartHooks(functionAppDirectory: string): Promise<void> {
  await runHooks('appStart', { hookData: {}, appHookData, functionAppDirectory });
}

export async function runAppTerminateHooks(): Promise<void> {
  await runHooks('appTerminate', { hookData: {}, appHookData });
}

/**
 * Invokes a captured function the way the Node worker does: through `@azure/functions`' own programming
 * model (`getInvocationModel` → `getArguments` → pre-invocation hooks → `invokeFunction` → post-invocation
 * hooks → `getResponse`), so trigger conversion (HttpRequest, timer camel-casing, durable client input)
 * is the library's, not ours. Throws what the handler threw.
 */
export async function invoke(fn: CapturedFunction, input: InvocationInput): Promise<InvocationResult> {
  const model = coreRegistry().programmingModel;
  if (!model) throw new Error('No programming model was set: no @azure/functions app was loaded.');
  const coreCtx: CoreInvocationContext = {
    invocationId: input.invocationId ?? randomUUID(),
    request: { inputData: input.inputData, triggerMetadata: input.triggerMetadata },
    metadata: { name: fn.metadata.name, bindings: fn.metadata.bindings },
    log: input.log,
  };
  const invocationModel = model.getInvocationModel(coreCtx);
  const { context, inputs: initialInputs } = await invocationModel.getArguments();
  coreCtx.state = 'preInvocationHooks';
  const hookData: Record<string, unknown> = {};
  const pre: HookContext = {
    hookData,
    appHookData,
    invocationContext: context,
    inputs: initialInputs,
    functionCallback: fn.callback,
  };
  await runHooks('preInvocation', pre);
  const inputs = pre.inputs as unknown[];
  const callback = pre.functionCallback as CoreFunctionCallback;
  coreCtx.state = 'invocation';
  let result: unknown;
  let error: unknown;
  try {
    result = await invocationModel.invokeFunction(context, inputs, callback);
  } catch (thrown) {
    error = thrown;
  }
  coreCtx.state = 'postInvocationHooks';
  const post: HookContext = { hookData, appHookData, invocationContext: context, inputs, result, error };
  await runHooks('postInvocation', post);
  coreCtx.state = undefined;
  if (post.error !== undefined && post.error !== null) throw ensureError(post.error);
  const response = await invocationModel.getResponse(context, post.result);
  return { returnValue: response.returnValue, outputData: response.outputData ?? [] };
}

/** Decodes a typed-data value the way a host would read a function's return value. */
export function fromTypedData(data: RpcTypedData | null | undefined): unknown {
  if (!data) return undefined;
  if (typeof data.json === 'string') return JSON.parse(data.json) as unknown;
  if (typeof data.string === 'string') return data.string;
  if (typeof data.int === 'number') return data.int;
  if (typeof data.double === 'number') return data.double;
  if (data.bytes) return Buffer.from(data.bytes);
  return undefined;
}
