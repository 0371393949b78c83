import * as df from 'durable-functions';

/** The benchmark app: an orchestration of five activities and one durable timer. */
const step = df.app.activity('benchStep', {
  handler: (input: number) => input + 1,
});

df.app.orchestration('benchFiveAndTimer', function* (context) {
  let value = context.df.getInput<number>();
  for (let i = 0; i < 5; i++) {
    value = (yield step(value)) as number;
    if (i === 2) yield context.df.createTimer(new Date(context.df.currentUtcDateTime.getTime() + 30_000));
  }
  return value;
});
