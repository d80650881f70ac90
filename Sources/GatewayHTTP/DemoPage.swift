/// The dev-mode demo page (`GET /demo`): one self-contained HTML document that imports
/// the browser client from the gateway (`GET /client/sse-gateway-client.js`), no build
/// step and nothing fetched from elsewhere, so it works offline next to `serve --dev`.
///
/// Element ids are a contract with `checks/browser`: `#state` (`data-state`: `idle`, then
/// the client's `connecting`, `open`, `polling`, `closed`), `#transport`, `#reconnects`,
/// `#last-event-id`, `#ready`, `#ready-count`, `#retry`, `#resets`, `#errors` (the
/// gateway's `event: error` frames), `#transport-errors` (the browser's own error events
/// and the refusals behind them), `#events-<topic with dots as dashes>` (one `li` per
/// event, `data-event-id` = the CloudEvent id), and the publish form `#publish-topic`,
/// `#publish-type`, `#publish-data`, `#publish`, `#publish-result`.
enum DemoPage {
    /// The page with its configuration embedded: `identitiesJSON` is an array of
    /// `{"key","label","token"}`, `topicsJSON` the carried topics.
    static func html(identitiesJSON: String, topicsJSON: String) -> String {
        // `<` only occurs inside JSON strings, where `\u003c` means the same; escaping it
        // keeps `</script>` in a value from ending the script element.
        let configuration = "{\"identities\":\(identitiesJSON),\"topics\":\(topicsJSON)}"
            .replacingOccurrences(of: "<", with: "\\u003c")
        return template.replacingOccurrences(of: "__DEMO_CONFIGURATION__", with: configuration)
    }

