/**
 * Reference entities of a simulation: customers (fake PII), their meters and supply contracts, and the
 * changes they go through during the simulated period (address/segment moves, tariff switches). All of
 * it is small (one customer and one meter per simulated meter) and held in memory.
 */
import type { Segment } from './model';
import { Prng } from './prng';
import { type MeterSource, MSCONS_SOURCE, READING_SOURCES } from './sources';
import { DAY_MS, HOUR_MS, localMidnightUtc, MINUTE_MS, type TimeZone } from './time';

export type Country = 'GB' | 'DE' | 'NL';
export type TariffType = 'fixed' | 'time_of_use' | 'dynamic';

interface Place {
  city: string;
  region: string;
  postcode: (rng: Prng) => string;
}

interface CountryInfo {
  zone: TimeZone;
  biddingZone: string;
  /** Solar time minus UTC, hours (longitude / 15). */
  solarOffsetHours: number;
  places: Place[];
  streets: string[];
  firstNames: string[];
  lastNames: string[];
  companySuffix: string;
  address: (rng: Prng, street: string) => string;
  phone: (rng: Prng) => string;
  unitRate: [number, number];
  standingCharge: [number, number];
  peakWindow: [string, string];
}

const UK_LETTERS = 'ABDEFGHJLNPQRSTUWXYZ';
const digits = (rng: Prng, n: number): string => Array.from({ length: n }, () => rng.int(0, 9)).join('');
const letters = (rng: Prng, n: number): string =>
  Array.from({ length: n }, () => UK_LETTERS[rng.int(0, UK_LETTERS.length - 1)]).join('');

const gbPlace = (city: string, region: string, outward: string[]): Place => ({
  city,
  region,
  postcode: (rng) => `${rng.pick(outward)} ${rng.int(1, 9)}${letters(rng, 2)}`,
});
const dePlace = (city: string, region: string, prefix: string): Place => ({
  city,
  region,
  postcode: (rng) => `${prefix}${digits(rng, 5 - prefix.length)}`,
});
const nlPlace = (city: string, region: string, prefix: string): Place => ({
  city,
  region,
  postcode: (rng) => `${prefix}${digits(rng, 2)} ${letters(rng, 2)}`,
});

