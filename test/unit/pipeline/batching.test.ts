import { readFileSync } from 'node:fs';
import path from 'node:path';

import fc from 'fast-check';

import {
  type BatchCaps,
  batchCaps,
  batchInstanceId,
  type BatchMember,
  type BatchSpec,
  DIMENSIONS_FED_BY,
  emptyQueue,
  finishBatch,
  GOLD_TABLE_NAMES,
  GOLD_TABLES_FED_BY,
  goldDatesParameter,
  goldDays,
  goldRunScope,
  joinQueue,
  type QueueState,
  sealBatch,
  splitMembers,
} from '../../../lib/pipeline/batching';

const QUEUE = 'silver.meter_readings';
const EPOCH = 'e0e0e0e0';
const WIDE: BatchCaps = { files: 100, rows: 1_000_000, bytes: 1_000_000 };
const SPARK_SRC = path.resolve(__dirname, '..', '..', '..', 'databricks', 'src', 'lakewatt');

function file(name: string, extra: Partial<BatchMember> = {}): BatchMember {
  return {
    instanceId: `ingest-${name}`,
    generation: 1,
    dataset: 'meter_readings',
    rows: 10,
    bytes: 100,
    dates: ['2025-10-26'],
    ...extra,
  };
}

const ids = (members: readonly BatchMember[]): string[] => members.map((m) => m.instanceId);

/** Joins each file in turn, returning the final state and every answer. */
function joinAll(state: QueueState, files: readonly BatchMember[], caps: BatchCaps = WIDE) {
  const answers = [];
  for (const f of files) {
    const joined = joinQueue(state, QUEUE, f, caps);
    state = joined.state;
    answers.push(joined.answer);
  }
  return { state, answers };
}

/** A queue whose running batch is `running`'s lone file, with `waiting` joined behind it. */
function busyQueue(waiting: readonly BatchMember[], caps: BatchCaps = WIDE) {
  const { state, answers } = joinAll(emptyQueue(EPOCH), [file('running'), ...waiting], caps);
  const first = answers[0];
  if (first?.kind !== 'start') throw new Error('the first file should have started a batch');
  return { state, running: first.batch, answers: answers.slice(1) };
}

/** Finishes running batches one after the other, returning each next batch's files. */
function drain(state: QueueState, running: BatchSpec, caps: BatchCaps): string[][] {
  const batches: string[][] = [];
  let current: BatchSpec | null = running;
  while (current) {
    const { state: after, next }: { state: QueueState; next: BatchSpec | null } = finishBatch(
      state,
      QUEUE,
      current.batchId,
      caps,
    );
    if (next) batches.push(ids(next.members));
    state = after;
    current = next;
  }
  return batches;
}

describe('joinQueue', () => {
  it('when a file joins an idle queue, then it starts a batch of itself at once', () => {
    const lone = file('a');
    const { state, answer } = joinQueue(emptyQueue(EPOCH), QUEUE, lone, WIDE);

    expect(answer).toEqual({
      kind: 'start',
      batch: {
        queue: QUEUE,
        step: 'silver',
        seq: 1,
        batchId: `batch-${QUEUE}-${EPOCH}-000001`,
        members: [lone],
        open: false,
      },
    });
    expect(state.waiting).toEqual([]);
    expect(state.active?.members).toEqual([lone]);
  });

  it('when files join while a batch runs, then each waits behind it in arrival order', () => {
    const { state, running } = busyQueue([file('b'), file('c')]);

    expect(ids(state.waiting)).toEqual(['ingest-b', 'ingest-c']);
    expect(state.active?.batchId).toBe(running.batchId);
    const { answers } = joinAll(state, [file('d')]);
    expect(answers).toEqual([{ kind: 'waiting', position: 2, behind: running.batchId }]);
  });

  it('when a waiting file joins again with the same generation, then it gets the same answer and is not queued twice', () => {
    const { state, answers } = busyQueue([file('b'), file('c')]);
    const again = joinQueue(state, QUEUE, file('b'), WIDE);

    expect(again.answer).toEqual(answers[0]);
    expect(ids(again.state.waiting)).toEqual(['ingest-b', 'ingest-c']);
  });

  it('when a newer generation of a waiting file joins, then it replaces the older one', () => {
    const { state } = busyQueue([file('b'), file('c')]);
    const { state: after } = joinQueue(state, QUEUE, file('b', { generation: 2 }), WIDE);

    const versions = after.waiting.map((m) => `${m.instanceId}@${m.generation}`);
    expect(versions.sort()).toEqual(['ingest-b@2', 'ingest-c@1']);
  });

  it('when an older generation of a waiting file joins, then the newer one keeps its place', () => {
    const { state } = busyQueue([file('b', { generation: 3 })]);
    const { state: after, answer } = joinQueue(state, QUEUE, file('b', { generation: 2 }), WIDE);

    expect(answer.kind).toBe('waiting');
    expect(after.waiting.map((m) => m.generation)).toEqual([3]);
  });

  it('when a file of the running batch joins again, then it is told to start that same batch (a no-op)', () => {
    const { state, running } = busyQueue([file('b')]);
    const { state: after, answer } = joinQueue(state, QUEUE, file('running'), WIDE);

    expect(answer).toEqual({ kind: 'start', batch: running });
    expect(after).toEqual(state);
  });

  it('when a lone file is bigger than every cap, then it still starts a batch of itself', () => {
    const huge = file('huge', { rows: 5_000, bytes: 50_000 });
    const { answer } = joinQueue(emptyQueue(EPOCH), QUEUE, huge, { files: 1, rows: 10, bytes: 10 });

    expect(answer.kind === 'start' && ids(answer.batch.members)).toEqual(['ingest-huge']);
  });
});

