// sse-gateway browser client: one live connection to the gateway that never gives up.
//
//   import { connect } from "https://events.example.com/client/sse-gateway-client.js";
//   const live = connect({ url: "https://events.example.com", topics: ["student.progress"],
//                          getToken: () => auth.accessToken() });
//   live.on("student.progress", (event) => render(event.data));
//
// No dependencies and no build step; README.md beside this file documents every option.
//
// What a page can know, and how this module learns it:
// - EventSource reports no HTTP status. A stream refused with one (401, 429, 503…) just
//   closes. The client then sends GET /events/poll with the same query and position and
//   wait=0: the gateway answers it on the same path as the stream (token, scope,
//   admission), so it gets the same status, Retry-After and problem code, or, when the
//   gateway takes it, the missed events, which are delivered like any others.
// - The gateway's close frame (`event: error`, data {"code","message"}) is a MessageEvent
//   with data; the browser's own transport error is a plain Event without data.
// - EventSource hides the server's `retry:` too, so after a close frame or a dropped
//   stream the browser's own reconnect (which waits that `retry:` and sends
//   Last-Event-ID) is left to run once; everything after that is this client's backoff.
// - Only one transport runs at a time, and each resumes from the position after the
//   last event received, so switching between stream and poll loses and repeats nothing.

const DEFAULTS = Object.freeze({
  url: "/",
  withCredentials: true,
  minRetryMs: 1000,
  maxRetryMs: 30000,
  readyTimeoutMs: 10000,
  pollAfterFailures: 3,
  pollWaitSeconds: 25,
  sseProbeMs: 300000,
  maxQueuedEvents: 10000,
});

const FILTERS = ["studentId", "courseId", "minPriority", "types"];
const CLOSED = 2; // EventSource.CLOSED: the browser gave up on this EventSource
const REQUEST_TIMEOUT_MS = 15000; // a session request, or a poll beyond its wait

/**
 * Opens a live connection to the gateway's `/events/stream` (or `/events/poll`).
 * @param {import("./sse-gateway-client.js").ConnectOptions} options
 * @returns {import("./sse-gateway-client.js").Connection}
 */
