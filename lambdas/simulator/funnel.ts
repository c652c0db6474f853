/**
 * The purchase funnel a session walks: landing -> product views -> cart ->
 * checkout -> purchase, abandoning at each step. Device and traffic source scale
 * the add-to-cart step, which is where they matter most in real shops.
 */
import type { ShopperDeviceType, TrafficSource } from '../common/event-enums.ts';

export interface FunnelConfig {
  /** Probability a session views at least one product after landing. */
  readonly viewProduct: number;
  /** Base probability a session that viewed products adds one to the cart. */
  readonly addToCart: number;
  /** Probability a session with a cart starts checkout. */
  readonly checkout: number;
  /** Probability a started checkout ends in a purchase. */
  readonly purchase: number;
  readonly deviceFactor: Readonly<Record<ShopperDeviceType, number>>;
  readonly sourceFactor: Readonly<Record<TrafficSource, number>>;
}

export const DEFAULT_FUNNEL: FunnelConfig = {
  viewProduct: 0.75,
  addToCart: 0.3,
  checkout: 0.55,
  purchase: 0.7,
  deviceFactor: { desktop: 1.25, tablet: 1.0, mobile: 0.8 },
  sourceFactor: { email: 1.6, paid_search: 1.3, direct: 1.15, organic_search: 1.0, referral: 0.9, social: 0.6 },
};

/** Add-to-cart probability for a session that viewed products, capped below certainty. */
export function addToCartProbability(config: FunnelConfig, device: ShopperDeviceType, source: TrafficSource): number {
  return Math.min(0.95, config.addToCart * config.deviceFactor[device] * config.sourceFactor[source]);
}

/** Probability that a session from this device and source ends in a purchase. */
export function expectedConversionRate(config: FunnelConfig, device: ShopperDeviceType, source: TrafficSource): number {
  return config.viewProduct * addToCartProbability(config, device, source) * config.checkout * config.purchase;
}

export function validateFunnel(config: FunnelConfig): void {
  const rates = { viewProduct: config.viewProduct, addToCart: config.addToCart, checkout: config.checkout, purchase: config.purchase };
  for (const [name, value] of Object.entries(rates)) {
    if (!(value >= 0 && value <= 1)) throw new RangeError(`funnel ${name} must be a probability between 0 and 1, got ${value}`);
  }
  for (const [name, value] of [...Object.entries(config.deviceFactor), ...Object.entries(config.sourceFactor)]) {
    if (!(value >= 0)) throw new RangeError(`funnel factor for ${name} must be zero or more, got ${value}`);
  }
}