describe('finishBatch', () => {
  it('when the running batch finishes, then the next batch takes every waiting file in arrival order', () => {
    const { state, running } = busyQueue([file('b'), file('c'), file('d')]);
    const { state: after, next } = finishBatch(state, QUEUE, running.batchId, WIDE);

    expect(ids(next?.members ?? [])).toEqual(['ingest-b', 'ingest-c', 'ingest-d']);
    expect(after.active).toEqual(next);
    expect(after.waiting).toEqual([]);
  });

  it('when the last batch finishes with nobody waiting, then the queue becomes idle and the next file starts at once', () => {
    const { state, running } = busyQueue([]);
    const { state: idle, next } = finishBatch(state, QUEUE, running.batchId, WIDE);

    expect(next).toBeNull();
    expect(idle.active).toBeNull();
    expect(joinQueue(idle, QUEUE, file('late'), WIDE).answer.kind).toBe('start');
  });

  it('when more files wait than the files cap, then each batch takes at most that many, oldest first', () => {
    const caps = { ...WIDE, files: 2 };
    const { state, running } = busyQueue(
      ['b', 'c', 'd', 'e', 'f'].map((n) => file(n)),
      caps,
    );

    expect(drain(state, running, caps)).toEqual([
      ['ingest-b', 'ingest-c'],
      ['ingest-d', 'ingest-e'],
      ['ingest-f'],
    ]);
  });

  it('when waiting files exceed the rows cap, then a batch takes files while their rows stay within it', () => {
    const caps = { ...WIDE, rows: 100 };
    const rows = [40, 60, 30, 50, 21];
    const waiting = rows.map((r, i) => file(`r${i}`, { rows: r }));
    const { state, running } = busyQueue(waiting, caps);

    // 40+60 = 100 fits exactly; 30+50 = 80 and +21 would be 101.
    expect(drain(state, running, caps)).toEqual([
      ['ingest-r0', 'ingest-r1'],
      ['ingest-r2', 'ingest-r3'],
      ['ingest-r4'],
    ]);
  });

  it('when waiting files exceed the bytes cap, then a batch takes files while their bytes stay within it', () => {
    const caps = { ...WIDE, bytes: 1_000 };
    const waiting = [700, 300, 1, 999].map((b, i) => file(`b${i}`, { bytes: b }));
    const { state, running } = busyQueue(waiting, caps);

    expect(drain(state, running, caps)).toEqual([
      ['ingest-b0', 'ingest-b1'],
      ['ingest-b2', 'ingest-b3'],
    ]);
  });

  it('when a waiting file alone exceeds a cap, then it runs in a batch of its own and order is kept', () => {
    const caps = { ...WIDE, rows: 100, bytes: 1_000 };
    const waiting = [file('small1'), file('big', { rows: 500, bytes: 9_000 }), file('small2')];
    const { state, running } = busyQueue(waiting, caps);

    expect(drain(state, running, caps)).toEqual([['ingest-small1'], ['ingest-big'], ['ingest-small2']]);
  });

  it('when a batch that is not the running one finishes, then nothing changes and nothing starts', () => {
    const { state, running } = busyQueue([file('b')]);
    const { state: moved, next } = finishBatch(state, QUEUE, running.batchId, WIDE);

    const repeated = finishBatch(moved, QUEUE, running.batchId, WIDE);
    const unknown = finishBatch(moved, QUEUE, 'batch-somewhere-else', WIDE);
    expect(repeated).toEqual({ state: moved, next: null });
    expect(unknown).toEqual({ state: moved, next: null });
    expect(next).not.toBeNull();
  });
});

