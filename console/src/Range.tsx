import { useEffect, useState } from 'preact/hooks';

/** A date range form (UTC days) whose Apply writes the range into the page address. */
export function RangeForm(props: { page: string; from: string; to: string; extra?: Record<string, string> }) {
  const [from, setFrom] = useState(props.from);
  const [to, setTo] = useState(props.to);
  useEffect(() => {
    setFrom(props.from);
    setTo(props.to);
  }, [props.from, props.to]);
  return (
    <form
      class="filters"
      aria-label="Date range"
      onSubmit={(e) => {
        e.preventDefault();
        location.hash = `/${props.page}?${new URLSearchParams({ ...props.extra, from, to }).toString()}`;
      }}
    >
      <div class="field">
        <label for={`${props.page}-from`}>From day (UTC)</label>
        <input
          id={`${props.page}-from`}
          type="date"
          value={from}
          required
          onInput={(e) => setFrom(e.currentTarget.value)}
        />
      </div>
      <div class="field">
        <label for={`${props.page}-to`}>To day (UTC)</label>
        <input
          id={`${props.page}-to`}
          type="date"
          value={to}
          required
          onInput={(e) => setTo(e.currentTarget.value)}
        />
      </div>
      <div class="actions">
        <button type="submit">Show range</button>
      </div>
    </form>
  );
}

const DAY = /^\d{4}-\d{2}-\d{2}$/;

/** The range in the page address, when it names a valid one. */
export function rangeOf(params: URLSearchParams): { from: string; to: string } | undefined {
  const from = params.get('from') ?? '';
  const to = params.get('to') ?? '';
  return DAY.test(from) && DAY.test(to) && from <= to ? { from, to } : undefined;
}
