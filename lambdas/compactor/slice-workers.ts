/**
 * Where compact-hour.ts's per-file and per-slice steps (slice-work.ts) run: in the
 * compactor's own thread, or spread over worker threads, one per vCPU the function
 * has (Lambda gives one per 1,769 MB, six at 10,240 MB), since a run is bounded by
 * CPU time, not by S3. A worker is the compactor's own script started again as a
 * thread (the Lambda bundle's index.mjs: the bundle ships no second file, whose
 * shared code esbuild would move to a chunk where zstd.wasm is not beside it); this
 * module serves the steps when it finds itself loaded in such a thread.
 *
 * Each worker spreads the input files it is given over bucket files of its own, so a
 * bucket is a file per worker; a slice's files are all of its buckets', whichever
 * worker wrote them, and a slice is merged in one worker with the slice budget
 * divided among the workers. Results come back by value; only file bytes move.
 */
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { mergeSlice, Spreader, type Columns, type MergedSlice, type Spill, type SpreadFiles } from './slice-work.ts';

/** Where the steps run. */
export interface SliceRunner {
  /** Threads that run steps at once: how many slices to merge at a time. */
  readonly threads: number;
  /** Spreads a lake Parquet file's rows over the bucket files. */
  spreadFile(body: Uint8Array): Promise<void>;
  /** Spreads rows given as column arrays (the late files' rows for this hour). */
  spreadColumns(columns: Columns): Promise<void>;
  /** Ends the spreading: for each bucket and each id bucket, its files (one per thread that spread rows into it). */
  closeSpread(): Promise<{ readonly buckets: Spill[][]; readonly ids: Spill[][] }>;
  /** `drop`: copiesToDrop's copies kept, by event_id (the other copies of those events are dropped). */
  mergeSlice(paths: readonly string[], runPath: string, sample: { readonly rowGroupRows: number } | undefined, drop: ReadonlyMap<string, string>): Promise<MergedSlice>;
  /** Stops the threads (their heaps go with them, before the hour's files are written). */
  close(): Promise<void>;
}

/** How the compactor starts its worker threads. */
export interface WorkerThreads {
  readonly count: number;
  /** A script that loads this module (the bundle's index.mjs; this file under tsx in tests). */
  readonly script: URL;
  /** The JavaScript heap of each, in MiB. @default V8's */
  readonly heapMiB?: number;
}

/** The steps in this thread, spreading into `${dir}/b0-<bucket>`. */
function inThisThread(dir: string): SliceRunner {
  const spreader = new Spreader(`${dir}/b0`, 0);
  return {
    threads: 1,
    spreadFile: (body) => spreader.takeFile(body),
    spreadColumns: (columns) => Promise.resolve(spreader.take(columns)),
    closeSpread: () => {
      const { buckets, ids } = spreader.close();
      return Promise.resolve({ buckets: buckets.map((spill) => [spill]), ids: ids.map((spill) => [spill]) });
    },
    mergeSlice,
    close: () => Promise.resolve(),
  };
}

type Request =
  | { readonly kind: 'spreadFile'; readonly body: Uint8Array }
  | { readonly kind: 'spreadColumns'; readonly columns: Columns }
  | { readonly kind: 'closeSpread' }
  | { readonly kind: 'mergeSlice'; readonly paths: readonly string[]; readonly runPath: string; readonly sample: { readonly rowGroupRows: number } | undefined; readonly drop: ReadonlyMap<string, string> };
type Reply = { readonly id: number; readonly result?: unknown; readonly error?: string };

/** workerData's mark of a compactor worker, and the prefix of its bucket files. */
const WORKER_KEY = 'clickstreamSliceWorker';

