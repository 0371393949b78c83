export * from './auth';
export * from './errors';
export * from './factory';
export * from './jobsClient';
export * from './runOutcome';
export type {
  LifeCycleState,
  ResultState,
  StatusState,
  WireRun,
  WireRunOutput,
  WireRunTask,
} from './schemas';
export * from './sqlClient';
export * from './traceParameter';