describe('lingering batches', () => {
  /** A queue whose first file started a lingering batch, then `others` joined in turn. */
  function lingering(others: readonly BatchMember[], caps: BatchCaps = WIDE) {
    const started = joinQueue(emptyQueue(EPOCH), QUEUE, file('first'), caps, true);
    const answer = started.answer;
    let state = started.state;
    if (answer.kind !== 'start') throw new Error('the first file should have started a batch');
    const batchId = answer.batch.batchId;
    const answers = [];
    for (const other of others) {
      const joined = joinQueue(state, QUEUE, other, caps, true);
      state = joined.state;
      answers.push(joined.answer);
    }
    return { state, batchId, answers };
  }

  it('when a file starts a batch with linger on, then the batch is open and starts with that file alone', () => {
    const { state } = lingering([]);

    expect(state.active?.open).toBe(true);
    expect(ids(state.active!.members)).toEqual(['ingest-first']);
  });

  it('when files join a lingering batch, then they run in it instead of waiting', () => {
    const { state, batchId, answers } = lingering([file('b'), file('c')]);

    expect(answers).toEqual([
      { kind: 'running', batchId },
      { kind: 'running', batchId },
    ]);
    expect(ids(state.active!.members)).toEqual(['ingest-first', 'ingest-b', 'ingest-c']);
    expect(state.waiting).toEqual([]);
  });

  it('when a lingering batch is full, then the next file waits behind it', () => {
    const { state, batchId, answers } = lingering([file('b'), file('c')], { ...WIDE, files: 2 });

    expect(answers[0]).toEqual({ kind: 'running', batchId });
    expect(answers[1]).toEqual({ kind: 'waiting', position: 0, behind: batchId });
    expect(ids(state.waiting)).toEqual(['ingest-c']);
  });

  it('when a file would push a lingering batch over its rows cap, then it waits and a smaller later file still joins', () => {
    const caps = { ...WIDE, rows: 25 };
    const { state } = lingering([file('big', { rows: 20 }), file('small', { rows: 5 })], caps);

    expect(ids(state.active!.members)).toEqual(['ingest-first', 'ingest-small']);
    expect(ids(state.waiting)).toEqual(['ingest-big']);
  });

  it('when the lingering batch is sealed, then its members are final and later files wait for the next batch', () => {
    const { state, batchId } = lingering([file('b')]);
    const { state: sealed, batch } = sealBatch(state, batchId);
    const late = joinQueue(sealed, QUEUE, file('late'), WIDE, true);

    expect(batch && ids(batch.members)).toEqual(['ingest-first', 'ingest-b']);
    expect(batch?.open).toBe(false);
    expect(late.answer).toEqual({ kind: 'waiting', position: 0, behind: batchId });
  });

  it('when a batch is sealed twice, then the second seal answers the same members and changes nothing', () => {
    const { state, batchId } = lingering([file('b')]);
    const once = sealBatch(state, batchId);
    const twice = sealBatch(once.state, batchId);

    expect(twice.state).toEqual(once.state);
    expect(twice.batch).toEqual(once.batch);
  });

  it('when a batch that is not the running one is sealed, then the answer is null and nothing changes', () => {
    const { state } = lingering([file('b')]);
    const { state: after, batch } = sealBatch(state, 'batch-other');

    expect(batch).toBeNull();
    expect(after).toEqual(state);
  });

  it('when the next batch follows a finished one, then it starts sealed (only idle queues linger)', () => {
    const { state, batchId } = lingering([]);
    const sealed = sealBatch(state, batchId).state;
    const queued = joinQueue(sealed, QUEUE, file('next'), WIDE, true).state;
    const { next } = finishBatch(queued, QUEUE, batchId, WIDE);

    expect(next?.open).toBe(false);
    expect(next && ids(next.members)).toEqual(['ingest-next']);
  });
});

