import { countsText, veeOutcomeOf, veeRunTotals } from '../../../lib/pipeline/vee';
import { VEE_MANIFEST } from '../../fixtures/vee';

const VEE = VEE_MANIFEST;

describe('veeOutcomeOf', () => {
  it('when the run lists the file, then the file gets its own outcome, not the batch totals', () => {
    expect(veeOutcomeOf(VEE, 'ingest-a')).toEqual({
      meterDays: 20,
      completeMeterDays: 19,
      missingIntervals: 8,
      estimatedIntervals: { linear: 3 },
      findings: { gap: 2 },
    });
  });

  it('when the run lists no entry for the file, then its outcome is zero meter-days', () => {
    expect(veeOutcomeOf(VEE, 'ingest-c')).toEqual({
      meterDays: 0,
      completeMeterDays: 0,
      missingIntervals: 0,
      estimatedIntervals: {},
      findings: {},
    });
  });
});

describe('veeRunTotals', () => {
  it('when a run record takes the totals, then the per-file outcomes are left out', () => {
    expect(veeRunTotals(VEE)).toEqual({
      days: ['2025-09-28'],
      meterDays: 40,
      completeMeterDays: 37,
      expectedIntervals: 1920,
      receivedIntervals: 1890,
      estimatedIntervals: { linear: 12, like_day: 10 },
      missingIntervals: 8,
      findings: { gap: 5, spike: 2, zero_run: 1 },
    });
  });
});

describe('countsText', () => {
  it('when counts are given out of order, then they read by code with zero counts left out', () => {
    expect(countsText({ zero_run: 1, spike: 0, gap: 5 })).toBe('gap 5, zero_run 1');
  });

  it('when there is nothing to count, then it reads none', () => {
    expect(countsText({})).toBe('none');
  });
});
