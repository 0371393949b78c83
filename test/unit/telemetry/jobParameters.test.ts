import type { JobsApi, RunNowRequest } from '../../../lib/databricks';
import { TRACEPARENT_PARAMETER, withTraceparent } from '../../../lib/databricks';
import { startJobRun } from '../../../lib/pipeline/steps';

const TRACE = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

/** A fake Jobs API (Databricks cannot run here) that records what run-now was asked. */
function fakeJobs(): JobsApi & { started: RunNowRequest[] } {
  const started: RunNowRequest[] = [];
  const unused = (): never => {
    throw new Error('not used by this test');
  };
  return {
    started,
    resolveJobId: () => Promise.resolve(12),
    runNow: (request) => {
      started.push(request);
      return Promise.resolve({ runId: 77, numberInJob: 1 });
    },
    getRun: unused,
    listActiveRuns: unused,
    cancelRun: unused,
    getRunOutput: unused,
  };
}

describe('the trace context travels as a job parameter', () => {
  test('when a run is started with a traceparent, then its job parameters carry it beside the others', async () => {
    const jobs = fakeJobs();

    await startJobRun(jobs, {
      job: 'lakewatt-silver',
      parameters: { dataset: 'prices', orchestration_id: 'batch-1' },
      idempotencyToken: 'batch-1:0:silver',
      traceparent: TRACE,
    });

    expect(jobs.started[0]!.jobParameters).toEqual({
      dataset: 'prices',
      orchestration_id: 'batch-1',
      traceparent: TRACE,
    });
  });

  test('when a run is started without one (a history from before traces), then no traceparent parameter is sent', async () => {
    const jobs = fakeJobs();

    await startJobRun(jobs, { job: 'lakewatt-gold', parameters: { tables: 'x' }, idempotencyToken: 't' });

    expect(jobs.started[0]!.jobParameters).toEqual({ tables: 'x' });
  });

  test('when the parameter is added, then the caller’s parameters are left as they were', () => {
    const parameters = { dataset: 'prices' };

    const sent = withTraceparent(parameters, TRACE);

    expect(parameters).toEqual({ dataset: 'prices' });
    expect(sent[TRACEPARENT_PARAMETER]).toBe(TRACE);
  });
});