describe('batchCaps', () => {
  const settings = {
    maxFiles: 100,
    maxRows: 5_000,
    maxBytes: 9_000,
    byDataset: { prices: { maxFiles: 7 } },
  };

  it('when a dataset has caps of its own, then its silver batches use them and the general caps fill the rest', () => {
    expect(batchCaps('silver', settings, 'prices')).toEqual({ files: 7, rows: 5_000, bytes: 9_000 });
  });

  it('when a dataset has no caps of its own, then its silver batches use the general caps', () => {
    expect(batchCaps('silver', settings, 'meter_readings')).toEqual({
      files: 100,
      rows: 5_000,
      bytes: 9_000,
    });
  });

  it("when the step is gold, then a dataset's caps do not limit it", () => {
    expect(batchCaps('gold', settings, 'prices').files).toBeGreaterThan(10_000);
  });
});

describe('batch ids', () => {
  it('when batches follow one another on a queue, then their ids are all different', () => {
    const caps = { ...WIDE, files: 1 };
    const { state, running } = busyQueue(
      ['b', 'c', 'd'].map((n) => file(n)),
      caps,
    );
    const seen = [running.batchId];
    let current: BatchSpec | null = running;
    let s = state;
    while (current) {
      ({ state: s, next: current } = finishBatch(s, QUEUE, current.batchId, caps));
      if (current) seen.push(current.batchId);
    }

    expect(seen).toHaveLength(4);
    expect(new Set(seen).size).toBe(4);
  });

  it('when the queue, epoch or sequence number differ, then the batch ids differ', () => {
    const queue = fc.constantFrom('gold', 'silver.meter_readings', 'silver.customers', 'silver.prices');
    const epoch = fc.stringMatching(/^[0-9a-f]{8}$/);
    const key = fc.tuple(queue, epoch, fc.integer({ min: 1, max: 10_000_000 }));
    fc.assert(
      fc.property(key, key, (a, b) => {
        fc.pre(a.join('|') !== b.join('|'));
        expect(batchInstanceId(...a)).not.toBe(batchInstanceId(...b));
      }),
    );
  });

  it('when a queue state is recreated with a new epoch, then its first batch id differs from the old one', () => {
    const old = joinQueue(emptyQueue('aaaaaaaa'), QUEUE, file('a'), WIDE).answer;
    const fresh = joinQueue(emptyQueue('bbbbbbbb'), QUEUE, file('a'), WIDE).answer;

    expect(old.kind === 'start' && fresh.kind === 'start').toBe(true);
    if (old.kind === 'start' && fresh.kind === 'start')
      expect(old.batch.batchId).not.toBe(fresh.batch.batchId);
  });
});

describe('splitMembers', () => {
  it('when a batch of five splits, then the first half takes three and the second two, in order', () => {
    expect(splitMembers([1, 2, 3, 4, 5])).toEqual([
      [1, 2, 3],
      [4, 5],
    ]);
  });

  it('when a batch of four splits, then each half takes two', () => {
    expect(splitMembers(['a', 'b', 'c', 'd'])).toEqual([
      ['a', 'b'],
      ['c', 'd'],
    ]);
  });

  it('when any batch of two or more splits, then the halves are non-empty, differ by at most one and keep every member in order', () => {
    fc.assert(
      fc.property(fc.array(fc.nat(), { minLength: 2, maxLength: 300 }), (members) => {
        const [first, second] = splitMembers(members);
        expect(first.length).toBeGreaterThan(0);
        expect(second.length).toBeGreaterThan(0);
        expect(Math.abs(first.length - second.length)).toBeLessThanOrEqual(1);
        expect([...first, ...second]).toEqual(members);
      }),
    );
  });

  it('when a batch of N keeps splitting towards one failing member, then that member is alone within ceil(log2 N) splits, and the worst member takes exactly that many', () => {
    const levelsNeeded = (n: number): number => {
      let levels = 0;
      while (2 ** levels < n) levels++;
      return levels;
    };
    const isolate = (n: number, failing: number): { alone: number[]; levels: number } => {
      let group = Array.from({ length: n }, (_, i) => i);
      let levels = 0;
      while (group.length > 1) {
        const [first, second] = splitMembers(group);
        group = first.includes(failing) ? first : second;
        levels++;
      }
      return { alone: group, levels };
    };
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 256 }), (n) => {
        const levels = Array.from({ length: n }, (_, failing) => {
          const { alone, levels: taken } = isolate(n, failing);
          expect(alone).toEqual([failing]);
          return taken;
        });
        expect(Math.max(...levels)).toBe(levelsNeeded(n));
      }),
      { numRuns: 40 },
    );
  });
});

