/** The same Worker as the Vercel Edge runtime loads it: a script with a `fetch` event listener. */
import { handle } from './scenario.js';

interface FetchEvent extends Event {
  readonly request: Request;
  respondWith(response: Promise<Response> | Response): void;
}

addEventListener('fetch', (event) => {
  const fetchEvent = event as FetchEvent;
  fetchEvent.respondWith(handle(fetchEvent.request));
});