const COUNTRIES: Record<Country, CountryInfo> = {
  GB: {
    zone: 'Europe/London',
    biddingZone: 'GB',
    solarOffsetHours: -0.1,
    places: [
      gbPlace('London', 'London', ['SE1', 'N7', 'E14', 'SW9']),
      gbPlace('Manchester', 'North West', ['M1', 'M14', 'M20']),
      gbPlace('Bristol', 'South West', ['BS1', 'BS8']),
      gbPlace('Leeds', 'Yorkshire and the Humber', ['LS6', 'LS11']),
      gbPlace('Glasgow', 'Scotland', ['G12', 'G41']),
      gbPlace('Cardiff', 'Wales', ['CF10', 'CF24']),
      gbPlace('Birmingham', 'West Midlands', ['B15', 'B29']),
    ],
    streets: ['High Street', 'Mill Lane', 'Station Road', 'Church Road', 'Victoria Road', 'Park Avenue'],
    firstNames: ['Oliver', 'Amelia', 'Harry', 'Isla', 'Jack', 'Ava', 'George', 'Mia', 'Siobhan', 'Aled'],
    lastNames: ['Smith', 'Jones', 'Taylor', 'Brown', 'Williams', "O'Brien", 'Patel', 'Evans', 'Murphy'],
    companySuffix: 'Ltd',
    address: (rng, street) =>
      rng.chance(0.3)
        ? `Flat ${rng.int(1, 12)}, ${rng.int(1, 140)} ${street}`
        : `${rng.int(1, 140)} ${street}`,
    phone: (rng) => `+44 7700 900${digits(rng, 3)}`,
    unitRate: [0.27, 0.32],
    standingCharge: [0.55, 0.7],
    peakWindow: ['16:00', '19:00'],
  },
  DE: {
    zone: 'Europe/Berlin',
    biddingZone: 'DE-LU',
    solarOffsetHours: 0.7,
    places: [
      dePlace('Berlin', 'Berlin', '10'),
      dePlace('München', 'Bayern', '80'),
      dePlace('Hamburg', 'Hamburg', '20'),
      dePlace('Köln', 'Nordrhein-Westfalen', '50'),
      dePlace('Leipzig', 'Sachsen', '04'),
    ],
    streets: ['Hauptstraße', 'Bahnhofstraße', 'Gartenweg', 'Schulstraße', 'Lindenallee'],
    firstNames: ['Lukas', 'Anna', 'Jonas', 'Lea', 'Felix', 'Marie', 'Jürgen', 'Sophie'],
    lastNames: ['Müller', 'Schmidt', 'Schneider', 'Fischer', 'Weber', 'Becker', 'Wagner'],
    companySuffix: 'GmbH',
    address: (rng, street) => `${street} ${rng.int(1, 90)}${rng.chance(0.15) ? 'a' : ''}`,
    phone: (rng) => `+49 30 ${digits(rng, 3)} ${digits(rng, 4)}`,
    unitRate: [0.3, 0.38],
    standingCharge: [0.35, 0.5],
    peakWindow: ['07:00', '22:00'],
  },
  NL: {
    zone: 'Europe/Amsterdam',
    biddingZone: 'NL',
    solarOffsetHours: 0.33,
    places: [
      nlPlace('Amsterdam', 'Noord-Holland', '10'),
      nlPlace('Rotterdam', 'Zuid-Holland', '30'),
      nlPlace('Utrecht', 'Utrecht', '35'),
      nlPlace('Eindhoven', 'Noord-Brabant', '56'),
    ],
    streets: ['Kerkstraat', 'Dorpsstraat', 'Molenweg', 'Stationsweg', 'Julianalaan'],
    firstNames: ['Daan', 'Emma', 'Sem', 'Julia', 'Lotte', 'Bram', 'Tess'],
    lastNames: ['de Jong', 'Jansen', 'de Vries', 'van den Berg', 'Bakker', 'Visser'],
    companySuffix: 'B.V.',
    address: (rng, street) => `${street} ${rng.int(1, 120)}`,
    phone: (rng) => `+31 6 ${digits(rng, 8)}`,
    unitRate: [0.25, 0.32],
    standingCharge: [0.2, 0.35],
    peakWindow: ['07:00', '23:00'],
  },
};

export const BIDDING_ZONES: readonly string[] = ['GB', 'DE-LU', 'NL'];
export const BIDDING_ZONE_TIME_ZONE: Record<string, TimeZone> = {
  GB: 'Europe/London',
  'DE-LU': 'Europe/Berlin',
  NL: 'Europe/Amsterdam',
};

const COMPANY_WORDS = ['Harbour', 'Northgate', 'Riverside', 'Summit', 'Oakfield', 'Beacon', 'Meridian'];
const COMPANY_TRADES = ['Bakery', 'Logistics', 'Engineering', 'Dairy', 'Print', 'Foods', 'Plastics'];

export interface Customer {
  customer_id: string;
  name: string;
  email: string | null;
  phone: string | null;
  street: string | null;
  postcode: string;
  city: string;
  region: string;
  segment: Segment;
  created_at: number;
  updated_at: number;
  country: Country;
}

export interface Meter {
  meter_id: string;
  index: number;
  customer_id: string;
  country: Country;
  zone: TimeZone;
  source: MeterSource;
  segment: Segment;
  annualKwh: number;
  /** Installed solar capacity, kWp; 0 for meters without export. */
  solarKwp: number;
  solarOffsetHours: number;
}

export interface ContractVersion {
  contract_id: string;
  customer_id: string;
  meter_id: string;
  tariff_type: TariffType;
  unit_rate_eur_per_kwh: number | null;
  peak_rate_eur_per_kwh: number | null;
  offpeak_rate_eur_per_kwh: number | null;
  peak_start_local: string | null;
  peak_end_local: string | null;
  tariff_timezone: TimeZone;
  spot_markup_eur_per_kwh: number | null;
  standing_charge_eur_per_day: number;
  bidding_zone: string;
  valid_from: number;
  valid_to: number | null;
}

