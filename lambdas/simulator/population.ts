/**
 * Shoppers with stable demographics. A shopper is a pure function of its index
 * (`shopperAt`), not an entry in a list built from the run's seed, so the same
 * user id has the same age, gender, country and device in every run, at every
 * rate and in every minute of the scheduled simulator, and a population of a
 * billion costs no memory.
 */
import type { ShopperDeviceType, Gender } from '../common/event-enums.ts';

export interface Shopper {
  readonly userId: string;
  readonly age: number;
  readonly gender: Gender;
  readonly country: string;
  /** The device this shopper uses most; a session uses it most of the time. */
  readonly usualDevice: ShopperDeviceType;
}

export const COUNTRY_WEIGHTS: Readonly<Record<string, number>> = {
  US: 30, GB: 10, DE: 10, FR: 8, ES: 5, IT: 5, NL: 4, SE: 3, PL: 3, CA: 6, AU: 4, BR: 5, IN: 5, JP: 2,
};

export const GENDER_WEIGHTS: Readonly<Record<Gender, number>> = { female: 48, male: 46, non_binary: 2, undisclosed: 4 };

export const DEVICE_WEIGHTS: Readonly<Record<ShopperDeviceType, number>> = { mobile: 55, desktop: 37, tablet: 8 };

/** Age brackets (inclusive) and their share of shoppers. */
const AGE_BRACKETS: Readonly<Record<string, number>> = { '18-24': 17, '25-34': 28, '35-44': 22, '45-54': 16, '55-64': 11, '65-80': 6 };

/** Mixed into every shopper's hash, so shopper draws do not line up with a session generator of a small seed. */
const POPULATION_SALT = 0x0b5e55ed;

/**
 * Sessions a shopper starts in 30 days, on average over the whole population.
 * Littledata's 2022 survey of more than 6,000 shops puts the average sessions
 * per user over a month at about 1.4 (top tenth 1.9). With shoppers picked at
 * random for each session, a shopper's sessions in a window are Poisson, and
 * the sessions per *active* user in 30 days, λ / (1 - e^-λ), is 1.4 for λ = 0.72.
 */
export const SESSIONS_PER_SHOPPER_PER_30_DAYS = 0.72;

/**
 * A billion shoppers: keeps user ids at nine digits and well inside the
 * generator's 32-bit resolution. The default population reaches it at about
 * 1,000 events/s (24 million sessions a day); above that it stops growing, so
 * sessions per active user rise, but slowly where it matters: per hour 1.005 at
 * 10,000 events/s and 1.025 at 50,000, per day 1.12 and 1.7.
 */
export const MAX_POPULATION = 1_000_000_000;

/** Enough shoppers that a slow test stream still has returning and new ones. */
export const MIN_POPULATION = 1_000;

/** The population for a mean session rate: the shop whose customers visit as often as a typical shop's. */
export function populationFor(sessionsPerSecond: number): number {
  const sessionsIn30Days = sessionsPerSecond * 30 * 86_400;
  return Math.min(MAX_POPULATION, Math.max(MIN_POPULATION, Math.round(sessionsIn30Days / SESSIONS_PER_SHOPPER_PER_30_DAYS)));
}

/**
 * Expected sessions per active user when `sessions` sessions each pick one of
 * `population` shoppers at random: sessions / expected distinct users.
 * `-expm1` keeps the tiny ratios of a large population exact.
 */
export function expectedSessionsPerActiveUser(sessions: number, population: number): number {
  if (sessions <= 0) return 1;
  const distinct = population * -Math.expm1(sessions * Math.log1p(-1 / population));
  return sessions / distinct;
}

/** A weights record as cumulative sums, built once: a shopper is made for every session, so no per-call allocation. */
interface WeightTable<K> {
  readonly keys: readonly K[];
  readonly cumulative: readonly number[];
}

function weightTable<K extends string>(weights: Readonly<Record<K, number>>): WeightTable<K> {
  const keys = Object.keys(weights) as K[];
  let sum = 0;
  return { keys, cumulative: keys.map((k) => (sum += weights[k])) };
}

function draw<K>(unit: number, table: WeightTable<K>): K {
  const r = unit * table.cumulative[table.cumulative.length - 1]!;
  let i = 0;
  while (i < table.keys.length - 1 && r >= table.cumulative[i]!) i++;
  return table.keys[i]!;
}

const AGE_TABLE = weightTable(AGE_BRACKETS);
const AGE_RANGES: Readonly<Record<string, readonly [number, number]>> = Object.fromEntries(
  Object.keys(AGE_BRACKETS).map((b) => [b, b.split('-').map(Number) as [number, number]]),
);
const GENDER_TABLE = weightTable(GENDER_WEIGHTS);
const COUNTRY_TABLE = weightTable(COUNTRY_WEIGHTS);
const DEVICE_TABLE = weightTable(DEVICE_WEIGHTS);

/**
 * Draw `n` of shopper `index`, uniform in [0, 1): murmur3's 32-bit finaliser over the
 * pair. Stateless, because a shopper is made for every session and a seeded generator
 * object per shopper cost several times as much as the rest of the shopper.
 */
function shopperUnit(index: number, n: number): number {
  let z = (Math.imul(index ^ POPULATION_SALT, 0x9e3779b9) + Math.imul(n + 1, 0x632be5ab)) >>> 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return ((z ^ (z >>> 16)) >>> 0) / 4_294_967_296;
}

/** Shopper number `index` (0-based); the same index always gives the same shopper. */
export function shopperAt(index: number): Shopper {
  const [low, high] = AGE_RANGES[draw(shopperUnit(index, 0), AGE_TABLE)]!;
  return {
    userId: `u_${String(index).padStart(9, '0')}`,
    age: low + Math.floor(shopperUnit(index, 1) * (high - low + 1)),
    gender: draw(shopperUnit(index, 2), GENDER_TABLE),
    country: draw(shopperUnit(index, 3), COUNTRY_TABLE),
    usualDevice: draw(shopperUnit(index, 4), DEVICE_TABLE),
  };
}
