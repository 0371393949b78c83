import path from 'node:path';

import { loadSourceContracts, type SourceContract } from '../../../lib/contracts/sources';
import type { RejectedRow } from '../../../lib/validation/report';
import { type StagedRow, validate, type ValidationRun } from '../../helpers/validation';

/** Shared by the price document tests: the shipped contracts and a run of one document through the engine. */

export const REPO_ROOT = path.join(__dirname, '../../..');
/** The recorded Nord Pool answers live beside the repository, never inside it. */
export const NORDPOOL_DIR = path.join(REPO_ROOT, '../shared/real-data/nordpool');

export async function priceContract(source: string): Promise<SourceContract> {
  return (await loadSourceContracts(path.join(REPO_ROOT, 'contracts/sources'))).resolve('prices', source);
}

export function runDocument(
  contract: SourceContract,
  content: string | Buffer,
  fileName: string,
  options: { now?: Date; chunkSize?: number } = {},
): Promise<ValidationRun> {
  return validate(contract, content, {
    chunkSize: options.chunkSize ?? 101,
    now: options.now,
    batchSize: 16,
    path: `bronze/landing/prices/${contract.source}/2025/10/01/${fileName}`,
  });
}

/** The canonical columns of staged price rows (lineage left out). */
export function priceRows(
  rows: StagedRow[],
): Array<{ zone: unknown; start: unknown; minutes: unknown; price: unknown }> {
  return rows.map((row) => ({
    zone: row.bidding_zone,
    start: row.interval_start,
    minutes: row.resolution_minutes,
    price: row.price_eur_per_mwh,
  }));
}

export function codesOf(rejected: RejectedRow[]): string[] {
  return rejected.flatMap((row) => row.reasons.map((reason) => reason.code));
}

// ---- ENTSO-E document builder (shape of a real A44 answer) ----------------------------------------

export interface SeriesSpec {
  eic?: string;
  currency?: string;
  unit?: string;
  curveType?: string;
  sequence?: number;
  agreement?: string;
  start: string;
  end: string;
  resolution: string;
  points: Array<[position: number | string, price: string]>;
}

export function entsoeSeries(spec: SeriesSpec, index = 1): string {
  const eic = spec.eic ?? '10Y1001A1001A82H';
  return [
    '  <TimeSeries>',
    `    <mRID>${index}</mRID>`,
    '    <auction.type>A01</auction.type>',
    '    <businessType>A62</businessType>',
    `    <in_Domain.mRID codingScheme="A01">${eic}</in_Domain.mRID>`,
    `    <out_Domain.mRID codingScheme="A01">${eic}</out_Domain.mRID>`,
    spec.agreement
      ? `    <contract_MarketAgreement.type>${spec.agreement}</contract_MarketAgreement.type>`
      : '',
    spec.sequence !== undefined
      ? `    <classificationSequence_AttributeInstanceComponent.position>${spec.sequence}</classificationSequence_AttributeInstanceComponent.position>`
      : '',
    `    <currency_Unit.name>${spec.currency ?? 'EUR'}</currency_Unit.name>`,
    `    <price_Measure_Unit.name>${spec.unit ?? 'MWH'}</price_Measure_Unit.name>`,
    `    <curveType>${spec.curveType ?? 'A03'}</curveType>`,
    '    <Period>',
    `      <timeInterval><start>${spec.start}</start><end>${spec.end}</end></timeInterval>`,
    `      <resolution>${spec.resolution}</resolution>`,
    ...spec.points.map(
      ([position, price]) =>
        `      <Point><position>${position}</position><price.amount>${price}</price.amount></Point>`,
    ),
    '    </Period>',
    '  </TimeSeries>',
  ]
    .filter((line) => line !== '')
    .join('\n');
}

export function entsoeDocument(series: SeriesSpec[], prolog = ''): string {
  return [
    '<?xml version="1.0" encoding="utf-8"?>',
    prolog,
    '<Publication_MarketDocument xmlns="urn:iec62325.351:tc57wg16:451-3:publicationdocument:7:3">',
    '  <mRID>8f2b1a0c</mRID>',
    '  <revisionNumber>1</revisionNumber>',
    '  <type>A44</type>',
    '  <createdDateTime>2025-09-30T11:02:03Z</createdDateTime>',
    '  <period.timeInterval><start>2025-09-30T22:00Z</start><end>2025-10-01T22:00Z</end></period.timeInterval>',
    ...series.map((spec, i) => entsoeSeries(spec, i + 1)),
    '</Publication_MarketDocument>',
    '',
  ]
    .filter((line, i) => i !== 1 || line !== '')
    .join('\n');
}

export function entsoeAcknowledgement(code: string, text: string): string {
  return [
    '<?xml version="1.0" encoding="utf-8"?>',
    '<Acknowledgement_MarketDocument xmlns="urn:iec62325.351:tc57wg16:451-1:acknowledgementdocument:7:0">',
    '  <mRID>3c1f</mRID>',
    '  <createdDateTime>2025-09-30T10:00:00Z</createdDateTime>',
    `  <Reason><code>${code}</code><text>${text}</text></Reason>`,
    '</Acknowledgement_MarketDocument>',
    '',
  ].join('\n');
}