export interface CustomerChange {
  day: number;
  kind: 'address' | 'segment' | 'contact';
  /** The customer's full record after the change. */
  record: Customer;
}

export interface ContractChange {
  day: number;
  /** The version that ends (now with valid_to) and the one that starts. */
  closed: ContractVersion;
  opened: ContractVersion;
}

export interface World {
  customers: Customer[];
  meters: Meter[];
  /** Contract versions known at the start (open ones and some already closed history). */
  contracts: ContractVersion[];
  customerChanges: CustomerChange[];
  contractChanges: ContractChange[];
}

/** 13-digit UK MPAN core: distributor id, 10 digits, check digit (weighted sum mod 11 mod 10). */
function mpanCore(rng: Prng): string {
  const body = `${rng.int(10, 23)}${digits(rng, 10)}`;
  const weights = [3, 5, 7, 13, 17, 19, 23, 29, 31, 37, 41, 43];
  const sum = weights.reduce((acc, w, i) => acc + w * Number(body[i]), 0);
  return `${body}${(sum % 11) % 10}`;
}

/** 11-digit German MaLo-ID with its check digit. */
function maloId(rng: Prng): string {
  const body = `${rng.int(1, 9)}${digits(rng, 9)}`;
  let odd = 0;
  let even = 0;
  for (let i = 0; i < 10; i++) {
    if (i % 2 === 0) odd += Number(body[i]);
    else even += 2 * Number(body[i]);
  }
  return `${body}${(10 - ((odd + even) % 10)) % 10}`;
}

/** 18-digit Dutch EAN connection code (GS1 mod-10 check digit). */
function eanCode(rng: Prng): string {
  const body = `871687${digits(rng, 11)}`;
  let sum = 0;
  for (let i = 0; i < body.length; i++) sum += Number(body[body.length - 1 - i]) * (i % 2 === 0 ? 3 : 1);
  return `${body}${(10 - (sum % 10)) % 10}`;
}

const METER_ID: Record<Country, (rng: Prng) => string> = { GB: mpanCore, DE: maloId, NL: eanCode };

function asciiFold(text: string): string {
  return text
    .replace(/ä/g, 'ae')
    .replace(/ö/g, 'oe')
    .replace(/ü/g, 'ue')
    .replace(/ß/g, 'ss')
    .normalize('NFKD')
    .replace(/[^A-Za-z0-9 ]/g, '')
    .toLowerCase();
}

const round = (value: number, places: number): number => Number(value.toFixed(places));

function tariff(
  rng: Prng,
  segment: Segment,
  country: Country,
  exclude?: TariffType,
): Omit<ContractVersion, 'contract_id' | 'customer_id' | 'meter_id' | 'valid_from' | 'valid_to'> {
  const info = COUNTRIES[country];
  const weights: Record<Segment, Array<[TariffType, number]>> = {
    residential: [
      ['fixed', 5],
      ['time_of_use', 3],
      ['dynamic', 2],
    ],
    sme: [
      ['fixed', 6],
      ['time_of_use', 3],
      ['dynamic', 1],
    ],
    industrial: [
      ['fixed', 4],
      ['time_of_use', 1],
      ['dynamic', 5],
    ],
  };
  const type = rng.weighted(weights[segment].filter(([t]) => t !== exclude));
  const unit = rng.uniform(info.unitRate[0], info.unitRate[1]) * (segment === 'industrial' ? 0.8 : 1);
  const scale = segment === 'residential' ? 1 : segment === 'sme' ? 2.5 : 12;
  return {
    tariff_type: type,
    unit_rate_eur_per_kwh: type === 'fixed' ? round(unit, 4) : null,
    peak_rate_eur_per_kwh: type === 'time_of_use' ? round(unit * 1.35, 4) : null,
    offpeak_rate_eur_per_kwh: type === 'time_of_use' ? round(unit * 0.6, 4) : null,
    peak_start_local: type === 'time_of_use' ? info.peakWindow[0] : null,
    peak_end_local: type === 'time_of_use' ? info.peakWindow[1] : null,
    tariff_timezone: info.zone,
    spot_markup_eur_per_kwh: type === 'dynamic' ? round(rng.uniform(0.02, 0.06), 4) : null,
    standing_charge_eur_per_day: round(
      rng.uniform(info.standingCharge[0], info.standingCharge[1]) * scale,
      4,
    ),
    bidding_zone: info.biddingZone,
  };
}

