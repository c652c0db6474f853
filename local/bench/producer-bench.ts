export async function cmdBench(_a: string[], _c: unknown): Promise<number> { return 0; }
