import {
  DynamicReferenceError,
  type ReferenceContext,
  resolveReferences,
} from '../../../local/databricks/references';

const CONTEXT: ReferenceContext = {
  jobId: 1001,
  jobName: 'lakewatt-silver',
  runId: 100001,
  startTime: Date.parse('2026-03-29T01:30:05Z'),
  parameters: { dataset: 'meter_readings' },
  taskKey: 'silver',
  taskRunId: 100002,
  attempt: 0,
  tasks: { bronze: { runId: 100003, resultState: 'SUCCESS' } },
  jobIdsByKey: { gold: 1002 },
  jobNamesByKey: { gold: 'lakewatt-gold' },
  workspaceUrl: 'http://127.0.0.1:7072',
};

describe('resolveReferences', () => {
  it('when a job parameter is referenced, then its value is substituted', () => {
    expect(resolveReferences('--dataset={{job.parameters.dataset}}', CONTEXT)).toBe(
      '--dataset=meter_readings',
    );
  });

  it('when ids are referenced, then the job, run and task run ids are substituted', () => {
    expect(resolveReferences('{{job.id}}/{{job.run_id}}/{{task.run_id}}/{{ task.name }}', CONTEXT)).toBe(
      '1001/100001/100002/silver',
    );
  });

  it('when the start time is referenced, then it is formatted in UTC', () => {
    expect(resolveReferences('{{job.start_time.iso_date}} {{job.start_time.hour}}', CONTEXT)).toBe(
      '2026-03-29 01',
    );
  });

  it('when another task is referenced, then its run id and result state are substituted', () => {
    expect(resolveReferences('{{tasks.bronze.run_id}} {{tasks.bronze.result_state}}', CONTEXT)).toBe(
      '100003 SUCCESS',
    );
  });

  it('when a bundle job resource id is referenced, then the emulator job id is substituted', () => {
    expect(resolveReferences('{{lakewatt.resources.jobs.gold.id}}', CONTEXT)).toBe('1002');
  });

  it('when a reference is unknown, then a DynamicReferenceError names it and the task', () => {
    expect(() => resolveReferences('{{job.parameters.missing}}', CONTEXT)).toThrow(DynamicReferenceError);
    expect(() => resolveReferences('{{job.paramters.dataset}}', CONTEXT)).toThrow(
      'unknown dynamic value reference {{job.paramters.dataset}} in task silver',
    );
  });
});