function newAddress(rng: Prng, country: Country): Pick<Customer, 'street' | 'postcode' | 'city' | 'region'> {
  const info = COUNTRIES[country];
  const place = rng.pick(info.places);
  return {
    street: info.address(rng, rng.pick(info.streets)),
    postcode: place.postcode(rng),
    city: place.city,
    region: place.region,
  };
}

/**
 * Builds the customers, meters and contracts of a run, and their changes within [firstDay, lastDay]. Meters
 * are dealt to `sources` in turn.
 */
export function buildWorld(
  seed: string,
  meterCount: number,
  firstDay: number,
  lastDay: number,
  sources: readonly MeterSource[] = READING_SOURCES,
): World {
  const rng = Prng.derive(seed, 'world');
  const customers: Customer[] = [];
  const meters: Meter[] = [];
  const contracts: ContractVersion[] = [];
  const usedIds = new Set<string>();
  const startMs = firstDay * DAY_MS;

  for (let i = 0; i < meterCount; i++) {
    const source = sources[i % sources.length] as MeterSource;
    // A layout's market fixes the country: UK settlement files are British, MSCONS meters German MaLos.
    const country: Country =
      source === 'uk_hh_wide'
        ? 'GB'
        : source === MSCONS_SOURCE
          ? 'DE'
          : rng.weighted<Country>([
              ['GB', 4],
              ['DE', 3.5],
              ['NL', 2.5],
            ]);
    const info = COUNTRIES[country];
    const segment = rng.weighted<Segment>([
      ['residential', 75],
      ['sme', 20],
      ['industrial', 5],
    ]);
    const customerId = `CUS-${String(i + 1).padStart(6, '0')}`;
    const first = rng.pick(info.firstNames);
    const last = rng.pick(info.lastNames);
    const name =
      segment === 'residential'
        ? `${first} ${last}`
        : `${rng.pick(COMPANY_WORDS)} ${rng.pick(COMPANY_TRADES)} ${info.companySuffix}`;
    const mailLocal =
      segment === 'residential'
        ? `${asciiFold(first)}.${asciiFold(last).replace(/ /g, '')}${rng.int(1, 99)}`
        : `accounts.${asciiFold(name).split(' ').slice(0, 2).join('')}`;
    const createdAt = startMs - rng.int(30, 3 * 365) * DAY_MS + rng.int(8 * 60, 18 * 60) * MINUTE_MS;
    const updatedAt = rng.chance(0.4) ? createdAt + rng.int(1, 20) * DAY_MS : createdAt;
    customers.push({
      customer_id: customerId,
      name,
      email: rng.chance(0.9)
        ? `${mailLocal}@${rng.pick(['example.com', 'example.org', 'example.net'])}`
        : null,
      phone: rng.chance(0.85) ? info.phone(rng) : null,
      ...newAddress(rng, country),
      segment,
      created_at: createdAt,
      updated_at: Math.min(updatedAt, startMs - HOUR_MS),
      country,
    });

    let meterId = METER_ID[country](rng);
    while (usedIds.has(meterId)) meterId = METER_ID[country](rng);
    usedIds.add(meterId);
    const annualKwh =
      segment === 'residential'
        ? rng.uniform(1800, 5000)
        : segment === 'sme'
          ? rng.uniform(15_000, 90_000)
          : rng.uniform(300_000, 1_000_000);
    const hasSolar = source !== 'uk_hh_wide' && segment !== 'industrial' && rng.chance(0.4);
    meters.push({
      meter_id: meterId,
      index: i,
      customer_id: customerId,
      country,
      zone: info.zone,
      source,
      segment,
      annualKwh,
      solarKwp: hasSolar ? round(segment === 'sme' ? rng.uniform(10, 50) : rng.uniform(3, 8), 1) : 0,
      solarOffsetHours: info.solarOffsetHours,
    });

    const contractId = `CTR-${String(i + 1).padStart(6, '0')}`;
    const since = Math.max(Math.floor(createdAt / DAY_MS) + 1, firstDay - rng.int(20, 700));
    const validFrom = localMidnightUtc(info.zone, since);
    const current = tariff(rng, segment, country);
    if (rng.chance(0.2) && since - firstDay < -30) {
      const earlier = Math.floor(createdAt / DAY_MS) + 1;
      contracts.push({
        contract_id: contractId,
        customer_id: customerId,
        meter_id: meterId,
        ...tariff(rng, segment, country, current.tariff_type),
        valid_from: localMidnightUtc(info.zone, Math.min(earlier, since - 1)),
        valid_to: validFrom,
      });
    }
    contracts.push({
      contract_id: contractId,
      customer_id: customerId,
      meter_id: meterId,
      ...current,
      valid_from: validFrom,
      valid_to: null,
    });
  }

  const days = lastDay - firstDay + 1;
  const customerChanges: CustomerChange[] = [];
  const contractChanges: ContractChange[] = [];
  if (days >= 2) {
    const changeRng = Prng.derive(seed, 'changes');
    const customerEvents = Math.max(2, Math.round((meterCount * days) / 60));
    const planned: Array<{ day: number; index: number; kind: CustomerChange['kind'] }> = [];
    const kinds: Array<CustomerChange['kind']> = ['address', 'segment', 'contact'];
    for (let e = 0; e < customerEvents; e++) {
      planned.push({
        day: changeRng.int(firstDay + 1, lastDay),
        index: changeRng.int(0, meterCount - 1),
        kind: kinds[e % kinds.length] as CustomerChange['kind'],
      });
    }
    planned.sort((a, b) => a.day - b.day || a.index - b.index);
    const state = customers.map((c) => ({ ...c }));
    for (const event of planned) {
      const current = state[event.index] as Customer;
      const updatedAt = event.day * DAY_MS + changeRng.int(8 * 60, 18 * 60) * MINUTE_MS;
      if (updatedAt <= current.updated_at) continue;
      const next: Customer = { ...current, updated_at: updatedAt };
      if (event.kind === 'address') Object.assign(next, newAddress(changeRng, current.country));
      if (event.kind === 'segment') next.segment = current.segment === 'residential' ? 'sme' : 'residential';
      if (event.kind === 'contact') next.phone = COUNTRIES[current.country].phone(changeRng);
      state[event.index] = next;
      customerChanges.push({ day: event.day, kind: event.kind, record: next });
    }

    const contractEvents = Math.max(1, Math.round((meterCount * days) / 120));
    const open = new Map<number, ContractVersion>();
    contracts.forEach((c) => {
      if (c.valid_to === null) open.set(Number(c.contract_id.slice(4)) - 1, c);
    });
    const chosen = new Set<number>();
    for (let e = 0; e < contractEvents && chosen.size < meterCount; e++) {
      let index = changeRng.int(0, meterCount - 1);
      while (chosen.has(index)) index = (index + 1) % meterCount;
      chosen.add(index);
      const day = changeRng.int(firstDay + 1, lastDay);
      const previous = open.get(index) as ContractVersion;
      const meter = meters[index] as Meter;
      const switchAt = localMidnightUtc(meter.zone, day);
      contractChanges.push({
        day,
        closed: { ...previous, valid_to: switchAt },
        opened: {
          ...previous,
          ...tariff(changeRng, meter.segment, meter.country, previous.tariff_type),
          valid_from: switchAt,
          valid_to: null,
        },
      });
    }
    contractChanges.sort((a, b) => a.day - b.day || a.closed.contract_id.localeCompare(b.closed.contract_id));
  }
  return { customers, meters, contracts, customerChanges, contractChanges };
}