/** The steps spread over `threads.count` worker threads, worker w spreading into `${dir}/b<w>-<bucket>`. */
function inWorkers(dir: string, threads: WorkerThreads): SliceRunner {
  const workers = Array.from({ length: threads.count }, (_, w) => {
    const options = {
      workerData: { [WORKER_KEY]: `${dir}/b${w}` },
      // Not the parent's flags (a worker takes them by default): an --input-type or --eval that started the parent would stop the thread.
      execArgv: [],
      ...(threads.heapMiB !== undefined && { resourceLimits: { maxOldGenerationSizeMb: threads.heapMiB } }),
    };
    // A TypeScript script (the tests, the benchmark) is loaded through tsx's loader, registered in the
    // thread first: Node 20 does not apply an --import of execArgv before a worker's own script.
    const worker = threads.script.pathname.endsWith('.ts')
      ? new Worker(`import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))}).then((tsx) => { tsx.register(); return import(${JSON.stringify(threads.script.href)}); });`, { ...options, eval: true })
      : new Worker(threads.script, options);
    const pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
    const state: { failed?: Error } = {};
    /** The first failure fails what is waiting, and every later call (a thread that died at its start has nothing waiting yet). */
    const fail = (error: Error) => {
      state.failed ??= error;
      for (const p of pending.values()) p.reject(state.failed);
      pending.clear();
    };
    worker.on('message', ({ id, result, error }: Reply) => {
      const p = pending.get(id);
      pending.delete(id);
      if (error === undefined) p?.resolve(result);
      else p?.reject(new Error(`a compactor worker thread failed: ${error}`));
    });
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`a compactor worker thread exited (code ${code}) with work unfinished`)));
    return { worker, pending, state };
  });
  let nextId = 0;
  const call = <T>(w: (typeof workers)[number], request: Request, transfer: ArrayBuffer[] = []): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      if (w.state.failed) return reject(w.state.failed);
      const id = nextId++;
      w.pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      w.worker.postMessage({ id, request }, transfer);
    });
  /** The worker with the least work waiting: the steps differ in size, so turns alone would leave some idle. */
  const leastBusy = () => workers.reduce((a, b) => (b.pending.size < a.pending.size ? b : a));
  return {
    threads: workers.length,
    spreadFile: (body) => {
      // A copy the worker owns: the body may share its memory with other buffers (Node's pool).
      const own = new Uint8Array(body);
      return call(leastBusy(), { kind: 'spreadFile', body: own }, [own.buffer]);
    },
    spreadColumns: (columns) => call(leastBusy(), { kind: 'spreadColumns', columns }),
    closeSpread: async () => {
      const byWorker = await Promise.all(workers.map((w) => call<SpreadFiles>(w, { kind: 'closeSpread' })));
      const byBucket = (files: (f: SpreadFiles) => Spill[]) => files(byWorker[0]!).map((_, b) => byWorker.map((f) => files(f)[b]!));
      return { buckets: byBucket((f) => f.buckets), ids: byBucket((f) => f.ids) };
    },
    mergeSlice: (paths, runPath, sample, drop) => call(leastBusy(), { kind: 'mergeSlice', paths, runPath, sample, drop }),
    close: async () => {
      await Promise.all(workers.map((w) => w.worker.terminate()));
    },
  };
}

/** The steps in worker threads if more than one is asked for, else in this thread. */
export function sliceRunner(dir: string, threads: WorkerThreads | undefined): SliceRunner {
  return threads && threads.count > 1 ? inWorkers(dir, threads) : inThisThread(dir);
}

/** Serves the steps in a worker thread started by inWorkers. */
function serve(port: NonNullable<typeof parentPort>, path: string): void {
  const spreader = new Spreader(path, 0);
  const run = async (request: Request): Promise<unknown> => {
    switch (request.kind) {
      case 'spreadFile':
        return spreader.takeFile(request.body);
      case 'spreadColumns':
        return spreader.take(request.columns);
      case 'closeSpread':
        return spreader.close();
      case 'mergeSlice':
        return mergeSlice(request.paths, request.runPath, request.sample, request.drop);
    }
  };
  port.on('message', ({ id, request }: { id: number; request: Request }) => {
    run(request).then(
      (result) => port.postMessage({ id, result }),
      (error: unknown) => port.postMessage({ id, error: error instanceof Error ? (error.stack ?? error.message) : String(error) }),
    );
  });
}

const ownPath = (workerData as Record<string, unknown> | null)?.[WORKER_KEY];
if (!isMainThread && parentPort && typeof ownPath === 'string') serve(parentPort, ownPath);
