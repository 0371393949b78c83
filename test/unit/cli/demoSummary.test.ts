import { type DemoSummary, demoVee, demoVeeLines, formatDemoSummary } from '../../../local/demo';

describe('demo summary: meter-data VEE', () => {
  it('when silver answers its totals and counts, then the figures split findings by rule and estimates by method', () => {
    const totals = {
      meter_days: 40,
      complete_meter_days: 37,
      expected_intervals: 1920,
      received_intervals: 1890,
      missing_intervals: 8,
    };
    const counts = [
      { kind: 'estimate', code: 'linear', n: 12 },
      { kind: 'finding', code: 'gap', n: 5 },
      { kind: 'estimate', code: 'like_day', n: 10 },
      { kind: 'finding', code: 'spike', n: 2 },
    ];

    expect(demoVee(totals, counts)).toEqual({
      meterDays: 40,
      completeMeterDays: 37,
      expectedIntervals: 1920,
      receivedIntervals: 1890,
      missingIntervals: 8,
      estimatedIntervals: { linear: 12, like_day: 10 },
      findings: { gap: 5, spike: 2 },
    });
  });

  it('when the completeness table is empty (sums are null), then every figure is zero', () => {
    const totals = {
      meter_days: 0,
      complete_meter_days: 0,
      expected_intervals: null,
      received_intervals: null,
      missing_intervals: null,
    };

    expect(demoVee(totals, [])).toEqual({
      meterDays: 0,
      completeMeterDays: 0,
      expectedIntervals: 0,
      receivedIntervals: 0,
      missingIntervals: 0,
      estimatedIntervals: {},
      findings: {},
    });
  });

  it('when there are figures, then the section reads meter-days complete, intervals, estimates by method and findings by rule', () => {
    const vee = {
      meterDays: 40,
      completeMeterDays: 37,
      expectedIntervals: 1920,
      receivedIntervals: 1890,
      missingIntervals: 8,
      estimatedIntervals: { linear: 12, like_day: 10 },
      findings: { zero_run: 1, gap: 5, spike: 2 },
    };

    expect(demoVeeLines(vee)).toEqual([
      'Meter-data VEE (silver.meter_day_completeness, vee_findings, meter_readings):',
      '  meter-days complete  37 of 40 (92.5 %)',
      '  intervals            1890 of 1920 received, 8 still missing',
      '  estimated            22: like_day 10, linear 12',
      '  findings by rule     gap 5, spike 2, zero_run 1',
    ]);
  });

  it('when silver has no VEE tables, then the section says VEE was not evaluated', () => {
    expect(demoVeeLines(null)).toEqual([
      'Meter-data VEE: not evaluated (silver has no meter_day_completeness table)',
    ]);
  });

  it('when the summary is printed, then the VEE section comes before where the audit records are', () => {
    const summary: DemoSummary = {
      home: '/tmp/demo',
      seconds: 1,
      files: [],
      tables: [],
      gold: [],
      segments: [],
      vee: null,
      databricksRuns: 0,
      auditFolder: '/tmp/demo/lake/audit/runs',
    };

    const text = formatDemoSummary(summary);

    expect(text).toContain(
      '\nMeter-data VEE: not evaluated (silver has no meter_day_completeness table)\n\nAudit records: /tmp/demo/lake/audit/runs\n',
    );
  });
});

describe('demo summary: the console', () => {
  const summary: DemoSummary = {
    home: '/tmp/demo',
    seconds: 1,
    files: [],
    tables: [],
    gold: [],
    segments: [],
    vee: null,
    databricksRuns: 0,
    auditFolder: '/tmp/demo/lake/audit/runs',
  };

  it('when a console served the demo, then the summary ends with its URL and how to browse the state folder', () => {
    const url = 'http://127.0.0.1:7071/?token=abc';

    const lines = formatDemoSummary({ ...summary, consoleUrl: url })
      .trimEnd()
      .split('\n');

    expect(lines.at(-2)).toContain(`Console:       ${url} `);
    expect(lines.at(-1)).toContain(`LAKEWATT_HOME=${summary.home} lakewatt ui`);
  });

  it('when no console is served, then no line names one', () => {
    expect(formatDemoSummary(summary)).not.toMatch(/console/i);
  });
});
