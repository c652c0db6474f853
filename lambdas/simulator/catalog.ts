/** A product catalog with categories, brands and a price distribution per category. */
import type { Rng } from './random.ts';

export interface Product {
  readonly id: string;
  readonly category: string;
  readonly brand: string;
  readonly price: number;
}

interface CategorySpec {
  readonly brands: readonly string[];
  /** Median unit price; prices are log-normal around it. */
  readonly medianPrice: number;
  readonly priceSigma: number;
  /** Relative share of the catalog and of shopper interest. */
  readonly weight: number;
}

export const CATEGORIES: Readonly<Record<string, CategorySpec>> = {
  electronics: { brands: ['Voltix', 'Nimbus', 'Arcadia', 'Quanta'], medianPrice: 180, priceSigma: 0.8, weight: 3 },
  fashion: { brands: ['Linea', 'Northwind', 'Mode&Co', 'Thread'], medianPrice: 45, priceSigma: 0.6, weight: 4 },
  home: { brands: ['Hearth', 'Oakline', 'Casa Viva'], medianPrice: 60, priceSigma: 0.7, weight: 3 },
  beauty: { brands: ['Lumen', 'Petal', 'Aurora'], medianPrice: 25, priceSigma: 0.5, weight: 2 },
  sports: { brands: ['Stride', 'Summit', 'Kinetic'], medianPrice: 55, priceSigma: 0.7, weight: 2 },
  books: { brands: ['Folio', 'Inkwell'], medianPrice: 15, priceSigma: 0.4, weight: 2 },
  toys: { brands: ['Playful', 'Brickworks'], medianPrice: 30, priceSigma: 0.6, weight: 1 },
  grocery: { brands: ['FreshFarm', 'Pantry'], medianPrice: 8, priceSigma: 0.5, weight: 1 },
};

export const CATEGORY_WEIGHTS: Readonly<Record<string, number>> = Object.fromEntries(
  Object.entries(CATEGORIES).map(([name, spec]) => [name, spec.weight]),
);

export type Catalog = Readonly<Record<string, readonly Product[]>>;

/** Builds `size` products spread over the categories by weight, prices rounded to cents. */
export function buildCatalog(rng: Rng, size: number): Catalog {
  const byCategory: Record<string, Product[]> = Object.fromEntries(Object.keys(CATEGORIES).map((c) => [c, []]));
  for (let i = 0; i < size; i++) {
    const category = rng.weighted(CATEGORY_WEIGHTS);
    const spec = CATEGORIES[category]!;
    const price = Math.max(0.99, Math.round(rng.logNormal(spec.medianPrice, spec.priceSigma) * 100) / 100);
    byCategory[category]!.push({
      id: `p_${String(i).padStart(5, '0')}`,
      category,
      brand: rng.pick(spec.brands),
      price,
    });
  }
  // Every category needs at least one product so a shopper's interest can always be served.
  for (const [category, products] of Object.entries(byCategory)) {
    if (products.length === 0) {
      const spec = CATEGORIES[category]!;
      products.push({ id: `p_${category}_0`, category, brand: spec.brands[0]!, price: spec.medianPrice });
    }
  }
  return byCategory;
}
