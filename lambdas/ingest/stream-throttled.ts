/** The stream refused records for now (Kinesis throughput exceeded): a sender should pause and retry (a collector answers 429). */
export class StreamThrottled extends Error {}
