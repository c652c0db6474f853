/**
 * The project's own event JSON (schema/clickstream-event.v2.schema.json), one event or
 * an array. The sender speaks the schema, so a bad event is the sender's bug: the whole
 * request is refused with the reason (400) and nothing of it is sent, so the sender can
 * fix and resend it without creating copies.
 */
import type { ClickstreamEvent } from '../common/event-schema.ts';
import { validateEvent } from '../common/validate-event.ts';
import type { ClientFacts } from './enrich-client.ts';
import { EnvelopeError } from './envelope.ts';
import type { EventDraft } from './tracked-hit.ts';

/** At most this many events per request, as Segment's batch limit. */
export const MAX_OWN_EVENTS = 500;

export function ownEvents(body: unknown, facts: ClientFacts): EventDraft[] {
  const list = Array.isArray(body) ? body : [body];
  if (list.length === 0) throw new EnvelopeError('the body is an empty array: send one event or an array of events');
  if (list.length > MAX_OWN_EVENTS) throw new EnvelopeError(`the body holds ${list.length} events, more than ${MAX_OWN_EVENTS}: split it`);
  return list.map((value, index) => {
    const result = validateEvent(value);
    if (!result.ok) throw new EnvelopeError(`${Array.isArray(body) ? `event ${index}: ` : ''}${result.reason}`);
    return withFacts(result.event, facts);
  });
}

/** What the event leaves unknown, the request tells (a v1 event always carries all of it). */
function withFacts(event: ClickstreamEvent, facts: ClientFacts): EventDraft {
  const filled: EventDraft = { ...event };
  for (const [field, value] of Object.entries(facts)) if (filled[field] == null && value !== null) filled[field] = value;
  return filled;
}
