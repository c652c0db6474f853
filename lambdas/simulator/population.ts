/**
 * Shoppers with stable demographics. A shopper is a pure function of its index
 * (`shopperAt`), not an entry in a list built from the run's seed, so the same
 * user id has the same age, gender, country and device in every run, at every
 * rate and in every minute of the scheduled simulator, and a population of a
 * billion costs no memory.
 */
import type { DeviceType, Gender } from '../common/event-enums.ts';
import { Rng } from './random.ts';

export interface Shopper {
  readonly userId: string;
  readonly age: number;
  readonly gender: Gender;
  readonly country: string;
  /** The device this shopper uses most; a session uses it most of the time. */
  readonly usualDevice: DeviceType;
}

export const COUNTRY_WEIGHTS: Readonly<Record<string, number>> = {
  US: 30, GB: 10, DE: 10, FR: 8, ES: 5, IT: 5, NL: 4, SE: 3, PL: 3, CA: 6, AU: 4, BR: 5, IN: 5, JP: 2,
};

export const GENDER_WEIGHTS: Readonly<Record<Gender, number>> = { female: 48, male: 46, non_binary: 2, undisclosed: 4 };

export const DEVICE_WEIGHTS: Readonly<Record<DeviceType, number>> = { mobile: 55, desktop: 37, tablet: 8 };

/** Age brackets (inclusive) and their share of shoppers. */
const AGE_BRACKETS: Readonly<Record<string, number>> = { '18-24': 17, '25-34': 28, '35-44': 22, '45-54': 16, '55-64': 11, '65-80': 6 };

/** Mixed into every shopper's seed so shopper streams do not line up with session streams of small seeds. */
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

/** Shopper number `index` (0-based); the same index always gives the same shopper. */
export function shopperAt(index: number): Shopper {
  // Rng hashes its seed through splitmix32, so neighbouring indices get unrelated shoppers.
  const rng = new Rng((index ^ POPULATION_SALT) >>> 0);
  const [low, high] = rng.weighted(AGE_BRACKETS).split('-').map(Number) as [number, number];
  return {
    userId: `u_${String(index).padStart(9, '0')}`,
    age: rng.int(low, high),
    gender: rng.weighted(GENDER_WEIGHTS),
    country: rng.weighted(COUNTRY_WEIGHTS),
    usualDevice: rng.weighted(DEVICE_WEIGHTS),
  };
}
