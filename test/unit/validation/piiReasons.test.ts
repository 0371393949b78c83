import { CANONICAL_HEADER, contractOf, csv, validate } from '../../helpers/validation';

// Reasons travel further than the data: into reports, quarantine records, audit records and logs. For a
// column the dataset contract marks as PII they name the column, never its value.

const customers = contractOf({
  dataset: 'customers',
  layout: {
    kind: 'long',
    columns: {
      customer_id: 'id',
      name: 'full_name',
      email: 'mail',
      region: 'region',
      segment: 'segment',
      created_at: 'created',
      updated_at: 'updated',
    },
  },
  unit: undefined,
});

const HEADER = 'id,full_name,mail,region,segment,created,updated';
const STAMPS = '2025-01-01T00:00:00Z,2025-01-01T00:00:00Z';

describe('reasons for PII columns', () => {
  it('when a customer e-mail is malformed, then the quarantined reason names the column but not the value', async () => {
    const { rejected, report } = await validate(
      customers,
      csv(HEADER, `K2,Bob Example,bob.private-at-example,North,sme,${STAMPS}`),
    );

    expect(rejected).toHaveLength(1);
    const [reason] = rejected[0]!.reasons;
    expect(reason).toMatchObject({ code: 'INVALID_EMAIL', column: 'email' });
    expect(reason!.message).toContain('mail');
    expect(reason!.message).not.toContain('bob.private');
    expect(JSON.stringify(report)).not.toContain('bob.private');
  });

  it('when a customers file starts with data instead of its header, then the file reason does not quote it', async () => {
    const headerless = contractOf({
      ...customers,
      layout: {
        kind: 'long',
        columns: {
          customer_id: 'id',
          name: 'full_name',
          region: 'region',
          segment: 'segment',
          created_at: 'created',
          updated_at: 'updated',
        },
      },
    });

    const { report } = await validate(headerless, csv(`10017,Ada Lovelace,North,sme,${STAMPS}`));

    expect(report.reasons.map((r) => r.code)).toEqual(['HEADER_MISSING']);
    expect(JSON.stringify(report)).not.toContain('Lovelace');
  });

  it('when a meter-readings value is invalid, then its reason still quotes the value (no PII there)', async () => {
    const { rejected } = await validate(
      contractOf({}),
      csv(CANONICAL_HEADER, 'M1,2025-01-01T00:00:00Z,30,import,1,guessed'),
    );

    expect(rejected[0]?.reasons[0]?.message).toContain("'guessed'");
  });
});