describe('goldRunScope', () => {
  const EVERY_TABLE = [
    'daily_consumption',
    'customer_daily_cost',
    'load_profile_hourly',
    'consumption_anomalies',
    'data_quality_daily',
    'data_quality_rule_failures',
    'forecast_features',
    'dim_date',
    'dim_holiday',
    'dim_meter',
    'dim_customer',
    'dim_contract',
  ];

  it('when files touch different days, then the run covers the earliest to the latest of them', () => {
    const scope = goldRunScope([
      { dataset: 'meter_readings', dates: ['2025-10-27', '2025-10-25'] },
      { dataset: 'meter_readings', dates: ['2025-11-02'] },
      { dataset: 'meter_readings', dates: ['2025-10-26'] },
    ]);

    expect(scope).toMatchObject({ dateFrom: '2025-10-25', dateTo: '2025-11-02' });
  });

  it('when only prices files are in the batch, then only the cost, quality and features tables are recomputed', () => {
    const scope = goldRunScope([{ dataset: 'prices', dates: ['2025-10-26'] }]);

    expect(scope?.tables).toEqual([
      'customer_daily_cost',
      'data_quality_daily',
      'data_quality_rule_failures',
      'forecast_features',
    ]);
    expect(scope?.datasets).toEqual(['prices']);
  });

  it('when only customers files are in the batch, then the profile, anomalies and quality tables and the meter and customer dimensions are recomputed', () => {
    const scope = goldRunScope([{ dataset: 'customers', dates: ['2025-10-26'] }]);

    expect(scope?.tables).toEqual([
      'load_profile_hourly',
      'consumption_anomalies',
      'data_quality_daily',
      'data_quality_rule_failures',
      'dim_meter',
      'dim_customer',
    ]);
  });

  it('when a contracts file makes no day stale, then the run rebuilds the dimensions only and has no days', () => {
    const scope = goldRunScope([{ dataset: 'contracts', dates: [] }]);

    expect(scope).toEqual({
      dateFrom: '',
      dateTo: '',
      dates: [],
      tables: ['dim_meter', 'dim_customer', 'dim_contract'],
      datasets: ['contracts'],
    });
  });

  it('when a dimensions-only file shares a batch with a prices file, then the run has the prices days and both sets of tables', () => {
    const scope = goldRunScope([
      { dataset: 'customers', dates: [] },
      { dataset: 'prices', dates: ['2025-10-27'] },
    ]);

    expect(scope).toMatchObject({ dateFrom: '2025-10-27', dateTo: '2025-10-27' });
    expect(scope?.tables).toEqual([
      'customer_daily_cost',
      'data_quality_daily',
      'data_quality_rule_failures',
      'forecast_features',
      'dim_meter',
      'dim_customer',
    ]);
  });

  it('when a readings file is in the batch, then every gold table is recomputed in canonical order', () => {
    const scope = goldRunScope([
      { dataset: 'prices', dates: ['2025-10-26'] },
      { dataset: 'meter_readings', dates: ['2025-10-26'] },
    ]);

    expect(scope?.tables).toEqual(EVERY_TABLE);
    expect(scope?.datasets).toEqual(['meter_readings', 'prices']);
  });

  it('when prices and customers files share a batch, then the tables are the union of both in canonical order', () => {
    const scope = goldRunScope([
      { dataset: 'customers', dates: ['2025-10-26'] },
      { dataset: 'prices', dates: ['2025-10-27'] },
    ]);

    expect(scope?.tables).toEqual([
      'customer_daily_cost',
      'load_profile_hourly',
      'consumption_anomalies',
      'data_quality_daily',
      'data_quality_rule_failures',
      'forecast_features',
      'dim_meter',
      'dim_customer',
    ]);
  });

  it('when no readings or prices file touches any day, then there is no gold run', () => {
    expect(goldRunScope([{ dataset: 'prices', dates: [] }])).toBeNull();
    expect(goldRunScope([{ dataset: 'meter_readings', dates: [] }])).toBeNull();
    expect(goldRunScope([])).toBeNull();
  });
});