    private static let template = #"""
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>sse-gateway demo</title>
        <style>
          :root { font-family: system-ui, sans-serif; font-size: 14px; color: #1d2433; background: #f4f6fa; }
          body { margin: 0; padding: 16px 20px; }
          h1 { font-size: 20px; margin: 0 0 4px; }
          h2 { font-size: 15px; margin: 0 0 8px; }
          p.note { margin: 0 0 12px; color: #5a6478; }
          section { background: #fff; border: 1px solid #d8dde8; border-radius: 6px; padding: 12px; margin-bottom: 12px; }
          .row { display: flex; gap: 12px; flex-wrap: wrap; align-items: center; }
          .identities label { border: 1px solid #c4cad8; border-radius: 4px; padding: 4px 8px; cursor: pointer; }
          .identities input:checked + span { font-weight: 600; }
          button { font: inherit; padding: 4px 12px; border-radius: 4px; border: 1px solid #3056d3;
                   background: #3056d3; color: #fff; cursor: pointer; }
          .status dt { color: #5a6478; }
          .status dd { margin: 0 16px 0 4px; font-family: ui-monospace, monospace; }
          .status { display: flex; flex-wrap: wrap; }
          #state { padding: 1px 8px; border-radius: 10px; background: #ccc; }
          #state[data-state="open"] { background: #bfe8c6; }
          #state[data-state="polling"] { background: #cfe0fb; }
          #state[data-state="connecting"] { background: #fbe3a5; }
          #state[data-state="closed"] { background: #f5b9b9; }
          .topics { display: grid; grid-template-columns: repeat(auto-fit, minmax(260px, 1fr)); gap: 12px; }
          ul.events { list-style: none; margin: 0; padding: 0; max-height: 320px; overflow-y: auto; }
          ul.events li, ul.log li { border-top: 1px solid #eceff5; padding: 4px 0; font-family: ui-monospace, monospace;
                                    font-size: 12px; word-break: break-all; }
          ul.log { list-style: none; margin: 0; padding: 0; }
          ul.log:empty::after { content: "none"; color: #8a93a6; font-size: 12px; }
          .logs > div { flex: 1; min-width: 240px; }
          .logs small { display: block; color: #5a6478; }
          .type { color: #3056d3; font-weight: 600; }
          .muted { color: #8a93a6; }
          textarea { width: 100%; box-sizing: border-box; font-family: ui-monospace, monospace; }
          select, input[type=text] { font: inherit; }
        </style>
        </head>
        <body>
        <h1>sse-gateway demo <span class="muted">(dev mode only)</span></h1>
        <p class="note">Pick an identity: the page imports the browser client
          (<code>/client/sse-gateway-client.js</code>), whose <code>getToken</code> hands over the
          identity's token; the client turns it into the session cookie (<code>POST /events/session</code>),
          opens one <code>EventSource</code> on <code>/events/stream</code>, and reconnects, renews or
          falls back to <code>/events/poll</code> by itself. Heartbeats are SSE comments, which
          <code>EventSource</code> never exposes; the <code>ready</code> event states their interval.</p>

        <section>
          <h2>Identity</h2>
          <div class="row identities" id="identities"></div>
          <div class="row" style="margin-top:8px">
            <button id="connect" type="button">Connect</button>
            <span id="session" class="muted">not connected</span>
          </div>
        </section>

        <section>
          <h2>Connection</h2>
          <dl class="status">
            <dt>state</dt><dd><span id="state" data-state="idle">idle</span></dd>
            <dt>transport</dt><dd id="transport">-</dd>
            <dt>reconnects</dt><dd id="reconnects">0</dd>
            <dt>lastEventId</dt><dd id="last-event-id">-</dd>
            <dt>ready events</dt><dd id="ready-count">0</dd>
            <dt>next attempt</dt><dd id="retry">-</dd>
          </dl>
          <div>ready: <code id="ready" class="muted">-</code></div>
          <div class="row logs" style="align-items:flex-start; margin-top:8px">
            <div><strong>reset</strong> frames<small>refetch state, then events continue</small>
              <ul class="log" id="resets"></ul></div>
            <div><strong>event: error</strong> frames from the gateway
              <small>a MessageEvent whose data is {"code","message"}: the gateway ended the stream</small>
              <ul class="log" id="errors"></ul></div>
            <div><strong>transport errors</strong>
              <small>the browser's own error event, a plain Event without data; an HTTP status
                comes from the client's poll with the same query</small>
              <ul class="log" id="transport-errors"></ul></div>
          </div>
        </section>

        <section>
          <h2>Live events</h2>
          <div class="topics" id="topics"></div>
        </section>

        <section>
          <h2>Publish a sample event <span class="muted">(POST /demo/publish)</span></h2>
          <div class="row">
            <label>topic <select id="publish-topic"></select></label>
            <label>type <input id="publish-type" type="text" size="22"></label>
            <button id="publish" type="button">Publish</button>
            <span id="publish-result" class="muted"></span>
          </div>
          <textarea id="publish-data" rows="3" style="margin-top:8px"></textarea>
        </section>

        <script id="demo-configuration" type="application/json">__DEMO_CONFIGURATION__</script>
        <script type="module">
        import { connect } from "./client/sse-gateway-client.js";

        const configuration = JSON.parse(document.getElementById("demo-configuration").textContent);
        const samples = {
          "student.progress": { type: "progress.updated", data: { studentId: "s-1", score: 88 } },
          "learning.events": { type: "lesson.completed", data: { courseId: "c-1", studentId: "s-1", lesson: "l-3" } },
          "system.notifications": { type: "notice.posted", data: { message: "Maintenance at 18:00", priority: "normal" } },
        };
        const byId = (id) => document.getElementById(id);
        const listId = (topic) => "events-" + topic.replace(/[^A-Za-z0-9_-]/g, "-");
        let live = null;
        let arrivals = 0;

        for (const [index, identity] of configuration.identities.entries()) {
          const label = document.createElement("label");
          const input = document.createElement("input");
          input.type = "radio"; input.name = "identity"; input.value = identity.key;
          input.id = "identity-" + identity.key; input.checked = index === 0;
          const text = document.createElement("span");
          text.textContent = " " + identity.label;
          label.append(input, text);
          byId("identities").append(label);
        }
        for (const topic of configuration.topics) {
          const column = document.createElement("div");
          const title = document.createElement("h2");
          title.textContent = topic;
          const list = document.createElement("ul");
          list.className = "events"; list.id = listId(topic);
          column.append(title, list);
          byId("topics").append(column);
          const option = document.createElement("option");
          option.value = topic; option.textContent = topic;
          byId("publish-topic").append(option);
        }

        function showPosition() {
          if (live && live.lastEventId) byId("last-event-id").textContent = live.lastEventId;
        }

        function logLine(listId, text) {
          const item = document.createElement("li");
          item.textContent = new Date().toISOString().slice(11, 23) + " " + text;
          byId(listId).prepend(item);
        }

        function showEvent(topic, event) {
          showPosition();
          const item = document.createElement("li");
          item.dataset.eventId = event.id;
          item.dataset.type = event.type;
          const type = document.createElement("span");
          type.className = "type";
          type.textContent = event.type;
          const rest = document.createElement("span");
          rest.textContent = " " + JSON.stringify(event.data) + " ";
          const id = document.createElement("span");
          id.className = "muted";
          id.textContent = event.id;
          item.append(type, rest, id);
          byId(listId(topic)).prepend(item);
        }

        function showState(state, identity) {
          const element = byId("state");
          element.textContent = state;
          element.dataset.state = state;
          byId("transport").textContent = live.transport;
          showPosition();
          if (state !== "open" && state !== "polling") return;
          arrivals += 1;
          byId("reconnects").textContent = String(arrivals - 1);
          byId("retry").textContent = "-";
          byId("session").textContent = "session cookie set for " + identity.label;
          byId("session").dataset.identity = identity.key;
          if (state === "open") {
            byId("ready").textContent = JSON.stringify(live.ready);
            byId("ready-count").textContent = String(Number(byId("ready-count").textContent) + 1);
          }
        }

        // The client reports the gateway's close frames (kind "server": the MessageEvent's
        // data) apart from the browser's own error events and the refusals behind them.
        function showError(error) {
          if (error.kind === "server") {
            logLine("errors", JSON.stringify({ code: error.code, message: error.message }));
          } else if (error.kind === "refused") {
            const code = error.code ? " " + error.code : "";
            logLine("transport-errors", "HTTP " + error.status + code + " (from a " + error.during + "): " + error.detail);
          } else {
            logLine("transport-errors", error.kind + ": " + error.detail);
          }
          byId("retry").textContent = error.fatal ? "none: stopped (" + error.status + ")"
            : error.retryInMs === null ? "the browser's own reconnect, after the server's retry:"
            : "in " + error.retryInMs + " ms";
        }

        function signIn() {
          const key = document.querySelector("input[name=identity]:checked").value;
          const identity = configuration.identities.find((candidate) => candidate.key === key);
          if (live) live.close();
          arrivals = 0;
          byId("reconnects").textContent = "0";
          byId("ready-count").textContent = "0";
          for (const id of ["resets", "errors", "transport-errors"]) byId(id).replaceChildren();
          delete byId("session").dataset.identity;
          live = connect({
            url: new URL(".", location.href).href,
            topics: configuration.topics,
            getToken: () => {
              byId("session").textContent = "signing in as " + identity.label + "…";
              return identity.token;
            },
            onStateChange: (state) => showState(state, identity),
            onReset: (reset) => logLine("resets", JSON.stringify(reset)),
            onError: showError,
          });
          for (const topic of configuration.topics) live.on(topic, (event) => showEvent(topic, event));
          showState(live.state, identity);
        }

        function fillSample() {
          const sample = samples[byId("publish-topic").value] || { type: "demo.sample", data: {} };
          byId("publish-type").value = sample.type;
          byId("publish-data").value = JSON.stringify(sample.data);
        }

        async function publish() {
          const result = byId("publish-result");
          let data;
          try { data = JSON.parse(byId("publish-data").value); } catch (error) {
            result.textContent = "data is not JSON: " + error.message;
            return;
          }
          const body = { topic: byId("publish-topic").value, type: byId("publish-type").value, data };
          try {
            const response = await fetch("./demo/publish", {
              method: "POST",
              headers: { "Content-Type": "application/json" },
              body: JSON.stringify(body),
            });
            const answer = await response.json();
            result.textContent = response.ok ? answer.status + " " + answer.id : "HTTP " + response.status + ": " + answer.detail;
            result.dataset.eventId = response.ok ? answer.id : "";
          } catch (error) {
            result.textContent = "publish failed: " + error;
          }
        }

        byId("connect").addEventListener("click", signIn);
        byId("publish").addEventListener("click", publish);
        byId("publish-topic").addEventListener("change", fillSample);
        fillSample();
        // A poll answer moves the position after its handlers ran.
        setInterval(showPosition, 500);
        </script>
        </body>
        </html>
        """#
}
