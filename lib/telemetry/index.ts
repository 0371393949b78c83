export * from './events';
export * from './localExporter';
export * from './names';
export * from './pipelineEvents';
export * from './runtime';
export * from './setup';
export * from './traceContext';
export * from './tracing';
