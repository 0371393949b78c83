import { ingestOutcome, ingestProgress, type InstanceStatus } from '../../../local/drops';

const status = (
  runtimeStatus: string,
  customStatus: unknown = null,
  output: unknown = null,
): InstanceStatus => ({
  instanceId: 'ingest-test',
  runtimeStatus,
  customStatus,
  output,
});

describe('where a waited-for ingestion is', () => {
  it('when its event is not handled yet, then it is queued', () => {
    expect(ingestProgress(status('NotFound'))).toEqual({ stage: 'queued', stepsDone: null, detail: null });
    expect(ingestProgress(status('Pending')).stage).toBe('queued');
  });

  it('when it runs but has set no stage yet, then it is starting', () => {
    expect(ingestProgress(status('Running')).stage).toBe('starting');
  });

  it('when it validates, then the stage is validate with no step done', () => {
    expect(ingestProgress(status('Running', { stage: 'validating' }))).toEqual({
      stage: 'validate',
      stepsDone: 0,
      detail: null,
    });
  });

  it('when silver waits behind another batch, then the stage is silver, one step done, and the batch it waits behind', () => {
    expect(ingestProgress(status('Running', { stage: 'silver', waitingBehind: 'batch-silver-7' }))).toEqual({
      stage: 'silver',
      stepsDone: 1,
      detail: 'waiting behind batch-silver-7',
    });
  });

  it('when silver is queued for a batch that has not started, then the detail says so', () => {
    expect(ingestProgress(status('Running', { stage: 'silver', waitingBehind: '' })).detail).toBe(
      'queued for a batch',
    );
  });

  it('when gold runs in a batch, then the stage is gold, two steps done, and the batch', () => {
    expect(ingestProgress(status('Running', { stage: 'gold', batch: 'batch-gold-3' }))).toEqual({
      stage: 'gold',
      stepsDone: 2,
      detail: 'batch batch-gold-3',
    });
  });

  it('when it writes the audit record, then the stage is audit, three steps done', () => {
    expect(ingestProgress(status('Running', { stage: 'auditing' }))).toMatchObject({
      stage: 'audit',
      stepsDone: 3,
    });
  });

  it('when it completed, then every one of the four steps is done', () => {
    expect(ingestProgress(status('Completed', { stage: 'completed' }))).toMatchObject({
      stage: 'completed',
      stepsDone: 4,
    });
  });

  it('when it ended rejected, then the stage says so and no step count is claimed', () => {
    expect(ingestProgress(status('Completed', { stage: 'rejected' }))).toEqual({
      stage: 'rejected',
      stepsDone: null,
      detail: null,
    });
  });
});

describe('how a waited-for ingestion ended', () => {
  it('when the orchestration completed with a completed result, then it completed', () => {
    expect(ingestOutcome(status('Completed', null, { status: 'completed' }))).toBe('completed');
  });

  it('when the orchestration completed with a rejected result, then it was rejected', () => {
    expect(ingestOutcome(status('Completed', null, { status: 'rejected' }))).toBe('rejected');
  });

  it('when the orchestration failed or was terminated, then it failed', () => {
    expect(ingestOutcome(status('Failed', null, 'boom'))).toBe('failed');
    expect(ingestOutcome(status('Terminated'))).toBe('failed');
  });

  it('when the wait gave up while it ran, then it is unfinished', () => {
    expect(ingestOutcome(status('Running', { stage: 'silver' }))).toBe('unfinished');
  });
});
