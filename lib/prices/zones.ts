/**
 * Bidding zones Lakewatt knows: the zone code used in the `prices` dataset, its ENTSO-E Energy
 * Identification Code (EIC, the `in_Domain.mRID` of an A44 document and the `in_Domain`/`out_Domain` of a
 * request), the IANA zone of its market day, and which pull providers serve it.
 *
 * EIC codes are ENTSO-E's bidding-zone (BZN) codes. Energy-Charts serves a fixed list of `bzn` values
 * (AT, BE, CH, CZ, DE-LU, DK1, DK2, FR, HU, IT-NORTH, NL, NO2, PL, SE4, SI, per its API documentation), always
 * in EUR/MWh; it has no GB.
 */

export type PullProvider = 'entsoe' | 'energy-charts';

export const PULL_PROVIDERS: readonly PullProvider[] = ['entsoe', 'energy-charts'];

export interface BiddingZone {
  zone: string;
  eic: string;
  timezone: string;
  /** The provider serves day-ahead prices for the zone. */
  entsoe: boolean;
  energyCharts: boolean;
}

const zone = (
  code: string,
  eic: string,
  timezone: string,
  providers: { entsoe?: boolean; energyCharts?: boolean } = {},
): BiddingZone => ({
  zone: code,
  eic,
  timezone,
  entsoe: providers.entsoe ?? true,
  energyCharts: providers.energyCharts ?? false,
});

export const BIDDING_ZONES: readonly BiddingZone[] = [
  zone('DE-LU', '10Y1001A1001A82H', 'Europe/Berlin', { energyCharts: true }),
  zone('NL', '10YNL----------L', 'Europe/Amsterdam', { energyCharts: true }),
  zone('BE', '10YBE----------2', 'Europe/Brussels', { energyCharts: true }),
  zone('FR', '10YFR-RTE------C', 'Europe/Paris', { energyCharts: true }),
  zone('AT', '10YAT-APG------L', 'Europe/Vienna', { energyCharts: true }),
  zone('CH', '10YCH-SWISSGRIDZ', 'Europe/Zurich', { energyCharts: true }),
  zone('CZ', '10YCZ-CEPS-----N', 'Europe/Prague', { energyCharts: true }),
  zone('PL', '10YPL-AREA-----S', 'Europe/Warsaw', { energyCharts: true }),
  zone('HU', '10YHU-MAVIR----U', 'Europe/Budapest', { energyCharts: true }),
  zone('SI', '10YSI-ELES-----O', 'Europe/Ljubljana', { energyCharts: true }),
  zone('IT-NORTH', '10Y1001A1001A73I', 'Europe/Rome', { energyCharts: true }),
  zone('DK1', '10YDK-1--------W', 'Europe/Copenhagen', { energyCharts: true }),
  zone('DK2', '10YDK-2--------M', 'Europe/Copenhagen', { energyCharts: true }),
  zone('NO1', '10YNO-1--------2', 'Europe/Oslo'),
  zone('NO2', '10YNO-2--------T', 'Europe/Oslo', { energyCharts: true }),
  zone('NO3', '10YNO-3--------J', 'Europe/Oslo'),
  zone('NO4', '10YNO-4--------9', 'Europe/Oslo'),
  zone('NO5', '10Y1001A1001A48H', 'Europe/Oslo'),
  zone('SE1', '10Y1001A1001A44P', 'Europe/Stockholm'),
  zone('SE2', '10Y1001A1001A45N', 'Europe/Stockholm'),
  zone('SE3', '10Y1001A1001A46L', 'Europe/Stockholm'),
  zone('SE4', '10Y1001A1001A47J', 'Europe/Stockholm', { energyCharts: true }),
  zone('FI', '10YFI-1--------U', 'Europe/Helsinki'),
  zone('EE', '10Y1001A1001A39I', 'Europe/Tallinn'),
  zone('LV', '10YLV-1001A00074', 'Europe/Riga'),
  zone('LT', '10YLT-1001A0008Q', 'Europe/Vilnius'),
  zone('ES', '10YES-REE------0', 'Europe/Madrid'),
  zone('PT', '10YPT-REN------W', 'Europe/Lisbon'),
  // GB left the single day-ahead coupling in 2021 and has no A44 prices since; the EIC stays for older
  // documents, but neither provider can be asked for GB.
  zone('GB', '10YGB----------A', 'Europe/London', { entsoe: false }),
];

const BY_ZONE = new Map(BIDDING_ZONES.map((z) => [z.zone, z]));
const BY_EIC = new Map(BIDDING_ZONES.map((z) => [z.eic, z]));

/** The zone of an EIC code, or undefined when Lakewatt does not know it. */
export function zoneOfEic(eic: string): string | undefined {
  return BY_EIC.get(eic.trim())?.zone;
}

export function biddingZone(code: string): BiddingZone | undefined {
  return BY_ZONE.get(code);
}

/** Zones each pull provider can be asked for. */
export const SUPPORTED_ZONES: Readonly<Record<PullProvider, readonly string[]>> = {
  entsoe: BIDDING_ZONES.filter((z) => z.entsoe).map((z) => z.zone),
  'energy-charts': BIDDING_ZONES.filter((z) => z.energyCharts).map((z) => z.zone),
};
