/// The dev-mode demo page (`GET /demo`): one self-contained HTML document, no build step
/// and nothing fetched from elsewhere, so it works offline next to `serve --dev`.
///
/// Element ids are a contract with `checks/browser`: `#state` (`connecting`, `open`,
/// `error`, `closed`; `data-ready-state` holds `EventSource.readyState`), `#reconnects`,
/// `#last-event-id`, `#ready`, `#resets`, `#errors`, `#events-<topic with dots as dashes>`
/// (one `li` per event, `data-event-id` = the CloudEvent id), and the publish form
/// `#publish-topic`, `#publish-type`, `#publish-data`, `#publish`, `#publish-result`.
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
          #state[data-state="connecting"] { background: #fbe3a5; }
          #state[data-state="error"], #state[data-state="closed"] { background: #f5b9b9; }
          .topics { display: grid; grid-template-columns: repeat(auto-fit, minmax(260px, 1fr)); gap: 12px; }
          ul.events { list-style: none; margin: 0; padding: 0; max-height: 320px; overflow-y: auto; }
          ul.events li, ul.log li { border-top: 1px solid #eceff5; padding: 4px 0; font-family: ui-monospace, monospace;
                                    font-size: 12px; word-break: break-all; }
          ul.log { list-style: none; margin: 0; padding: 0; }
          ul.log:empty::after { content: "none"; color: #8a93a6; font-size: 12px; }
          .type { color: #3056d3; font-weight: 600; }
          .muted { color: #8a93a6; }
          textarea { width: 100%; box-sizing: border-box; font-family: ui-monospace, monospace; }
          select, input[type=text] { font: inherit; }
        </style>
        </head>
        <body>
        <h1>sse-gateway demo <span class="muted">(dev mode only)</span></h1>
        <p class="note">Pick an identity: the page turns its token into the session cookie
          (<code>POST /events/session</code>), then opens one <code>EventSource</code> on
          <code>/events/stream</code>. Heartbeats are SSE comments, which <code>EventSource</code>
          never exposes; the <code>ready</code> event states their interval.</p>

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
            <dt>state</dt><dd><span id="state" data-state="idle" data-ready-state="">idle</span></dd>
            <dt>readyState</dt><dd id="ready-state">-</dd>
            <dt>reconnects</dt><dd id="reconnects">0</dd>
            <dt>lastEventId</dt><dd id="last-event-id">-</dd>
            <dt>ready events</dt><dd id="ready-count">0</dd>
          </dl>
          <div>ready: <code id="ready" class="muted">-</code></div>
          <div class="row" style="align-items:flex-start; margin-top:8px">
            <div style="flex:1"><strong>reset</strong> events<ul class="log" id="resets"></ul></div>
            <div style="flex:1"><strong>error</strong> events<ul class="log" id="errors"></ul></div>
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
        <script>
        "use strict";
        const configuration = JSON.parse(document.getElementById("demo-configuration").textContent);
        const samples = {
          "student.progress": { type: "progress.updated", data: { studentId: "s-1", score: 88 } },
          "learning.events": { type: "lesson.completed", data: { courseId: "c-1", studentId: "s-1", lesson: "l-3" } },
          "system.notifications": { type: "notice.posted", data: { message: "Maintenance at 18:00", priority: "normal" } },
        };
        const byId = (id) => document.getElementById(id);
        const listId = (topic) => "events-" + topic.replace(/[^A-Za-z0-9_-]/g, "-");
        let source = null;
        let opens = 0;

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

        function showState(state) {
          const element = byId("state");
          const readyState = source ? String(source.readyState) : "";
          element.textContent = state;
          element.dataset.state = state;
          element.dataset.readyState = readyState;
          byId("ready-state").textContent = readyState === "" ? "-" :
            readyState + " (" + ["CONNECTING", "OPEN", "CLOSED"][source.readyState] + ")";
        }

        function noteEventId(event) {
          if (event.lastEventId) byId("last-event-id").textContent = event.lastEventId;
        }

        function logLine(listId, text) {
          const item = document.createElement("li");
          item.textContent = new Date().toLocaleTimeString() + " " + text;
          byId(listId).prepend(item);
        }

        function showEvent(topic, message) {
          noteEventId(message);
          let event;
          try { event = JSON.parse(message.data); } catch { event = { id: "", type: "?", data: message.data }; }
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

        function openStream() {
          if (source) source.close();
          opens = 0;
          byId("reconnects").textContent = "0";
          source = new EventSource("/events/stream?topics=" + configuration.topics.map(encodeURIComponent).join(","));
          showState("connecting");
          source.onopen = () => {
            opens += 1;
            byId("reconnects").textContent = String(Math.max(0, opens - 1));
            showState("open");
          };
          source.addEventListener("ready", (message) => {
            noteEventId(message);
            byId("ready").textContent = message.data;
            byId("ready-count").textContent = String(Number(byId("ready-count").textContent) + 1);
          });
          source.addEventListener("reset", (message) => {
            noteEventId(message);
            logLine("resets", message.data);
          });
          // The gateway's `event: error` frames and the browser's connection errors share
          // the name; only the gateway's carry data.
          source.addEventListener("error", (message) => {
            if (message instanceof MessageEvent && message.data) {
              logLine("errors", message.data);
              return;
            }
            showState(source.readyState === EventSource.CLOSED ? "closed" : "error");
          });
          for (const topic of configuration.topics) {
            source.addEventListener(topic, (message) => showEvent(topic, message));
          }
        }

        async function connect() {
          const key = document.querySelector("input[name=identity]:checked").value;
          const identity = configuration.identities.find((candidate) => candidate.key === key);
          byId("session").textContent = "signing in as " + identity.label + "…";
          try {
            const response = await fetch("/events/session", {
              method: "POST",
              headers: { Authorization: "Bearer " + identity.token },
              credentials: "same-origin",
            });
            if (!response.ok) {
              byId("session").textContent = "session refused: HTTP " + response.status;
              return;
            }
            byId("session").textContent = "session cookie set for " + identity.label;
            byId("session").dataset.identity = identity.key;
            openStream();
          } catch (error) {
            byId("session").textContent = "session request failed: " + error;
          }
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
            const response = await fetch("/demo/publish", {
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

        byId("connect").addEventListener("click", connect);
        byId("publish").addEventListener("click", publish);
        byId("publish-topic").addEventListener("change", fillSample);
        fillSample();
        // The readyState changes without an event while the browser retries; keep it visible.
        setInterval(() => {
          if (!source) return;
          const shown = byId("state").dataset.readyState;
          if (shown !== String(source.readyState)) {
            showState(source.readyState === EventSource.OPEN ? "open" :
                      source.readyState === EventSource.CLOSED ? "closed" : "connecting");
          }
        }, 500);
        </script>
        </body>
        </html>
        """#
}
