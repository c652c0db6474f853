/** Shoppers with stable demographics: the same user id always has the same age, gender and country. */
import type { DeviceType, Gender } from '../common/event-enums.ts';
import type { Rng } from './random.ts';

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

export function buildPopulation(rng: Rng, size: number): Shopper[] {
  const shoppers: Shopper[] = [];
  for (let i = 0; i < size; i++) {
    const [low, high] = rng.weighted(AGE_BRACKETS).split('-').map(Number) as [number, number];
    shoppers.push({
      userId: `u_${String(i).padStart(7, '0')}`,
      age: rng.int(low, high),
      gender: rng.weighted(GENDER_WEIGHTS),
      country: rng.weighted(COUNTRY_WEIGHTS),
      usualDevice: rng.weighted(DEVICE_WEIGHTS),
    });
  }
  return shoppers;
}
