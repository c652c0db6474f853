import { MultipleErrors, NetworkError, ProtocolError, TimeoutError, UserError } from '@platformatic/kafka';
import { describe, expect, it } from 'vitest';
import { isPermanentSendError } from '../../local/produce/send-errors.ts';

describe('isPermanentSendError', () => {
  it.each([
    ['a refused connection (broker down)', new NetworkError('Connection to 127.0.0.1:19092 failed.')],
    ['a timeout', new TimeoutError('Request timed out.')],
    ['a leader election', new ProtocolError('NOT_LEADER_OR_FOLLOWER')],
    ['a topic the restarted broker has not loaded yet', new ProtocolError('UNKNOWN_TOPIC_OR_PARTITION')],
    ['a sequence gap after a lost send', new ProtocolError('OUT_OF_ORDER_SEQUENCE_NUMBER')],
    ['retries exhausted on network errors', new MultipleErrors('Producing failed 6 times.', [new NetworkError('a'), new NetworkError('b')])],
    ['something that is not an error', 'oops'],
  ])('retries %s', (_, error) => {
    expect(isPermanentSendError(error)).toBe(false);
  });

  it.each([
    ['a batch too large', new ProtocolError('MESSAGE_TOO_LARGE')],
    ['a topic it may not write', new ProtocolError('TOPIC_AUTHORIZATION_FAILED')],
    ['a bad option', new UserError('Invalid option.')],
    ['a refusal inside retries', new MultipleErrors('Producing failed 2 times.', [new NetworkError('a'), new ProtocolError('RECORD_LIST_TOO_LARGE')])],
  ])('gives up on %s', (_, error) => {
    expect(isPermanentSendError(error)).toBe(true);
  });
});