export function connect(options) {
  const settings = { ...DEFAULTS, ...options };
  const topics = Array.from(settings.topics ?? []);
  if (topics.length === 0) throw new TypeError("connect: `topics` must name at least one topic");
  for (const name of Object.keys(settings.filters ?? {})) {
    if (!FILTERS.includes(name)) throw new TypeError(`connect: unknown filter '${name}'`);
  }
  const getToken = typeof settings.getToken === "function" ? settings.getToken : null;
  const EventSourceType = "EventSource" in settings ? settings.EventSource : globalThis.EventSource;
  const base = new URL(settings.url, globalThis.location?.href);
  if (!base.pathname.endsWith("/")) base.pathname += "/";
  const credentials = settings.withCredentials ? "include" : "same-origin";
  const handlers = new Map(topics.map((topic) => [topic, new Set()]));

  let state = "connecting";
  let mode = EventSourceType ? "sse" : "poll";
  let received = settings.lastEventId ?? ""; // after the last event queued: where transports resume
  let delivered = received; // after the last event handed to the page
  let ready = null; // the last `ready` frame's data
  let failures = 0; // attempts in a row that got nothing
  let authFailures = 0; // 401s in a row
  let streamFailures = 0; // streams in a row without `ready` while the gateway answered polls
  let needsSession = getToken !== null; // the session cookie must be (re)made before the next attempt
  let nextStreamProbe = 0; // while polling: when to try a stream again
  let generation = 0; // bumped by each attempt; callbacks of older ones are ignored
  let timer = null;
  let source = null;
  let poller = null;
  let closed = false;

  // Delivery: in order, one at a time; an onReset that returns a promise holds what follows.
  const queue = [];
  let holding = false;
  let pumping = false;
  let paused = false; // transport stopped because the queue is full

  function enqueue(item) {
    queue.push(item);
    if (item.position) received = item.position;
    pump();
    if (queue.length > settings.maxQueuedEvents && !paused) {
      paused = true; // resumes from `received` once the page caught up
      stopTransport();
      setState("connecting");
    }
  }

  function pump() {
    if (pumping) return;
    pumping = true;
    while (queue.length > 0 && !holding && !closed) {
      const item = queue.shift();
      if (item.position) delivered = item.position;
      if (item.kind === "event") {
        for (const handler of handlers.get(item.topic) ?? []) invoke(handler, item.event);
      } else if (item.kind === "reset") {
        const result = invoke(settings.onReset, item.reset);
        if (result && typeof result.then === "function") {
          holding = true;
          Promise.resolve(result).catch(rethrow).finally(() => { holding = false; pump(); });
        }
      }
    }
    pumping = false;
    if (paused && queue.length === 0 && !holding && !closed) {
      paused = false;
      attempt();
    }
  }

  function setState(next) {
    if (next === state || closed) return;
    const previous = state;
    state = next;
    invoke(settings.onStateChange, next, previous);
  }

  function report(info) {
    invoke(settings.onError, info);
  }

  // One attempt at a time: each starts a new generation and stops whatever ran before.
  function attempt() {
    clearTimeout(timer);
    timer = null;
    if (closed || paused) return;
    stopTransport();
    const run = ++generation;
    if (needsSession) renewSession(run);
    else if (mode === "sse" || (EventSourceType && Date.now() >= nextStreamProbe)) openStream(run);
    else pollLoop(run);
  }

  function current(run) {
    return run === generation && !closed && !paused;
  }

  function stopTransport() {
    generation += 1;
    source?.close();
    source = null;
    poller?.abort();
    poller = null;
  }

  // A refusal, a failed renewal or a network failure: back off, renew, or stop.
  function failed(run, outcome) {
    if (!current(run)) return;
    failures += 1;
    if (outcome.status === 400 || outcome.status === 403) {
      report({ ...outcome, fatal: true, retryInMs: null });
      close();
      return;
    }
    let delay = backoff(outcome.retryAfterMs ?? 0);
    if (outcome.status === 401) {
      authFailures += 1;
      needsSession = getToken !== null;
      if (needsSession && authFailures === 1) delay = 0; // renew at once; a second 401 in a row backs off
    }
    report({ ...outcome, fatal: false, retryInMs: delay });
    setState("connecting");
    stopTransport();
    timer = setTimeout(attempt, delay);
  }

  // Exponential from minRetryMs, capped at maxRetryMs, never below Retry-After, plus up
  // to 50% jitter so a crowd of clients refused together does not come back together.
  function backoff(retryAfterMs) {
    const exponential = settings.minRetryMs * 2 ** Math.min(failures - 1, 20);
    const floor = Math.max(Math.min(settings.maxRetryMs, exponential), retryAfterMs);
    return Math.round(floor * (1 + Math.random() / 2));
  }

  function succeeded() {
    failures = 0;
    authFailures = 0;
  }

  async function renewSession(run) {
    setState("connecting");
    let token;
    try {
      token = await getToken();
    } catch (error) {
      failed(run, { kind: "token", detail: `getToken() failed: ${error}` });
      return;
    }
    if (!current(run)) return;
    if (typeof token !== "string" || token === "") {
      failed(run, { kind: "token", detail: "getToken() returned no token" });
      return;
    }
    let response;
    try {
      response = await fetch(new URL("events/session", base), {
        method: "POST",
        headers: { Authorization: `Bearer ${token}` },
        credentials,
        cache: "no-store",
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
    } catch (error) {
      failed(run, { kind: "transport", detail: `POST /events/session failed: ${error}` });
      return;
    }
    if (!current(run)) return;
    if (!response.ok) {
      failed(run, await refusal(response, "session"));
      return;
    }
    needsSession = false;
    attempt();
  }

  function openStream(run) {
    if (mode === "poll") nextStreamProbe = Date.now() + settings.sseProbeMs;
    else setState("connecting");
    const stream = new EventSourceType(endpoint("events/stream"), {
      withCredentials: settings.withCredentials,
    });
    source = stream;
    let opened = false; // response headers arrived
    let live = false; // `ready` arrived on this connection
    let readyTimer = null;
    const armReadyTimer = (ms) => {
      clearTimeout(readyTimer);
      readyTimer = setTimeout(() => streamFailed("ready_timeout"), ms);
    };
    const streamFailed = (why) => {
      clearTimeout(readyTimer);
      if (!current(run) || source !== stream) return;
      stream.close();
      source = null;
      if (why === "network" && !opened) {
        failed(run, { kind: "transport", detail: "the stream could not connect" });
      } else {
        diagnose(run, why);
      }
    };
    armReadyTimer(settings.readyTimeoutMs);

    stream.addEventListener("open", () => {
      opened = true;
      if (!live) armReadyTimer(settings.readyTimeoutMs);
    });
    stream.addEventListener("ready", (message) => {
      if (source !== stream) return;
      clearTimeout(readyTimer);
      live = true;
      mode = "sse";
      streamFailures = 0;
      succeeded();
      ready = parse(message.data);
      enqueue({ kind: "position", position: message.lastEventId });
      setState("open");
    });
    stream.addEventListener("reset", (message) => {
      if (source !== stream) return;
      enqueue({ kind: "reset", reset: parse(message.data), position: message.lastEventId });
    });
    for (const topic of topics) {
      stream.addEventListener(topic, (message) => {
        if (source !== stream) return;
        enqueue({ kind: "event", topic, event: parse(message.data), position: message.lastEventId });
      });
    }
    stream.addEventListener("error", (event) => {
      if (source !== stream) return;
      if (typeof event.data === "string") {
        // The gateway's close frame (a MessageEvent); the connection ends right after it.
        const frame = parse(event.data);
        report({ kind: "server", code: frame.code, message: frame.message, fatal: false, retryInMs: null });
        if (frame.code === "token_expired") {
          clearTimeout(readyTimer);
          stream.close();
          source = null;
          needsSession = getToken !== null;
          setState("connecting");
          timer = setTimeout(attempt, 0);
        }
        return;
      }
      // The browser's own error (a plain Event).
      if (stream.readyState === CLOSED) {
        streamFailed("refused"); // an HTTP status or a wrong Content-Type: learn which
      } else if (live) {
        // An established stream ended (a close frame, or the connection dropped): the
        // browser reconnects by itself after the server's `retry:`, with Last-Event-ID.
        live = false;
        opened = false;
        report({ kind: "transport", detail: "the stream ended", fatal: false, retryInMs: null });
        setState("connecting");
        armReadyTimer(settings.maxRetryMs + settings.readyTimeoutMs);
      } else {
        streamFailed("network");
      }
    });
  }

  // A stream failed before `ready`: a poll with the same position (wait=0) tells why, and
  // delivers what was missed if the gateway does take it.
  async function diagnose(run, why) {
    const refused = await poll(run, 0);
    if (!current(run)) return;
    if (refused) {
      failed(run, refused);
      return;
    }
    // The gateway answers polls, so the stream itself does not get through (a proxy that
    // buffers or refuses event streams).
    streamFailures += 1;
    authFailures = 0;
    if (mode === "sse" && streamFailures >= settings.pollAfterFailures) {
      mode = "poll";
      nextStreamProbe = Date.now() + settings.sseProbeMs;
      const detail = `${streamFailures} streams in a row sent no ready frame; polling instead`;
      report({ kind: "fallback", detail, fatal: false, retryInMs: 0 });
      attempt();
    } else if (mode === "poll") {
      attempt();
    } else {
      failed(run, { kind: "stream", detail: `the stream ended before its ready frame (${why})` });
    }
  }

  async function pollLoop(run) {
    let first = true;
    while (current(run)) {
      const started = Date.now();
      const from = received;
      // The first poll answers at once (the client knows it is accepted, and where it
      // stands); later ones wait, but no longer than until the next stream probe is due.
      const untilProbe = EventSourceType ? Math.ceil((nextStreamProbe - started) / 1000) : Infinity;
      const wait = first ? 0 : Math.max(0, Math.min(settings.pollWaitSeconds, untilProbe));
      first = false;
      const refused = await poll(run, wait);
      if (!current(run)) return;
      if (refused) {
        failed(run, refused);
        return;
      }
      succeeded();
      setState("polling");
      if (EventSourceType && Date.now() >= nextStreamProbe) {
        attempt();
        return;
      }
      // A long poll that came back empty at once (a proxy, a draining gateway): do not spin.
      if (wait > 0 && received === from && Date.now() - started < 500) await sleep(settings.minRetryMs);
    }
  }

  // One GET /events/poll from `received`: null when it answered and its events are
  // queued, else what refused it.
  async function poll(run, waitSeconds) {
    const controller = new AbortController();
    poller = controller;
    const limit = setTimeout(() => controller.abort(), waitSeconds * 1000 + REQUEST_TIMEOUT_MS);
    try {
      const response = await fetch(endpoint("events/poll", waitSeconds), {
        credentials,
        cache: "no-store",
        headers: { Accept: "application/json" },
        signal: controller.signal,
      });
      if (!response.ok) return await refusal(response, "poll");
      const body = await response.json();
      if (!current(run)) return null;
      if (!Array.isArray(body?.events) || typeof body.lastEventId !== "string") {
        return { kind: "transport", detail: "the poll answer is not the gateway's JSON" };
      }
      if (body.reset) enqueue({ kind: "reset", reset: body.reset });
      for (const event of body.events) enqueue({ kind: "event", topic: event.topic, event });
      enqueue({ kind: "position", position: body.lastEventId });
      return null;
    } catch (error) {
      return { kind: "transport", detail: `GET /events/poll failed: ${error}` };
    } finally {
      clearTimeout(limit);
      if (poller === controller) poller = null;
    }
  }

  function endpoint(path, waitSeconds) {
    const url = new URL(path, base);
    url.searchParams.set("topics", topics.join(","));
    for (const [name, value] of Object.entries(settings.filters ?? {})) {
      if (value !== undefined && value !== null) {
        url.searchParams.set(name, Array.isArray(value) ? value.join(",") : String(value));
      }
    }
    if (received) url.searchParams.set("lastEventId", received);
    if (waitSeconds !== undefined) url.searchParams.set("wait", String(waitSeconds));
    return url.href;
  }

  function close() {
    if (closed) return;
    setState("closed");
    closed = true;
    clearTimeout(timer);
    stopTransport();
    queue.length = 0;
    globalThis.removeEventListener?.("online", retryNow);
  }

  // Back online: skip the rest of a backoff wait.
  function retryNow() {
    if (timer !== null) attempt();
  }

  globalThis.addEventListener?.("online", retryNow);
  attempt();

  return {
    on(topic, handler) {
      const set = handlers.get(topic);
      if (!set) throw new TypeError(`on: '${topic}' is not one of the connection's topics`);
      set.add(handler);
      return () => set.delete(handler);
    },
    close,
    get state() { return state; },
    get transport() { return mode; },
    get lastEventId() { return delivered; },
    get ready() { return ready; },
  };
}

async function refusal(response, during) {
  let problem = {};
  try {
    if ((response.headers.get("Content-Type") ?? "").includes("json")) problem = await response.json();
  } catch {
    // Not the gateway's problem body (a proxy's page): the status says enough.
  }
  return {
    kind: "refused",
    during,
    status: response.status,
    code: typeof problem.code === "string" ? problem.code : undefined,
    detail: typeof problem.detail === "string" ? problem.detail : `HTTP ${response.status}`,
    retryAfterMs: retryAfterMs(response.headers.get("Retry-After")),
  };
}

// Retry-After is seconds or an HTTP date (RFC 9110 10.2.3). Cross-origin, the gateway
// must list it in Access-Control-Expose-Headers, or the page cannot read it.
function retryAfterMs(value) {
  if (!value) return 0;
  if (/^\s*\d+\s*$/.test(value)) return Number(value) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? 0 : Math.max(0, date - Date.now());
}

function parse(text) {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

// A page's handler that throws must not stop the connection; the error still surfaces
// where the page's other errors do.
function invoke(handler, ...values) {
  if (typeof handler !== "function") return undefined;
  try {
    return handler(...values);
  } catch (error) {
    rethrow(error);
    return undefined;
  }
}

function rethrow(error) {
  if (typeof globalThis.reportError === "function") globalThis.reportError(error);
  else setTimeout(() => { throw error; });
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
