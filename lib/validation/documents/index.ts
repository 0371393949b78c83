import type { SourceContract } from '../../contracts/sources';
import { parseEnergyChartsJson } from './energyCharts';
import { parseEntsoeXml } from './entsoe';
import { parseNordpoolJson } from './nordpool';
import type { ParsedDocument } from './types';

export type { DocumentRecord, DocumentValue, ParsedDocument } from './types';

/**
 * Parses a whole (size-limited) document of one of the document formats into records. Throws
 * FileRejection for problems of the whole document. `fileName` is the landed file's own name.
 */
export function parseDocument(contract: SourceContract, text: string, fileName: string): ParsedDocument {
  const format = contract.format;
  switch (format.type) {
    case 'entsoe_xml':
      return parseEntsoeXml(text, {
        zones: format.zones,
        classificationSequence: format.classification_sequence,
      });
    case 'energy_charts_json':
      return parseEnergyChartsJson(text, fileName);
    case 'nordpool_json':
      return parseNordpoolJson(text, { areas: format.areas });
    case 'csv':
    case 'ndjson':
    case 'nem12':
    case 'mscons':
    case 'espi_xml':
      throw new Error(`${format.type} is a streamed format, not a document format`);
  }
}
