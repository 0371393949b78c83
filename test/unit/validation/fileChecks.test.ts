import { gzipSync } from 'node:zlib';

import { CANONICAL_HEADER, contractOf, csv, validate } from '../../helpers/validation';

const contract = contractOf({});
const good = csv(
  CANONICAL_HEADER,
  'M1,2025-01-01T00:00:00Z,30,import,0.5,actual',
  'M1,2025-01-01T00:30:00Z,30,import,0.7,actual',
);

function utf16le(text: string, bom: boolean): Buffer {
  const body = Buffer.from(text, 'utf16le');
  return bom ? Buffer.concat([Buffer.from([0xff, 0xfe]), body]) : body;
}

function utf16be(text: string): Buffer {
  const le = Buffer.from(text, 'utf16le');
  const be = Buffer.alloc(le.length);
  for (let i = 0; i < le.length; i += 2) {
    be[i] = le[i + 1]!;
    be[i + 1] = le[i]!;
  }
  return Buffer.concat([Buffer.from([0xfe, 0xff]), be]);
}

async function verdictOf(
  content: string | Buffer,
  limits = {},
): Promise<{ verdict: string; codes: string[]; valid: number }> {
  const { report } = await validate(contract, content, { limits });
  return {
    verdict: report.verdict,
    codes: report.reasons.map((r) => r.code),
    valid: report.counts.rowsValid,
  };
}

