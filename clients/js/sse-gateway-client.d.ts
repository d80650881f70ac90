// Type declarations for sse-gateway-client.js (README.md beside this file).

/** `connecting`: no events flow yet (or again); `open`: a live stream; `polling`: long polls
 *  deliver the events; `closed`: stopped by `close()` or by a 400/403. */
export type ConnectionState = "connecting" | "open" | "polling" | "closed";

/** One event as the gateway sends it, on both transports. */
export interface GatewayEvent<Data = unknown> {
  /** The CloudEvent id. */
  id: string;
  topic: string;
  type: string;
  source: string;
  time?: string;
  data: Data;
}

/** Client filters; each only narrows what the token grants (design section 5). */
export interface Filters {
  studentId?: string;
  courseId?: string;
  minPriority?: "low" | "normal" | "high" | "critical";
  /** CloudEvent types. */
  types?: string[];
}

/** The gateway could not resume from the position (`{"reason":"history_gap"}`): refetch state. */
export interface ResetInfo {
  reason: string;
}

/** The data of the stream's `ready` frame. */
export interface ReadyInfo {
  topics: string[];
  filters: Record<string, unknown>;
  heartbeatSeconds: number;
}

/** What went wrong, and what the client does next. */
export type ConnectionError =
  /** The gateway's close frame (`event: error`, a MessageEvent with data). */
  | (ErrorBase & { kind: "server"; code: "shutting_down" | "slow_consumer" | "token_expired" | string; message: string })
  /** The browser's own error event (a plain Event): the stream could not connect, or ended. */
  | (ErrorBase & { kind: "transport"; detail: string })
  /** An HTTP refusal, read from a poll with the stream's query (or from POST /events/session). */
  | (ErrorBase & {
      kind: "refused";
      during: "poll" | "session";
      status: number;
      /** The problem body's `code` (`token_expired`, `too_many_streams`, `shutting_down`, …). */
      code?: string;
      detail: string;
      /** Retry-After in milliseconds, 0 when absent (or not exposed to a cross-origin page). */
      retryAfterMs: number;
    })
  /** `getToken()` threw, rejected, or returned no token. */
  | (ErrorBase & { kind: "token"; detail: string })
  /** A stream ended before its `ready` frame while the gateway answered polls. */
  | (ErrorBase & { kind: "stream"; detail: string })
  /** `pollAfterFailures` streams in a row sent no `ready` frame: the client polls from now on. */
  | (ErrorBase & { kind: "fallback"; detail: string });

interface ErrorBase {
  /** True for a 400 or 403: the client has closed itself. */
  fatal: boolean;
  /** When the client tries again; null when the browser's own reconnect (after the server's
   *  `retry:`) runs, or when fatal. */
  retryInMs: number | null;
}

export interface ConnectOptions {
  /** The gateway's base URL, under which `events/stream` lives. Default `"/"` (the page's origin). */
  url?: string;
  /** The topics to receive (`on()` accepts only these). */
  topics: string[];
  filters?: Filters;
  /** Resume from here (a `lastEventId` kept from an earlier connection). */
  lastEventId?: string;
  /** Returns a bearer token; called before the first connection and on 401 or `token_expired`,
   *  then posted to `/events/session`, which sets the session cookie the stream uses. */
  getToken?: () => string | Promise<string>;
  /** Send cookies cross-origin (EventSource `withCredentials`, fetch `credentials: "include"`). Default true. */
  withCredentials?: boolean;
  /** Called with the new state and the previous one. */
  onStateChange?: (state: ConnectionState, previous: ConnectionState) => void;
  /** Called before any later event is delivered; returning a promise holds later events until it settles. */
  onReset?: (reset: ResetInfo) => void | Promise<unknown>;
  onError?: (error: ConnectionError) => void;
  /** First backoff delay. Default 1000. */
  minRetryMs?: number;
  /** Longest backoff delay before jitter (Retry-After may ask for longer). Default 30000. */
  maxRetryMs?: number;
  /** How long a stream may take to deliver its `ready` frame. Default 10000. */
  readyTimeoutMs?: number;
  /** Streams in a row without `ready` (while polls work) before polling. Default 3. */
  pollAfterFailures?: number;
  /** A long poll's `wait` (0–30). Default 25. */
  pollWaitSeconds?: number;
  /** While polling, how often to try a stream again. Default 300000. */
  sseProbeMs?: number;
  /** Events held while an `onReset` promise is pending before the transport pauses. Default 10000. */
  maxQueuedEvents?: number;
  /** The EventSource constructor; `null` forces polling. Default `globalThis.EventSource`. */
  EventSource?: typeof EventSource | null;
}

export interface Connection {
  /** Adds a handler for one of the connection's topics; returns a function that removes it. */
  on<Data = unknown>(topic: string, handler: (event: GatewayEvent<Data>) => void): () => void;
  /** Stops for good: closes the stream, aborts a poll, cancels a pending retry. */
  close(): void;
  readonly state: ConnectionState;
  /** The transport in use or being tried. */
  readonly transport: "sse" | "poll";
  /** The position after the last event delivered (never ahead of the handlers); keep it to resume later. */
  readonly lastEventId: string;
  /** The last `ready` frame's data, null before the first stream. */
  readonly ready: ReadyInfo | null;
}

export function connect(options: ConnectOptions): Connection;