/** The keys of a Python dict literal `<name> = {` (top-level string keys at the given indent). */
function pythonDictKeys(
  source: string,
  opening: RegExp,
  indent: number,
): { keys: string[]; bodies: string[] } {
  const start = source.search(opening);
  if (start < 0) throw new Error(`no ${String(opening)} in the Python source`);
  const closing = new RegExp(`^ {${indent - 4}}}`, 'm');
  const rest = source.slice(start);
  const block = rest.slice(0, rest.slice(1).search(closing) + 1);
  const keyLine = new RegExp(`^ {${indent}}"([a-z_]+)":`, 'gm');
  const starts = [...block.matchAll(keyLine)];
  return {
    keys: starts.map((m) => m[1]!),
    bodies: starts.map((m, i) => block.slice(m.index, starts[i + 1]?.index ?? block.length)),
  };
}

describe('gold tables parity with the Spark side', () => {
  const goldTablesPy = readFileSync(path.join(SPARK_SRC, 'gold_tables.py'), 'utf8');
  const goldJobPy = readFileSync(path.join(SPARK_SRC, 'jobs', 'gold.py'), 'utf8');
  const sparkTables = pythonDictKeys(goldTablesPy, /^GOLD_TABLES = \{/m, 4).keys;
  const builders = pythonDictKeys(goldJobPy, /^ {8}builders = \{/m, 12);

  it('when the Spark gold tables are read from gold_tables.py, then GOLD_TABLE_NAMES lists the same tables in the same order', () => {
    expect(sparkTables.length).toBeGreaterThan(0);
    expect([...GOLD_TABLE_NAMES]).toEqual(sparkTables);
  });

  it("when the gold job's builders are read from gold.py, then every table it can build is a known gold table", () => {
    expect(builders.keys.length).toBeGreaterThan(0);
    expect([...builders.keys].sort()).toEqual([...GOLD_TABLE_NAMES].sort());
  });

  it('when the gold job lists the silver tables each dimension is built from, then the datasets said to feed the dimensions without days are exactly those', () => {
    const block = /^DIMENSION_SOURCES = \{\n([\s\S]*?)^\}/m.exec(goldJobPy)?.[1] ?? '';
    const sparkFeeds = new Set<string>();
    for (const [, table, sources] of block.matchAll(/"(\w+)": \(([^)]*)\)/g)) {
      for (const [, dataset] of sources!.matchAll(/"silver\.(\w+)"/g)) sparkFeeds.add(`${dataset}->${table}`);
    }
    const tsFeeds = new Set(
      Object.entries(DIMENSIONS_FED_BY).flatMap(([dataset, tables]) => tables.map((t) => `${dataset}->${t}`)),
    );

    expect(sparkFeeds.size).toBeGreaterThan(0);
    expect([...tsFeeds].sort()).toEqual([...sparkFeeds].sort());
  });

  it('when a builder reads prices or customers (or every bronze table or validation report), then that dataset is said to feed its table', () => {
    const readBy = (frame: RegExp): string[] =>
      builders.keys.filter(
        (_, i) =>
          frame.test(builders.bodies[i]!) || /quality_inputs|validation_reports/.test(builders.bodies[i]!),
      );

    expect([...GOLD_TABLES_FED_BY.prices].sort()).toEqual(readBy(/\bprice_buckets\b/).sort());
    expect([...GOLD_TABLES_FED_BY.customers].sort()).toEqual(readBy(/\bcustomers\b/).sort());
  });
});

describe('goldDays', () => {
  it('when a contract change made other days stale, then gold recomputes the union of both, sorted, once each', () => {
    expect(goldDays(['2025-03-02', '2025-03-01'], ['2025-03-01', '2025-01-15'])).toEqual([
      '2025-01-15',
      '2025-03-01',
      '2025-03-02',
    ]);
  });

  it('when a batch event predates affected days, then gold recomputes the file’s own days', () => {
    expect(goldDays(['2025-03-01'], undefined)).toEqual(['2025-03-01']);
  });
});

describe('goldDatesParameter', () => {
  const days = (count: number): string[] =>
    Array.from({ length: count }, (_, i) => new Date(Date.UTC(2024, 0, 1 + i)).toISOString().slice(0, 10));

  it('when a year of days or fewer is stale, then the job gets each of them', () => {
    expect(goldDatesParameter(days(366)).split(',')).toEqual(days(366));
  });

  it('when more days are stale than a parameter should carry, then the job gets none and recomputes the range', () => {
    expect(goldDatesParameter(days(367))).toBe('');
  });
});
