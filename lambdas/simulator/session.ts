/**
 * One shopper visit, planned up front as a list of steps and turned into events
 * one at a time, so thousands of concurrent sessions stay cheap in memory.
 */
import type { ShopperDeviceType, EventType, TrafficSource } from '../common/event-enums.ts';
import { CATEGORY_WEIGHTS, type Catalog, type Product } from './catalog.ts';
import { addToCartProbability, type FunnelConfig } from './funnel.ts';
import type { Shopper } from './population.ts';
import { DEVICE_WEIGHTS } from './population.ts';
import type { Rng } from './random.ts';

export interface SessionStep {
  readonly type: EventType;
  readonly page: string;
  readonly product?: Product;
  readonly quantity?: number;
}

export interface SessionPlan {
  readonly sessionId: string;
  readonly shopper: Shopper;
  readonly device: ShopperDeviceType;
  readonly os: string;
  readonly browser: string;
  readonly source: TrafficSource;
  readonly campaign: string | null;
  readonly referrer: string | null;
  readonly orderId: string | null;
  readonly steps: readonly SessionStep[];
}

/** Probability that a cart with a first line gets a second, different product, when the session viewed one. */
export const SECOND_LINE = 0.25;
/** Probability that a two-line cart loses its second line again before checkout. */
export const REMOVE_SECOND_LINE = 0.15;

export const SOURCE_WEIGHTS: Readonly<Record<TrafficSource, number>> = {
  organic_search: 30, direct: 25, paid_search: 15, social: 15, email: 8, referral: 7,
};

const REFERRERS: Readonly<Record<TrafficSource, readonly (string | null)[]>> = {
  direct: [null],
  organic_search: ['https://www.google.com/', 'https://www.bing.com/', 'https://duckduckgo.com/'],
  paid_search: ['https://www.google.com/', 'https://www.bing.com/'],
  social: ['https://www.instagram.com/', 'https://www.facebook.com/', 'https://www.tiktok.com/', 'https://www.pinterest.com/'],
  email: [null],
  referral: ['https://blog.example.org/best-deals', 'https://reviews.example.net/top-10', 'https://forum.example.com/thread/42'],
};

const CAMPAIGNS: Readonly<Partial<Record<TrafficSource, readonly string[]>>> = {
  paid_search: ['brand_search', 'generic_search', 'shopping_ads'],
  social: ['spring_collection', 'influencer_q2', 'retargeting'],
  email: ['weekly_newsletter', 'cart_reminder', 'vip_offer'],
};

const PLATFORMS: Readonly<Record<ShopperDeviceType, readonly { os: string; browsers: readonly string[] }[]>> = {
  desktop: [
    { os: 'Windows', browsers: ['Chrome', 'Edge', 'Firefox'] },
    { os: 'macOS', browsers: ['Safari', 'Chrome', 'Firefox'] },
    { os: 'Linux', browsers: ['Firefox', 'Chrome'] },
  ],
  mobile: [
    { os: 'iOS', browsers: ['Safari', 'Chrome'] },
    { os: 'Android', browsers: ['Chrome', 'Samsung Internet', 'Firefox'] },
  ],
  tablet: [
    { os: 'iPadOS', browsers: ['Safari'] },
    { os: 'Android', browsers: ['Chrome'] },
  ],
};

export interface SessionContext {
  readonly rng: Rng;
  readonly catalog: Catalog;
  readonly funnel: FunnelConfig;
  readonly siteUrl: string;
}

export function planSession(ctx: SessionContext, shopper: Shopper): SessionPlan {
  const { rng, catalog, funnel, siteUrl } = ctx;
  const device = rng.chance(0.8) ? shopper.usualDevice : rng.weighted(DEVICE_WEIGHTS);
  const platform = rng.pick(PLATFORMS[device]);
  const source = rng.weighted(SOURCE_WEIGHTS);
  const campaigns = CAMPAIGNS[source];
  const interest = rng.weighted(CATEGORY_WEIGHTS);

  const steps: SessionStep[] = [
    { type: 'page_view', page: campaigns || rng.chance(0.4) ? `${siteUrl}/c/${interest}` : `${siteUrl}/` },
  ];
  const viewed: Product[] = [];
  if (rng.chance(funnel.viewProduct)) {
    const views = 1 + Math.min(11, rng.geometric(0.35));
    for (let i = 0; i < views; i++) {
      const category = rng.chance(0.75) ? interest : rng.weighted(CATEGORY_WEIGHTS);
      const product = rng.pick(catalog[category]!);
      viewed.push(product);
      steps.push({ type: 'product_view', page: `${siteUrl}/p/${product.id}`, product });
    }
  }

  let orderId: string | null = null;
  if (viewed.length > 0 && rng.chance(addToCartProbability(funnel, device, source))) {
    const first = rng.pick(viewed);
    const cart: { product: Product; quantity: number }[] = [{ product: first, quantity: pickQuantity(rng) }];
    // A second line is another product: more of the same product is the first line's quantity, and
    // a shop's cart merges it into that line, so an order never lists one product twice.
    const others = viewed.filter((p) => p.id !== first.id);
    if (others.length > 0 && rng.chance(SECOND_LINE)) cart.push({ product: rng.pick(others), quantity: pickQuantity(rng) });
    for (const line of cart) steps.push({ type: 'add_to_cart', page: `${siteUrl}/p/${line.product.id}`, ...line });
    if (cart.length > 1 && rng.chance(REMOVE_SECOND_LINE)) {
      const removed = cart.pop()!;
      steps.push({ type: 'remove_from_cart', page: `${siteUrl}/cart`, ...removed });
    }
    if (rng.chance(funnel.checkout)) {
      steps.push({ type: 'checkout', page: `${siteUrl}/checkout` });
      if (rng.chance(funnel.purchase)) {
        orderId = `o_${rng.hex(16)}`;
        for (const line of cart) steps.push({ type: 'purchase', page: `${siteUrl}/checkout/complete`, ...line });
      }
    }
  }

  return {
    sessionId: `s_${rng.hex(16)}`,
    shopper,
    device,
    os: platform.os,
    browser: rng.pick(platform.browsers),
    source,
    campaign: campaigns ? rng.pick(campaigns) : null,
    referrer: rng.pick(REFERRERS[source]),
    orderId,
    steps,
  };
}

function pickQuantity(rng: Rng): number {
  return rng.chance(0.8) ? 1 : rng.int(2, 3);
}
