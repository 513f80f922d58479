/** The Worker as Cloudflare's runtime loads it: an ES module with a default `fetch` handler. */
import { handle } from './scenario.js';

export default {
  fetch(request: Request): Promise<Response> {
    return handle(request);
  },
};