describe('file-level checks', () => {
  it('when the file is empty, then it is rejected as FILE_EMPTY', async () => {
    expect(await verdictOf('')).toEqual({ verdict: 'rejected', codes: ['FILE_EMPTY'], valid: 0 });
  });

  it('when the file holds only a header, then it is rejected as NO_DATA_ROWS', async () => {
    expect((await verdictOf(csv(CANONICAL_HEADER))).codes).toEqual(['NO_DATA_ROWS']);
  });

  it('when the file holds only blank lines, then the header is missing', async () => {
    expect((await verdictOf('\n\n  \n')).codes).toEqual(['HEADER_MISSING']);
  });

  it('when the first line is data instead of a header, then it is rejected as HEADER_MISSING', async () => {
    expect((await verdictOf(csv('M1,2025-01-01T00:00:00Z,30,import,0.5,actual'))).codes).toEqual([
      'HEADER_MISSING',
    ]);
  });

  it('when the header lacks a mapped column, then the message names it', async () => {
    const { report } = await validate(
      contract,
      csv('meter_id,interval_start,channel,kwh,quality', 'M1,2025-01-01T00:00:00Z,import,1,actual'),
    );
    expect(report.reasons).toEqual([
      { code: 'HEADER_MISSING_COLUMNS', message: expect.stringContaining('interval_minutes') as string },
    ]);
  });

  it('when the header names a mapped column twice, then it is rejected as HEADER_DUPLICATE_COLUMN', async () => {
    expect(
      (await verdictOf(csv(`${CANONICAL_HEADER},kwh`, 'M1,2025-01-01T00:00:00Z,30,import,0.5,actual,1')))
        .codes,
    ).toEqual(['HEADER_DUPLICATE_COLUMN']);
  });

  it('when the file starts with a UTF-8 byte-order mark, then it is accepted', async () => {
    const { report } = await validate(
      contract,
      Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(good)]),
    );
    expect([report.verdict, report.counts.rowsValid, report.file.encoding]).toEqual(['accepted', 2, 'utf-8']);
  });

  it('when the file is UTF-16LE with a byte-order mark, then it is decoded and accepted', async () => {
    const { report } = await validate(contract, utf16le(good, true));
    expect([report.verdict, report.counts.rowsValid, report.file.encoding]).toEqual([
      'accepted',
      2,
      'utf-16le',
    ]);
  });

  it('when the file is UTF-16BE with a byte-order mark, then it is decoded and accepted', async () => {
    const { report } = await validate(contract, utf16be(good));
    expect([report.verdict, report.counts.rowsValid, report.file.encoding]).toEqual([
      'accepted',
      2,
      'utf-16be',
    ]);
  });

  it('when the file is UTF-16 without a byte-order mark, then it is rejected as ENCODING_UNSUPPORTED', async () => {
    expect((await verdictOf(utf16le(good, false))).codes).toEqual(['ENCODING_UNSUPPORTED']);
  });

  it('when the file starts with a UTF-32 byte-order mark, then it is rejected as ENCODING_UNSUPPORTED', async () => {
    expect((await verdictOf(Buffer.from([0xff, 0xfe, 0, 0, 0x41, 0, 0, 0]))).codes).toEqual([
      'ENCODING_UNSUPPORTED',
    ]);
  });

  it('when the bytes are not valid UTF-8 (e.g. Latin-1), then it is rejected as ENCODING_INVALID', async () => {
    const latin1 = Buffer.from(
      csv(CANONICAL_HEADER, 'Zürich-1,2025-01-01T00:00:00Z,30,import,0.5,actual'),
      'latin1',
    );
    expect((await verdictOf(latin1)).codes).toEqual(['ENCODING_INVALID']);
  });

  it('when the contract declares ISO 8859-1, then Latin-1 bytes are read as their characters', async () => {
    const latin1 = Buffer.from(
      csv(CANONICAL_HEADER, 'Zürich-1,2025-01-01T00:00:00Z,30,import,0.5,actual'),
      'latin1',
    );

    const { report, rows } = await validate(contractOf({ encoding: 'iso-8859-1' }), latin1);

    expect([report.verdict, report.file.encoding, rows.map((r) => r.meter_id)]).toEqual([
      'accepted',
      'iso-8859-1',
      ['Zürich-1'],
    ]);
  });

  it('when the content is binary, then it is rejected as BINARY_CONTENT', async () => {
    const binary = Buffer.from([
      0x50, 0x4b, 0x03, 0x04, 0x14, 0x00, 0x06, 0x00, 0x08, 0x00, 0x00, 0x00, 0x21, 0x00,
    ]);
    expect((await verdictOf(binary)).codes).toEqual(['BINARY_CONTENT']);
  });

  it('when a control character appears later in the text, then it is rejected as BINARY_CONTENT', async () => {
    expect((await verdictOf(`${good}M2,2025-01-01T00:00:00Z,30,import,0.5,act\u0007ual\n`)).codes).toEqual([
      'BINARY_CONTENT',
    ]);
  });

  it('when an HTML page is saved under a .csv name, then it is rejected as HTML_CONTENT', async () => {
    expect((await verdictOf('\n  <!DOCTYPE html>\n<html><body>Login</body></html>\n')).codes).toEqual([
      'HTML_CONTENT',
    ]);
  });

  it('when the file is gzip-compressed, then it is inflated and accepted', async () => {
    const { report } = await validate(contract, gzipSync(good));
    expect([report.verdict, report.counts.rowsValid, report.file.compressed]).toEqual(['accepted', 2, true]);
  });

  it('when the gzip stream is truncated, then it is rejected as GZIP_CORRUPT', async () => {
    const zipped = gzipSync(good.repeat(50));
    expect((await verdictOf(zipped.subarray(0, zipped.length - 20))).codes).toEqual(['GZIP_CORRUPT']);
  });

  it('when the gzip body is corrupt, then it is rejected as GZIP_CORRUPT', async () => {
    const zipped = Buffer.from(gzipSync(good.repeat(50)));
    zipped.fill(0x55, 12, 40);
    expect((await verdictOf(zipped)).codes).toEqual(['GZIP_CORRUPT']);
  });

  it('when the contract declares gzip but the file is plain text, then it is rejected as GZIP_CORRUPT', async () => {
    const { report } = await validate(contractOf({ compression: 'gzip' }), good);
    expect(report.reasons.map((r) => r.code)).toEqual(['GZIP_CORRUPT']);
  });

  it('when the decompressed size is over the limit, then it is rejected as DECOMPRESSED_TOO_LARGE', async () => {
    const big = gzipSync(good.repeat(2000));
    expect((await verdictOf(big, { maxDecompressedBytes: 50_000 })).codes).toEqual([
      'DECOMPRESSED_TOO_LARGE',
    ]);
  });

  it('when the compression ratio is absurd, then it is rejected as COMPRESSION_RATIO_EXCEEDED', async () => {
    const bomb = gzipSync(
      Buffer.concat([Buffer.from(`${CANONICAL_HEADER}\n`), Buffer.alloc(4 * 1024 * 1024, 0x0a)]),
    );
    expect((await verdictOf(bomb, { maxCompressionRatio: 100 })).codes).toEqual([
      'COMPRESSION_RATIO_EXCEEDED',
    ]);
  });

  it('when the file is larger than the limit, then it is rejected as FILE_TOO_LARGE', async () => {
    expect((await verdictOf(good.repeat(10), { maxFileBytes: 200 })).codes).toEqual(['FILE_TOO_LARGE']);
  });

  it('when a line is longer than the limit, then it is rejected as LINE_TOO_LONG with its line number', async () => {
    const { report } = await validate(contract, `${good}M1,${'x'.repeat(500)}\n`, {
      limits: { maxLineBytes: 200 },
    });
    expect(report.reasons).toEqual([
      { code: 'LINE_TOO_LONG', message: expect.stringContaining('line 4') as string },
    ]);
  });

  it("when the file starts with Excel's sep= line, then it is skipped and noted", async () => {
    const { report } = await validate(contract, `sep=,\n${good}`);
    expect([report.verdict, report.counts.rowsValid]).toEqual(['accepted', 2]);
    expect(report.notes).toContain("line 1: skipped the 'sep=,' line");
  });

  it('when the sep= line declares another delimiter, then it is rejected as DELIMITER_MISMATCH', async () => {
    expect((await verdictOf(`sep=;\n${good}`)).codes).toEqual(['DELIMITER_MISMATCH']);
  });

  it('when line endings are mixed and blank lines appear, then every row is read and both are reported', async () => {
    const text = `${CANONICAL_HEADER}\r\nM1,2025-01-01T00:00:00Z,30,import,0.5,actual\n\n\rM1,2025-01-01T00:30:00Z,30,import,0.7,actual\r`;
    const { report } = await validate(contract, text, { chunkSize: 3 });
    expect([report.verdict, report.counts.rowsValid]).toEqual(['accepted', 2]);
    expect(report.lineEndings).toEqual({ lf: 2, crlf: 1, cr: 2, mixed: true });
    expect(report.counts.blankLines).toBe(2);
  });

  it('when a file is rejected early, then its size and SHA-256 are still reported', async () => {
    const html = `<html>${'x'.repeat(10_000)}</html>`;
    const { report } = await validate(contract, html);
    const { createHash } = await import('node:crypto');
    expect(report.file.size).toBe(Buffer.byteLength(html));
    expect(report.file.sha256).toBe(createHash('sha256').update(html).digest('hex'));
  });
});
