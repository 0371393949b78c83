import { zoneOfEic } from '../../prices/zones';
import { FileRejection } from '../reasons';
import type { DocumentRecord, ParsedDocument } from './types';
import { childOf, childrenOf, parseXml, textAt, type XmlElement } from './xml';

/**
 * ENTSO-E Transparency Platform day-ahead prices (documentType A44) as `Publication_MarketDocument` XML:
 * TimeSeries → Period (timeInterval, resolution) → Point (position, price.amount). One record per
 * interval, with the fields
 *
 *   zone, eic, interval_start (UTC, ISO-8601), resolution_minutes, price (text as written),
 *   published_at (the document's createdDateTime), position, curve_type, filled ('yes' when forward-filled)
 *
 * Curve type A03 (variable-sized blocks) leaves out a position whose price equals the previous one, so
 * each missing position repeats the previous point's price up to the end of the period. Curve type A01
 * lists every position; a missing one is a gap (counted, never invented).
 */

export interface EntsoeOptions {
  /** EIC code → zone, on top of the built-in map (lib/prices/zones.ts). */
  zones: Record<string, string>;
  /**
   * Keep only TimeSeries with this classificationSequence position (DE-LU and AT publish the SDAC auction
   * as 1 and EXAA as 2 for the same intervals); series without one are kept. null keeps all.
   */
  classificationSequence: number | null;
}

const MINUTE = 60_000;
const RESOLUTIONS: Record<string, number> = { PT15M: 15, PT30M: 30, PT60M: 60, PT1H: 60 };
const ENTSOE_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?Z$/;

function parseTime(text: string | undefined): number | undefined {
  const match = text === undefined ? null : ENTSOE_TIME.exec(text);
  if (!match) return undefined;
  const [, y, mo, d, h, mi, s] = match;
  const ms = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s ?? 0));
  return new Date(ms).toISOString().startsWith(`${y}-${mo}-${d}T${h}:${mi}`) ? ms : undefined;
}

