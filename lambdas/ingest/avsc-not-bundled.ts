/**
 * Stands in for avsc in the Lambda bundles (an esbuild alias in bundle-options.ts).
 * @platformatic/kafka imports avsc for one thing: decoding Avro schemas its Confluent
 * schema registry client fetches, which runs only for a producer or consumer given a
 * `registry`. The simulator sends JSON and never configures one, so the path never runs;
 * bundling avsc cost 100 KiB of a bundle every cold start parses. Reaching it anyway is
 * one clear error, not a crash inside avsc.
 */
function notBundled(): never {
  throw new Error('Avro schemas (avsc) are not bundled with this Lambda: it sends JSON and configures no schema registry');
}

export default { Type: { forSchema: notBundled } };
