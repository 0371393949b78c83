import { loadConfig } from '../../../lib/config';
import { ConfigError } from '../../../lib/errors';
import { landingPathForPrices, SUPPORTED_ZONES, zoneOfEic } from '../../../lib/prices';

function configErrorOf(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected loadConfig to fail');
}

describe('bidding zones and price settings', () => {
  it.each([
    ['10Y1001A1001A82H', 'DE-LU'],
    ['10YNL----------L', 'NL'],
    ['10YBE----------2', 'BE'],
    ['10YFR-RTE------C', 'FR'],
    ['10YAT-APG------L', 'AT'],
    ['10YGB----------A', 'GB'],
  ])('when the EIC code is %s, then the zone is %s', (eic, zone) => {
    expect(zoneOfEic(eic)).toBe(zone);
  });

  it('when Energy-Charts zones are listed, then GB is not among them', () => {
    expect(SUPPORTED_ZONES['energy-charts']).not.toContain('GB');
    expect(SUPPORTED_ZONES['energy-charts']).toEqual(
      expect.arrayContaining(['DE-LU', 'NL', 'AT', 'BE', 'FR']),
    );
  });

  it('when nothing is set, then the default zones are served by the default provider', () => {
    const config = loadConfig({});
    expect([config.prices.zones, config.prices.providers]).toEqual([['DE-LU', 'NL'], ['energy-charts']]);
  });

  it('when a configured zone is not served by a configured provider, then PRICES_ZONES is named with the provider', () => {
    const error = configErrorOf({ PRICES_ZONES: 'DE-LU,GB' });
    expect(error.issues).toEqual([
      expect.stringMatching(/^PRICES_ZONES: GB not served by price provider 'energy-charts'/),
    ]);
  });

  it('when two providers are configured, then every zone must be served by both', () => {
    const error = configErrorOf({
      PRICES_PROVIDERS: 'entsoe,energy-charts',
      ENTSOE_SECURITY_TOKEN: 'token',
      PRICES_ZONES: 'NL,FI',
    });
    expect(error.issues).toEqual([
      expect.stringMatching(/^PRICES_ZONES: FI not served by price provider 'energy-charts'/),
    ]);
  });

  it('when ENTSO-E is the provider, then a Nordic zone Energy-Charts lacks is accepted', () => {
    const config = loadConfig({
      PRICES_PROVIDERS: 'entsoe',
      ENTSOE_SECURITY_TOKEN: 'token',
      PRICES_ZONES: 'FI,SE3',
    });
    expect(config.prices.zones).toEqual(['FI', 'SE3']);
  });

  it('when a published answer is landed, then its path is landing/prices/{source}/{yyyy}/{mm}/{dd}/{file}', () => {
    const path = landingPathForPrices(
      {
        kind: 'published',
        body: Buffer.from('{}'),
        contentType: 'application/json',
        fileName: 'DE-LU_2025-10-01.json',
        source: 'energy-charts',
      },
      '2025-10-01',
    );
    expect(path).toBe('landing/prices/energy-charts/2025/10/01/DE-LU_2025-10-01.json');
  });
});