/** `YYYY-MM-DDTHH:MM:SSZ`, the engine's fast ISO path. */
export function isoSeconds(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 19)}Z`;
}

function acknowledgement(root: XmlElement): FileRejection {
  const reason = childOf(root, 'Reason');
  const code = reason ? textAt(reason, 'code') : undefined;
  const text = (reason ? textAt(reason, 'text') : undefined) ?? '';
  const detail = `ENTSO-E acknowledgement, reason ${code ?? 'none'}: ${text.slice(0, 200)}`;
  return code === '999' && /no matching data/i.test(text)
    ? new FileRejection('PRICES_NOT_PUBLISHED', detail)
    : new FileRejection('PROVIDER_ERROR_DOCUMENT', detail);
}

export function parseEntsoeXml(text: string, options: EntsoeOptions): ParsedDocument {
  const root = parseXml(text);
  if (root.name === 'Acknowledgement_MarketDocument') throw acknowledgement(root);
  if (root.name !== 'Publication_MarketDocument') {
    throw new FileRejection(
      'DOCUMENT_UNRECOGNISED',
      `the root element is <${root.name}>, expected Publication_MarketDocument`,
    );
  }
  const documentType = textAt(root, 'type');
  if (documentType !== undefined && documentType !== 'A44') {
    throw new FileRejection('DOCUMENT_UNRECOGNISED', `documentType ${documentType}, expected A44 (prices)`);
  }
  const publishedAt = textAt(root, 'createdDateTime') ?? null;
  const records: DocumentRecord[] = [];
  const notes: string[] = [];
  let gaps = 0;
  let filledTotal = 0;
  const series = childrenOf(root, 'TimeSeries');
  series.forEach((ts, index) => {
    const label = `TimeSeries ${index + 1} (line ${ts.line})`;
    const agreement = textAt(ts, 'contract_MarketAgreement.type');
    if (agreement !== undefined && agreement !== 'A01') {
      notes.push(`${label}: contract_MarketAgreement.type ${agreement} is not day-ahead; skipped`);
      return;
    }
    const sequence = textAt(ts, 'classificationSequence_AttributeInstanceComponent.position');
    if (
      options.classificationSequence !== null &&
      sequence !== undefined &&
      Number(sequence) !== options.classificationSequence
    ) {
      notes.push(
        `${label}: classificationSequence ${sequence} skipped (the contract keeps ${options.classificationSequence})`,
      );
      return;
    }
    const currency = textAt(ts, 'currency_Unit.name');
    if (currency !== 'EUR') {
      throw new FileRejection('PRICE_CURRENCY_UNSUPPORTED', `${label}: currency ${currency ?? 'missing'}`);
    }
    const unit = textAt(ts, 'price_Measure_Unit.name');
    if (unit !== 'MWH') {
      throw new FileRejection('PRICE_UNIT_UNSUPPORTED', `${label}: price unit ${unit ?? 'missing'}`);
    }
    const eic = textAt(ts, 'in_Domain.mRID') ?? textAt(ts, 'out_Domain.mRID') ?? '';
    const zone = options.zones[eic] ?? zoneOfEic(eic);
    const curveType = textAt(ts, 'curveType') ?? 'A01';
    const seriesErrors: NonNullable<DocumentRecord['errors']> = [];
    if (zone === undefined) {
      seriesErrors.push({
        code: 'UNKNOWN_BIDDING_ZONE',
        message: `EIC '${eic.slice(0, 40)}' is not in the zone map`,
        column: 'bidding_zone',
      });
    }
    if (curveType !== 'A01' && curveType !== 'A03') {
      seriesErrors.push({ code: 'INVALID_VALUE', message: `curveType ${curveType} is not A01 or A03` });
    }
    for (const period of childrenOf(ts, 'Period')) {
      const points = childrenOf(period, 'Point');
      const start = parseTime(textAt(period, 'timeInterval', 'start'));
      const end = parseTime(textAt(period, 'timeInterval', 'end'));
      const resolutionText = textAt(period, 'resolution') ?? '';
      const minutes = RESOLUTIONS[resolutionText];
      const errors = [...seriesErrors];
      if (start === undefined || end === undefined || end <= start) {
        errors.push({
          code: 'INVALID_TIMESTAMP',
          message: `the period's timeInterval ${textAt(period, 'timeInterval', 'start') ?? '?'}/${textAt(period, 'timeInterval', 'end') ?? '?'} is not a UTC interval`,
          column: 'interval_start',
        });
      }
      if (minutes !== 15 && minutes !== 60) {
        errors.push({
          code: 'INVALID_INTERVAL',
          message: `resolution '${resolutionText.slice(0, 20)}' is not PT15M or PT60M`,
          column: 'resolution_minutes',
        });
      }
      const count =
        start !== undefined && end !== undefined && minutes !== undefined
          ? (end - start) / (minutes * MINUTE)
          : 0;
      if (errors.length === 0 && !Number.isInteger(count)) {
        errors.push({
          code: 'INVALID_INTERVAL',
          message: `the period is not a whole number of ${minutes}-minute intervals`,
          column: 'resolution_minutes',
        });
      }
      const fieldsOf = (position: number, price: string | null, filled: boolean) => ({
        zone: zone ?? eic,
        eic,
        interval_start:
          start !== undefined && minutes !== undefined
            ? isoSeconds(start + (position - 1) * minutes * MINUTE)
            : null,
        resolution_minutes: minutes ?? null,
        price,
        published_at: publishedAt,
        position,
        curve_type: curveType,
        filled: filled ? 'yes' : 'no',
      });
      if (errors.length > 0) {
        // The whole period is unusable: one rejected record standing for all its intervals.
        records.push({
          line: period.line,
          fields: { zone: zone ?? eic, eic, resolution: resolutionText.slice(0, 20), points: points.length },
          rows: Math.max(1, Number.isInteger(count) && count > 0 ? count : points.length),
          errors,
        });
        continue;
      }
      // Points by position; a repeated position stays (the engine's duplicate check judges it).
      const byPosition = new Map<number, XmlElement[]>();
      for (const point of points) {
        const positionText = textAt(point, 'position') ?? '';
        const position = /^\d{1,6}$/.test(positionText) ? Number(positionText) : NaN;
        const price = textAt(point, 'price.amount') ?? null;
        if (!(position >= 1 && position <= count)) {
          records.push({
            line: point.line,
            fields: {
              ...fieldsOf(1, price, false),
              interval_start: null,
              position: positionText.slice(0, 20),
            },
            rows: 1,
            errors: [
              {
                code: 'POSITION_OUT_OF_RANGE',
                message: `position '${positionText.slice(0, 20)}' is outside the period's ${count} intervals`,
                column: 'interval_start',
              },
            ],
          });
          continue;
        }
        const list = byPosition.get(position) ?? [];
        list.push(point);
        byPosition.set(position, list);
      }
      let previous: { price: string | null; line: number } | undefined;
      let missing = 0;
      let filled = 0;
      for (let position = 1; position <= count; position++) {
        const here = byPosition.get(position);
        if (here) {
          for (const point of here) {
            const price = textAt(point, 'price.amount') ?? null;
            records.push({ line: point.line, fields: fieldsOf(position, price, false) });
            previous = { price, line: point.line };
          }
        } else if (curveType === 'A03' && previous) {
          records.push({ line: previous.line, fields: fieldsOf(position, previous.price, true) });
          filled++;
        } else missing++;
      }
      filledTotal += filled;
      if (missing > 0) {
        gaps += missing;
        notes.push(
          `${label}, period from line ${period.line}: ${missing} of ${count} positions missing (curve type ${curveType})`,
        );
      }
    }
  });
  if (series.length === 0) {
    throw new FileRejection('PRICES_NOT_PUBLISHED', 'the Publication_MarketDocument holds no TimeSeries');
  }
  if (filledTotal > 0) notes.push(`${filledTotal} A03 positions forward-filled from the previous point`);
  return { records, notes, gaps };
}
