/**
 * Every reason a file or a row can be rejected, with the one-line message operators see. Codes are
 * stable identifiers: reports, quarantine records, dashboards and the simulator's defect manifest use them.
 */
export const FILE_REASONS = {
  FILE_EMPTY: 'the file is empty',
  FILE_TOO_LARGE: 'the file is larger than the configured maximum',
  UNSAFE_NAME: 'the file name is unsafe',
  ENCODING_UNSUPPORTED: 'the text encoding is not UTF-8 or UTF-16 with a byte-order mark',
  ENCODING_INVALID: 'the file contains byte sequences that are not valid in its encoding',
  BINARY_CONTENT: 'the file contains binary data, not text',
  HTML_CONTENT: 'the file is an HTML or XML page, not data',
  GZIP_CORRUPT: 'the gzip stream is truncated or corrupt',
  DECOMPRESSED_TOO_LARGE: 'the decompressed size is larger than the configured maximum',
  COMPRESSION_RATIO_EXCEEDED: 'the compression ratio is suspiciously high (possible decompression bomb)',
  LINE_TOO_LONG: 'a line is longer than the configured maximum',
  HEADER_MISSING: 'the header line is missing',
  HEADER_MISSING_COLUMNS: 'the header lacks columns the source contract maps',
  HEADER_DUPLICATE_COLUMN: 'the header names a column twice',
  DELIMITER_MISMATCH: "the file's sep= line declares a different delimiter than the source contract",
  NO_DATA_ROWS: 'the file has no data rows',
  REJECTED_SHARE_EXCEEDED: "the share of rejected rows is over the source contract's threshold",
  DOCUMENT_TOO_LARGE: "the document is larger than its format's maximum (documents are parsed whole)",
  DOCUMENT_MALFORMED: 'the document is not well-formed XML or JSON',
  DOCUMENT_UNRECOGNISED: "the document is not the kind the source contract's format expects",
  DOCUMENT_NAME_INVALID: "the file name does not follow the format's naming rule",
  XML_DTD_FORBIDDEN: 'the XML declares a DTD or entities, which are refused',
  PRICES_NOT_PUBLISHED: 'the provider answered that no prices are published (yet) for the request',
  PROVIDER_ERROR_DOCUMENT: 'the document is an error answer of the provider, not data',
  PRICE_CURRENCY_UNSUPPORTED: 'the prices are not in EUR',
  PRICE_UNIT_UNSUPPORTED: 'the prices are not per MWh',
  UNKNOWN_BIDDING_ZONE: 'the bidding zone is not one Lakewatt knows',
  TOO_MANY_SERIES: 'the file holds more meter series than one validation may keep in memory',
  EDIFACT_MALFORMED:
    'the EDIFACT interchange is malformed (service string advice, segment syntax or order, or cut short)',
  EDIFACT_CONTROL_MISMATCH: 'an EDIFACT control count or reference (UNT, UNZ) does not match what was read',
  NO_INGESTIBLE_READINGS:
    'the file holds readings, but none of a kind the source ingests (electricity energy, import or export)',
} as const;

export const ROW_REASONS = {
  MALFORMED_ROW: 'the row cannot be parsed',
  FIELD_COUNT_MISMATCH: 'the row has a different number of fields than the header',
  REQUIRED_MISSING: 'a required value is empty',
  INVALID_NUMBER: 'a value is not a number',
  INVALID_INTEGER: 'a value is not an integer',
  INVALID_VALUE: 'a value is not one of the allowed values',
  INVALID_TIMESTAMP: 'a timestamp does not match the declared format',
  INVALID_DATE: 'a date does not match the declared format',
  TIMESTAMP_NONEXISTENT: 'a local time does not exist (daylight-saving gap)',
  TIMESTAMP_MISALIGNED: 'a timestamp is not aligned to the interval length',
  TIMESTAMP_IN_FUTURE: 'a timestamp is too far in the future',
  READING_TOO_OLD: "a reading is older than the source contract's late_readings.max_age_days allow",
  TIMESTAMP_OUT_OF_RANGE: 'a timestamp is before 2000 or after 2100',
  INVALID_INTERVAL: 'the interval length is not 5, 15, 30 or 60 minutes',
  PERIOD_OUT_OF_RANGE: 'a value sits in a period the local day does not have',
  NEGATIVE_VALUE: 'an energy value is negative',
  VALUE_ABOVE_CEILING: 'an energy value is above the per-interval ceiling',
  PRICE_OUT_OF_RANGE: 'a price is outside the market limits (-500 to 4000 EUR/MWh)',
  DUPLICATE_CONFLICT: 'a row repeats the key of an earlier row with different values',
  INVALID_EMAIL: 'an e-mail address is malformed',
  INVALID_VALIDITY: 'valid_to is not after valid_from',
  TARIFF_INCOMPLETE: 'the tariff lacks a rate its type needs',
  INVALID_TIMEZONE: 'a time zone is not an IANA zone',
  UNKNOWN_BIDDING_ZONE: 'the bidding zone (EIC code or area) is not in the zone map',
  POSITION_OUT_OF_RANGE: "a price point's position lies outside its period",
  ID_FORMULA_PREFIX: 'an identifier starts with =, +, -, @, a tab or a carriage return (spreadsheet formula)',
  ID_BIDI_CONTROL: 'an identifier contains a bidirectional control character',
  ID_INVISIBLE_CHARACTER: 'an identifier contains a zero-width character',
  ID_PATTERN_MISMATCH: "an identifier does not match the source contract's id_patterns entry",
} as const;

export type FileReasonCode = keyof typeof FILE_REASONS;
export type RowReasonCode = keyof typeof ROW_REASONS;

/** A finding with its code and a one-line message specific to the case. */
export interface Finding<C extends string = string> {
  code: C;
  message: string;
  column?: string;
}

/** Thrown inside the engine when a file-level check fails; turned into a `rejected` report. */
export class FileRejection extends Error {
  constructor(
    readonly code: FileReasonCode,
    detail?: string,
  ) {
    super(detail ? `${FILE_REASONS[code]}: ${detail}` : FILE_REASONS[code]);
  }
}
