// The candidate's exam client: the reference client of docs/protocol.md.
//
// Plain ES2020, no build step, no CDN: it uses window.io (socket.io-client) and window.ExamEditor
// (CodeMirror 6), both bundled from npm into static/vendor at set-up.
//
// Promises kept here:
// - Every change is written to the journal (IndexedDB, else localStorage) before it is sent, and
//   leaves the journal only when the server acknowledged it (any outcome) or refused it for good.
//   While the network is down, changes stay in the journal; they are replayed in seq order as
//   soon as the server answers again, over Socket.IO or the HTTP fallback.
// - The countdown is deadline − (Date.now() + offset), never a local count: the server's clock
//   rules, the offset comes from `ping` (or the HTTP round trip) with the shortest round trip.
// - Warnings never steal focus; time up locks answering and says so.
//
// Two pages use it: the waiting room (start buttons) and the exam page (#exam-data).
(() => {
  "use strict";

  const ACK_TIMEOUT_MS = 5000;
  const HTTP_TIMEOUT_MS = 10000;
  const RETRY_MS = 3000;
  const HTTP_POLL_MS = 20000; // without a socket, learn pauses and extensions by asking
  const PAUSED_POLL_MS = 5000;
  const BEAT_MS = 15000; // presence on the invigilators' board (docs/invigilation.md)
  const EDITOR_DEBOUNCE_MS = 1000;
  const WARNINGS = [10, 5, 1]; // minutes
  const FINAL_STATES = ["submitted", "auto_submitted", "voided"];
  // Codes after which a change stays in the journal (docs/protocol.md, "The journal").
  const KEEP_CODES = ["time_up", "not_in_progress"];
  const PREVIEW_CSP =
    "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; " +
    "img-src data:; connect-src 'none'";

  const dataBlock = document.getElementById("exam-data");
  const D = dataBlock ? JSON.parse(dataBlock.textContent) : null;
  // The page loads the code editor only for a part answered in it (paper.html).
  const needsEditor = Boolean(D && D.items.some((i) => i.language));
  try {
    // Every script of the page loaded: a later failure may reload it again (exam/_scripts.html).
    if (!D || (window.io && (window.ExamEditor || !needsEditor))) {
      sessionStorage.removeItem("examsvc-reloads");
    }
  } catch (e) {
    /* no sessionStorage: no reload count is kept either */
  }
  if (!D) {
    waitingRoom();
    return;
  }
  const S = D.strings;
  const PART = D.part;
  const fmt = (text, values) => text.replace(/\{(\w+)\}/g, (m, k) => (k in values ? values[k] : m));

  // ---- the waiting room ----------------------------------------------------------------------

  function waitingRoom() {
    const room = document.getElementById("waiting-room");
    if (!room) return;
    const ready = document.getElementById("ready");
    const error = document.getElementById("start-error");
    const buttons = [...room.querySelectorAll("button[data-start]")];
    const sync = () => buttons.forEach((b) => (b.disabled = !(ready && ready.checked)));
    if (ready) ready.addEventListener("change", sync);
    sync();
    buttons.forEach((button) =>
      button.addEventListener("click", async () => {
        const label = button.textContent;
        button.disabled = true;
        button.textContent = room.dataset.starting;
        error.textContent = "";
        try {
          const response = await fetch(button.dataset.start, {
            method: "POST",
            credentials: "same-origin",
            headers: { "X-CSRFToken": room.dataset.csrf, "Content-Type": "application/json" },
            body: "{}",
          });
          const body = await response.json().catch(() => null);
          // Already started (another tab, or a double click): the page is what the candidate wants.
          if ((body && body.ok) || (body && body.error === "bad_state" && response.status === 409)) {
            window.location.assign(button.dataset.page);
            return;
          }
          if (!body && response.status === 400) {
            window.location.reload(); // the page's CSRF token expired: a fresh page has one
            return;
          }
          if (body && body.error === "unauthenticated") {
            window.location.reload();
            return;
          }
          error.textContent = (body && body.message) || `HTTP ${response.status}`;
        } catch (e) {
          error.textContent = room.dataset.network;
        }
        button.textContent = label;
        sync();
      }),
    );
  }

  // ---- state --------------------------------------------------------------------------------

  // position -> {position, number, type, language, labels, value, flagged, savedSeq, status, el}
  const items = new Map();
  const order = []; // positions in the order shown
  for (const it of D.items) {
    const el = document.getElementById(`q-${it.position}`);
    items.set(it.position, {
      ...it,
      value: null,
      flagged: false,
      savedSeq: 0,
      status: "",
      error: "",
      el,
      editor: null,
      debounce: null,
    });
    order.push(it.position);
  }
  const pending = new Map(); // position -> the newest unacknowledged change of the item
  const part = {
    state: D.initial.state,
    deadline: D.initial.deadline,
    remaining: D.initial.remaining_ms,
    paused: D.initial.paused,
    lastSeq: D.initial.last_seq || 0,
  };
  let nextSeq = part.lastSeq + 1;
  let current = order[0];
  let lock = null; // null, or {reason, final}
  let online = navigator.onLine !== false; // refined by every request
  let offlineShown = false;
  let submitting = false;
  let timeIsUp = false;
  // The clock offset (server − client) of the sample with the shortest round trip; the page's
  // own server_time is a first, rough sample.
  let offset = { value: D.server_time - Date.now(), rtt: Number.POSITIVE_INFINITY };

  const $ = (id) => document.getElementById(id);
  const hasAnswer = (it) => {
    const v = it.value;
    if (v === null || v === undefined) return false;
    if (Array.isArray(v)) return v.length > 0;
    if (typeof v === "object") return Boolean(v.text);
    return true;
  };

  // ---- the journal: IndexedDB, else localStorage, else memory --------------------------------

  const journalKey = `${D.registration}:${PART}`;

  const journal = (() => {
    const lsKey = `examsvc-journal:${journalKey}`;
    let idb = null;

    function openIdb() {
      return new Promise((resolve, reject) => {
        if (!window.indexedDB) return reject(new Error("no IndexedDB"));
        const request = indexedDB.open("examsvc", 1);
        request.onupgradeneeded = () => {
          request.result.createObjectStore("journal", { keyPath: ["key", "position"] });
        };
        request.onsuccess = () => resolve(request.result);
        request.onerror = () => reject(request.error);
        request.onblocked = () => reject(new Error("IndexedDB blocked"));
      });
    }

    function tx(mode, work) {
      return new Promise((resolve, reject) => {
        const t = idb.transaction("journal", mode);
        const store = t.objectStore("journal");
        let result;
        work(store, (r) => (result = r));
        t.oncomplete = () => resolve(result);
        t.onerror = () => reject(t.error);
        t.onabort = () => reject(t.error);
      });
    }

    const ls = {
      read() {
        try {
          return JSON.parse(localStorage.getItem(lsKey) || "{}");
        } catch (e) {
          return {};
        }
      },
      write(all) {
        if (Object.keys(all).length) localStorage.setItem(lsKey, JSON.stringify(all));
        else localStorage.removeItem(lsKey);
      },
    };
    let memory = null; // last resort: nothing persistent is available

    return {
      kind: "memory",
      async open() {
        try {
          idb = await openIdb();
          this.kind = "indexeddb";
          return;
        } catch (e) {
          idb = null;
        }
        try {
          localStorage.setItem("examsvc-probe", "1");
          localStorage.removeItem("examsvc-probe");
          this.kind = "localstorage";
        } catch (e) {
          memory = {};
          this.kind = "memory";
        }
      },
      // Changes of this part, oldest seq first.
      async all() {
        let list;
        if (idb) {
          list = await tx("readonly", (store, done) => {
            const range = IDBKeyRange.bound([journalKey, 0], [journalKey, Number.MAX_SAFE_INTEGER]);
            const r = store.getAll(range);
            r.onsuccess = () => done(r.result);
          });
        } else {
          list = Object.values(memory || ls.read());
        }
        return list.map(({ key, ...change }) => change).sort((a, b) => a.seq - b.seq);
      },
      // One entry per item: a newer change replaces an older unacknowledged one of the same item,
      // which the server would only have called stale.
      async put(change) {
        if (idb) return tx("readwrite", (store) => store.put({ key: journalKey, ...change }));
        const all = memory || ls.read();
        all[change.position] = change;
        if (!memory) ls.write(all);
      },
      // Remove the item's entry only if it is still this change (not a newer one since).
      async remove(change) {
        if (idb) {
          return tx("readwrite", (store) => {
            const r = store.get([journalKey, change.position]);
            r.onsuccess = () => {
              if (r.result && r.result.seq === change.seq) store.delete([journalKey, change.position]);
            };
          });
        }
        const all = memory || ls.read();
        if (all[change.position] && all[change.position].seq === change.seq) {
          delete all[change.position];
          if (!memory) ls.write(all);
        }
      },
      async clear() {
        if (idb) {
          return tx("readwrite", (store) =>
            store.delete(IDBKeyRange.bound([journalKey, 0], [journalKey, Number.MAX_SAFE_INTEGER])),
          );
        }
        if (memory) memory = {};
        else ls.write({});
      },
    };
  })();

  // Journal writes run one after another, so a change is never overtaken by an older one.
  let journalChain = Promise.resolve();
  const journalled = (work) => {
    journalChain = journalChain.then(work).catch((e) => console.warn("exam: journal", e));
    return journalChain;
  };

  // ---- transport: Socket.IO when connected, else the HTTP fallback ---------------------------

  class TransportError extends Error {}

  let socket = null;
  let socketRetry = null;

  async function http(event, payload, renewed = false) {
    const routes = {
      hello: ["GET", D.urls.state, null],
      answer: ["POST", D.urls.answers, () => {
        const { part: _p, ...change } = payload; // the part is in the URL
        return change;
      }],
      submit: ["POST", D.urls.submit, () => ({})],
      anomaly: ["POST", D.urls.anomaly, () => payload],
    };
    const route = routes[event];
    if (!route) throw new TransportError(`no HTTP route for ${event}`);
    const [method, url, body] = route;
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), HTTP_TIMEOUT_MS);
    const options = { method, credentials: "same-origin", signal: controller.signal, headers: {} };
    if (method === "POST") {
      options.headers["X-CSRFToken"] = D.csrf;
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body());
    }
    let response;
    let json;
    try {
      response = await fetch(url, options);
      json = await response.json().catch(() => null);
    } catch (e) {
      throw new TransportError(String(e));
    } finally {
      clearTimeout(timer);
    }
    if (json && typeof json.ok === "boolean") return json;
    if (response.status === 400 && method === "POST") {
      // Not a protocol answer: the page's CSRF token has expired (they last an hour, exams
      // longer). Take a fresh one from the page itself and try once more.
      if (!renewed && (await renewToken())) return http(event, payload, true);
      return { ok: false, error: "expired", message: S.expired };
    }
    throw new TransportError(`HTTP ${response.status}`);
  }

  async function renewToken() {
    try {
      const response = await fetch(D.urls.page, { credentials: "same-origin" });
      const page = new DOMParser().parseFromString(await response.text(), "text/html");
      const block = page.getElementById("exam-data");
      const fresh = block && JSON.parse(block.textContent).csrf;
      if (fresh) D.csrf = fresh;
      return Boolean(fresh);
    } catch (e) {
      return false;
    }
  }

  // The one place that chooses the transport: the socket if it is connected, else HTTP.
  async function request(event, payload) {
    // The browser knows it has no network at all: do not pretend otherwise.
    if (navigator.onLine === false) throw new TransportError("offline");
    if (socket && socket.connected) {
      try {
        return await socket.timeout(ACK_TIMEOUT_MS).emitWithAck(event, payload);
      } catch (e) {
        throw new TransportError(`no acknowledgement for ${event}`);
      }
    }
    return http(event, payload);
  }

  function transport() {
    return socket && socket.connected ? "socket" : "http";
  }

  async function call(event, payload) {
    const sent = Date.now();
    let answer;
    try {
      answer = await request(event, payload);
    } catch (e) {
      setOnline(false);
      throw e;
    }
    setOnline(true);
    if (answer && answer.ok && typeof answer.server_time === "number") {
      sample(sent, answer.server_time, Date.now());
    }
    if (answer && !answer.ok && answer.error === "unauthenticated") {
      window.location.assign(D.urls.login);
    }
    return answer;
  }

  let beatTimer = null;
  function connectSocket() {
    if (typeof window.io !== "function") return;
    socket = window.io("/exam", {
      transports: ["websocket", "polling"],
      tryAllTransports: true,
      reconnection: true,
      reconnectionDelay: 1000,
      reconnectionDelayMax: 5000,
      timeout: 5000,
    });
    socket.on("connect", async () => {
      setOnline(true);
      clearInterval(beatTimer);
      beatTimer = setInterval(() => socket.connected && socket.emit("beat", {}), BEAT_MS);
      await hello();
      await measureClock(4);
    });
    socket.on("disconnect", () => {
      if (!navigator.onLine) setOnline(false);
      // Otherwise the HTTP fallback carries on while the socket reconnects.
      probeSoon();
    });
    socket.on("connect_error", (err) => {
      const data = (err && err.data) || {};
      if (data.error === "unauthenticated") {
        window.location.assign(D.urls.login);
        return;
      }
      if (data.error === "pending") {
        showLock(S.pending, false);
        return;
      }
      // A refused namespace is not retried by the client itself; a broken network is.
      if (!socket.active) {
        clearTimeout(socketRetry);
        socketRetry = setTimeout(() => socket.connect(), 15000);
      }
      probeSoon();
    });
    socket.on("state", (p) => {
      if (p && p.part === PART) applyPart(p);
    });
    socket.on("time_up", (p) => {
      if (p && p.part === PART) timeUp();
    });
    socket.on("signed_out", (p) => {
      showLock(p && p.reason === "voided" ? S.voided : S.replaced, true);
      socket.disconnect();
    });
    socket.on("notice", (p) => {
      if (p && p.text) toast(`${S.notice}：${p.text}`, 15000);
    });
  }

  // ---- the clock -----------------------------------------------------------------------------

  function sample(sent, serverTime, received) {
    const rtt = received - sent;
    if (rtt <= offset.rtt) offset = { value: serverTime - (sent + received) / 2, rtt };
  }

  async function measureClock(times) {
    for (let n = 0; n < times && socket && socket.connected; n++) {
      const sent = Date.now();
      try {
        const ack = await socket.timeout(ACK_TIMEOUT_MS).emitWithAck("ping", { client_sent: sent });
        if (ack && ack.ok) sample(ack.client_sent, ack.server_time, Date.now());
      } catch (e) {
        return;
      }
    }
  }

  const serverNow = () => Date.now() + offset.value;

  function remainingMs() {
    if (timeIsUp) return 0;
    if (part.state === "in_progress" && part.deadline) return part.deadline - serverNow();
    return part.remaining;
  }

  const clock = $("clock");
  const clockBox = $("clock-box");
  const warned = new Set();

  function formatMs(ms) {
    const total = Math.max(0, Math.ceil(ms / 1000));
    const h = Math.floor(total / 3600);
    const m = Math.floor((total % 3600) / 60);
    const s = total % 60;
    const two = (x) => String(x).padStart(2, "0");
    return h ? `${h}:${two(m)}:${two(s)}` : `${two(m)}:${two(s)}`;
  }

  function tick() {
    const ms = remainingMs();
    if (typeof ms !== "number") return;
    clock.textContent = formatMs(ms);
    clockBox.classList.toggle("amber", ms <= 5 * 60000 && ms > 60000);
    clockBox.classList.toggle("red", ms <= 60000);
    if (part.state === "in_progress") warn(ms);
    if (part.state === "in_progress" && ms <= 0 && !(lock && lock.final)) timeUp();
  }

  function warn(ms) {
    // Only the latest threshold passed is shown (a reload at 4 minutes left shows the 5-minute
    // one); never a dialog, never a focus change.
    const passed = WARNINGS.filter((m) => ms <= m * 60000 && ms > 0);
    if (!passed.length) return;
    const latest = Math.min(...passed);
    if (warned.has(latest)) return;
    passed.forEach((m) => warned.add(m));
    const text = S[`warn_${latest}`];
    if (latest === 1) announce(text);
    toast(text, latest === 10 ? 8000 : 12000);
  }

  // ---- messages ------------------------------------------------------------------------------

  let toastTimer = null;
  function toast(text, ms) {
    const box = $("toast");
    box.textContent = text;
    box.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => (box.hidden = true), ms);
  }

  function announce(text) {
    const box = $("announce");
    box.textContent = "";
    setTimeout(() => (box.textContent = text), 50);
  }

  function setOnline(value) {
    const was = online;
    online = value;
    const bar = $("connection");
    if (!value) {
      bar.dataset.state = "offline";
      bar.textContent = S.offline;
      offlineShown = true;
    } else {
      bar.dataset.state = "online";
      bar.textContent = offlineShown && !pending.size ? S.back_online : S.online;
    }
    bar.dataset.transport = transport();
    if (value !== was) {
      items.forEach((it) => pending.has(it.position) && setStatus(it, value ? "saving" : "stored"));
      if (value) pump();
    }
  }

  function afterDrain() {
    if (!pending.size && offlineShown && online) {
      $("connection").textContent = S.back_online;
      offlineShown = false;
    }
  }

  function showLock(text, final) {
    lock = { text, final };
    const box = $("lock-message");
    box.hidden = false;
    box.textContent = "";
    box.append(text);
    if (final || FINAL_STATES.includes(part.state)) {
      const a = document.createElement("a");
      a.href = D.urls.home;
      a.textContent = S.back_home;
      box.append(" ", a);
    }
    setLocked(true);
  }

  function clearLock() {
    if (!lock || lock.final) return;
    lock = null;
    $("lock-message").hidden = true;
    setLocked(false);
  }

  function setLocked(locked) {
    document.body.classList.toggle("locked", locked);
    document.querySelectorAll(".item-area input, .flag").forEach((el) => (el.disabled = locked));
    $("submit-button").disabled = locked;
    items.forEach((it) => {
      if (it.type === "practical" && it.language) mountEditor(it, locked);
    });
  }

  function timeUp() {
    if (timeIsUp) return;
    timeIsUp = true;
    flushEditors();
    $("toast").hidden = true; // the lock message says it all now
    showLock(S.time_up, true);
    // The server submits by itself after the grace; ask for the final state a little later.
    setTimeout(hello, 8000);
  }

  // ---- items: show, record, save --------------------------------------------------------------

  function setStatus(it, status) {
    it.status = status;
    const el = it.el.querySelector(".save-state");
    el.dataset.save = status;
    el.textContent = {
      saved: S.saved,
      saving: S.saving,
      stored: S.stored,
      error: `${S.not_saved}：${it.error}`,
    }[status] || "";
  }

  function showValue(it) {
    const el = it.el;
    if (it.type === "single") {
      el.querySelectorAll("input[type=radio]").forEach((r) => (r.checked = r.value === it.value));
    } else if (it.type === "multiple") {
      const chosen = Array.isArray(it.value) ? it.value : [];
      el.querySelectorAll("input[type=checkbox]").forEach((c) => (c.checked = chosen.includes(c.value)));
    } else if (it.type === "truefalse") {
      el.querySelectorAll("input[type=radio]").forEach(
        (r) => (r.checked = it.value !== null && r.value === String(it.value)),
      );
    } else if (it.editor) {
      const text = (it.value && it.value.text) || "";
      if (it.editor.getValue() !== text) it.editor.setValue(text);
    }
    const flag = el.querySelector(".flag");
    flag.setAttribute("aria-pressed", String(it.flagged));
    el.classList.toggle("flagged", it.flagged);
  }

  function readValue(it) {
    const el = it.el;
    if (it.type === "single") {
      const r = el.querySelector("input[type=radio]:checked");
      return r ? r.value : null;
    }
    if (it.type === "multiple") {
      return [...el.querySelectorAll("input[type=checkbox]:checked")].map((c) => c.value).sort();
    }
    if (it.type === "truefalse") {
      const r = el.querySelector("input[type=radio]:checked");
      return r ? r.value === "true" : null;
    }
    const text = it.editor ? it.editor.getValue() : "";
    return text ? { text } : null;
  }

  // A change of the candidate: journal first, then send.
  function change(it, value, flagged) {
    if (lock) return;
    it.value = value;
    it.flagged = flagged;
    it.error = "";
    const entry = { position: it.position, seq: nextSeq++, value, flagged };
    pending.set(it.position, entry);
    setStatus(it, online ? "saving" : "stored");
    renderPanel();
    journalled(() => journal.put(entry)).then(pump);
  }

  let pumping = false;
  let retryTimer = null;

  // Send the unacknowledged changes one at a time, oldest seq first, until none is left or the
  // network fails; then try again a little later.
  async function pump() {
    if (pumping) return;
    pumping = true;
    try {
      for (;;) {
        const next = [...pending.values()].filter((e) => !e.held).sort((a, b) => a.seq - b.seq)[0];
        if (!next) break;
        await journalChain; // never send what is not journalled yet
        let ack;
        try {
          ack = await call("answer", { part: PART, ...next });
        } catch (e) {
          scheduleRetry();
          break;
        }
        await acknowledged(next, ack);
      }
    } finally {
      pumping = false;
      afterDrain();
    }
  }

  function scheduleRetry() {
    clearTimeout(retryTimer);
    retryTimer = setTimeout(async () => {
      if (!pending.size && online) return;
      // One round trip tells whether the server answers again.
      if ((await hello()) === null) {
        scheduleRetry();
        return;
      }
      pump();
    }, RETRY_MS);
  }

  async function acknowledged(entry, ack) {
    const it = items.get(entry.position);
    const newest = pending.get(entry.position) === entry;
    if (ack && ack.ok) {
      await journalled(() => journal.remove(entry));
      if (newest) pending.delete(entry.position);
      it.savedSeq = Math.max(it.savedSeq, entry.seq);
      if (!pending.has(entry.position)) setStatus(it, "saved");
      if (ack.outcome === "stale" && !pending.has(entry.position)) hello(); // newer is stored
      return;
    }
    const code = (ack && ack.error) || "malformed";
    if (KEEP_CODES.includes(code)) {
      entry.held = true; // kept in the journal; sent again when the part is answerable
      if (code === "time_up") timeUp();
      else hello();
      return;
    }
    if (code === "seq_conflict") {
      // The number was used for another answer: renumber above everything stored and resend.
      await hello();
      const renumbered = { ...entry, seq: nextSeq++ };
      if (pending.get(entry.position) === entry) {
        pending.set(entry.position, renumbered);
        await journalled(() => journal.put(renumbered));
      }
      return;
    }
    if (code === "expired" || code === "server_error") {
      entry.held = true;
      it.error = ack.message || code;
      setStatus(it, "error");
      setTimeout(() => {
        entry.held = false;
        pump();
      }, 10000);
      return;
    }
    // A refusal for good (a client bug or a bad value): drop it, say so on the item.
    await journalled(() => journal.remove(entry));
    if (newest) pending.delete(entry.position);
    it.error = code === "too_large" ? S.too_large : ack.message || code;
    setStatus(it, "error");
    console.warn("exam: change refused", code, ack && ack.message, entry);
  }

  // ---- the server's state ----------------------------------------------------------------------

  let helloRunning = null;
  let lastHello = 0;
  // The whole state from the server; resolves to its answer, or null when it cannot be reached.
  function hello() {
    // One hello at a time; callers share it.
    if (!helloRunning) {
      helloRunning = call("hello", {})
        .then((answer) => {
          lastHello = Date.now();
          if (answer && answer.ok) applyState(answer);
          return answer;
        })
        .catch(() => null)
        .finally(() => (helloRunning = null));
    }
    return helloRunning;
  }

  function applyState(answer) {
    const p = (answer.parts || []).find((x) => x.part === PART);
    if (p) applyPart(p);
  }

  function applyPart(p) {
    part.state = p.state;
    part.deadline = p.deadline;
    part.remaining = p.remaining_ms;
    part.paused = p.paused;
    part.lastSeq = Math.max(part.lastSeq, p.last_seq || 0);
    nextSeq = Math.max(nextSeq, part.lastSeq + 1);
    if (Array.isArray(p.answers)) applyAnswers(p.answers);
    if (Array.isArray(p.files)) {
      items.forEach((it) => {
        const box = it.el.querySelector(".uploads");
        if (box) showFiles(box, p.files.filter((f) => f.position === it.position));
      });
    }
    if (p.state === "in_progress") {
      if (timeIsUp && p.deadline && p.deadline - serverNow() > 0 && lock && lock.text === S.time_up) {
        // Extended by the invigilator just as time ran out here: answering goes on.
        timeIsUp = false;
        lock.final = false;
        warned.clear();
      }
      if (lock && lock.final) return tick(); // time is up here; the server submits shortly
      if (lock) clearLock();
      let released = false;
      pending.forEach((e) => {
        if (e.held) {
          e.held = false;
          released = true;
        }
      });
      if (released) pump();
    } else if (p.state === "paused") {
      showLock(S.paused, false);
    } else if (FINAL_STATES.includes(p.state)) {
      if (submitting) return;
      if (!timeIsUp || p.state === "voided") {
        showLock(p.state === "voided" ? S.voided : S.submitted, true);
      }
    }
    tick();
  }

  // Saved answers win over what the page shows only when their seq is newer than the journal's.
  function applyAnswers(saved) {
    for (const a of saved) {
      const it = items.get(a.position);
      if (!it) continue;
      const mine = pending.get(a.position);
      if (mine && mine.seq >= a.seq) continue; // our newer change is on its way
      if (mine) {
        // The server already holds something newer than our unacknowledged change.
        pending.delete(a.position);
        journalled(() => journal.remove(mine));
      }
      if (it.debounce) continue; // the candidate is typing: their text is newer
      it.value = a.value;
      it.flagged = Boolean(a.flagged);
      it.savedSeq = Math.max(it.savedSeq, a.seq);
      showValue(it);
      setStatus(it, "saved");
    }
    renderPanel();
  }

  // ---- the question panel, navigation, progress ----------------------------------------------

  function renderPanel() {
    let answered = 0;
    items.forEach((it) => {
      const done = hasAnswer(it);
      if (done) answered += 1;
      const button = $(`qbtn-${it.position}`);
      button.classList.toggle("answered", done);
      button.classList.toggle("flagged", it.flagged);
      button.classList.toggle("current", it.position === current);
      button.querySelector(".qmark").textContent = it.flagged ? "?" : done ? "" : "*";
      const states = [done ? S.answered : S.unanswered];
      if (it.flagged) states.push(S.flagged);
      button.setAttribute("aria-label", `${fmt(S.item_n, { n: it.number })}，${states.join("，")}`);
      if (it.position === current) button.setAttribute("aria-current", "step");
      else button.removeAttribute("aria-current");
    });
    $("answered-count").textContent = String(answered);
  }

  function go(position, focus) {
    if (!items.has(position)) return;
    flushEditors();
    current = position;
    items.forEach((it) => (it.el.hidden = it.position !== position));
    renderPanel();
    history.replaceState(null, "", `#q-${position}`);
    if (focus) $(`qh-${position}`).focus();
    const it = items.get(position);
    if (it.type === "practical" && it.language && !it.editor) mountEditor(it, Boolean(lock));
  }

  // ---- practical answers: the editor and the preview ------------------------------------------

  function mountEditor(it, readOnly) {
    if (!window.ExamEditor) return;
    const mount = it.el.querySelector(".editor-mount");
    if (!mount) return;
    const text = it.editor ? it.editor.getValue() : (it.value && it.value.text) || "";
    if (it.editor && it.editorReadOnly === readOnly) return;
    if (it.editor) it.editor.destroy();
    const textarea = it.el.querySelector("textarea.code");
    if (textarea) textarea.closest("label").hidden = true;
    it.editorReadOnly = readOnly;
    it.editor = window.ExamEditor.create(mount, {
      doc: text,
      language: it.language,
      readOnly,
      label: `${fmt(S.item_n, { n: it.number })} ${it.el.querySelector(".answer h3").textContent}`,
      onChange: () => {
        clearTimeout(it.debounce);
        setStatus(it, online ? "saving" : "stored");
        it.debounce = setTimeout(() => editorChanged(it), EDITOR_DEBOUNCE_MS);
      },
    });
  }

  function editorChanged(it) {
    clearTimeout(it.debounce);
    it.debounce = null;
    if (!it.editor) return;
    const value = readValue(it);
    const before = (it.value && it.value.text) || "";
    if (((value && value.text) || "") === before) {
      if (!pending.has(it.position)) setStatus(it, it.savedSeq ? "saved" : "");
      return;
    }
    change(it, value, it.flagged);
  }

  function flushEditors() {
    items.forEach((it) => it.debounce && editorChanged(it));
  }

  function preview(it) {
    const frame = it.el.querySelector("iframe.preview");
    if (!frame || !it.editor) return;
    flushEditors();
    // sandbox="allow-scripts" only (never allow-same-origin), and a CSP that can only tighten.
    frame.srcdoc =
      `<!doctype html><html><head><meta http-equiv="Content-Security-Policy" content="${PREVIEW_CSP}">` +
      `<meta charset="utf-8"></head><body>${it.editor.getValue()}`;
    frame.hidden = false;
  }

  // ---- submitting -------------------------------------------------------------------------------

  function openSubmit() {
    if (lock) return;
    flushEditors();
    const list = [...items.values()];
    const unanswered = list.filter((it) => !hasAnswer(it));
    const flagged = list.filter((it) => it.flagged);
    $("submit-summary").textContent =
      unanswered.length || flagged.length
        ? fmt(S.confirm, { u: unanswered.length, f: flagged.length })
        : fmt(S.confirm_all, { n: list.length });
    const lists = $("submit-lists");
    lists.textContent = "";
    for (const [title, group] of [[S.unanswered, unanswered], [S.flagged, flagged]]) {
      if (!group.length) continue;
      const p = document.createElement("p");
      p.className = "submit-list";
      p.append(`${title}：`);
      group.forEach((it) => {
        const b = document.createElement("button");
        b.type = "button";
        b.className = "link";
        b.textContent = String(it.number);
        b.setAttribute("aria-label", fmt(S.item_n, { n: it.number }));
        b.addEventListener("click", () => {
          $("submit-dialog").close();
          go(it.position, true);
        });
        p.append(b, " ");
      });
      lists.append(p);
    }
    $("submit-error").textContent = "";
    $("submit-confirm").disabled = false;
    $("submit-dialog").showModal();
  }

  async function drain(ms) {
    const until = Date.now() + ms;
    await journalChain;
    pump();
    while (pending.size && Date.now() < until) {
      await new Promise((r) => setTimeout(r, 200));
      if (!pumping) pump();
    }
    return pending.size;
  }

  async function confirmSubmit() {
    const button = $("submit-confirm");
    const error = $("submit-error");
    button.disabled = true;
    error.textContent = S.submitting;
    flushEditors();
    const left = await drain(8000);
    if (left) {
      error.textContent = fmt(S.unsent, { n: left });
      button.disabled = false;
      return;
    }
    submitting = true;
    let ack;
    try {
      ack = await call("submit", { part: PART });
    } catch (e) {
      submitting = false;
      error.textContent = S.offline;
      button.disabled = false;
      return;
    }
    if (ack && ack.ok) {
      await journalled(() => journal.clear());
      window.location.assign(D.urls.home);
      return;
    }
    submitting = false;
    error.textContent = (ack && ack.message) || "";
    button.disabled = false;
    hello();
  }

  // ---- font size ------------------------------------------------------------------------------

  function setFont(size) {
    document.body.classList.remove("font-small", "font-medium", "font-large");
    document.body.classList.add(`font-${size}`);
    document.querySelectorAll("[data-font]").forEach((b) => b.setAttribute("aria-pressed", String(b.dataset.font === size)));
    try {
      localStorage.setItem("examsvc-font", size);
    } catch (e) {
      /* not kept: fine */
    }
  }

  // ---- uploaded files: straight to the server, never journalled (shown honestly) ----------------

  function wireUploads(it) {
    const box = it.el.querySelector(".uploads");
    if (!box) return;
    const input = box.querySelector("input[type=file]");
    input.addEventListener("change", async () => {
      for (const file of [...input.files]) await uploadFile(box, file);
      input.value = "";
    });
    box.addEventListener("click", (event) => {
      const button = event.target.closest("button[data-delete]");
      if (button) sendFile(box, `${box.dataset.url}/delete`, JSON.stringify({ name: button.dataset.delete }), null);
    });
  }

  async function uploadFile(box, file) {
    const body = new FormData();
    body.append("file", file, file.name);
    await sendFile(box, box.dataset.url, body, file.name);
  }

  async function sendFile(box, url, body, name) {
    const status = box.querySelector(".upload-status");
    if (!online) {
      status.textContent = S.upload_offline;
      return;
    }
    if (name) status.textContent = fmt(S.uploading, { name });
    const headers = { "X-CSRFToken": D.csrf };
    if (typeof body === "string") headers["Content-Type"] = "application/json";
    try {
      const response = await fetch(url, { method: "POST", credentials: "same-origin", headers, body });
      const json = await response.json().catch(() => null);
      if (json && json.ok) {
        showFiles(box, json.files);
        status.textContent = name ? fmt(S.uploaded, { name }) : "";
      } else {
        status.textContent = (json && json.message) || S.expired;
      }
    } catch (e) {
      status.textContent = S.upload_offline;
    }
  }

  function showFiles(box, files) {
    const list = box.querySelector(".file-list");
    list.replaceChildren(
      ...files.map((f) => {
        const li = document.createElement("li");
        const link = document.createElement("a");
        link.href = `${box.dataset.url}/${encodeURIComponent(f.name)}`;
        link.textContent = f.name;
        const size = document.createElement("span");
        size.className = "file-size";
        size.textContent = ` ${(f.size / 1024).toFixed(1)} KB `;
        const remove = document.createElement("button");
        remove.type = "button";
        remove.dataset.delete = f.name;
        remove.textContent = S.delete_file;
        li.append(link, size, remove);
        return li;
      }),
    );
    if (!files.length) {
      const li = document.createElement("li");
      li.className = "hint";
      li.textContent = S.no_files;
      list.append(li);
    }
  }

  // ---- anomalies: best effort, never journalled ----------------------------------------------

  let wasFullscreen = false;
  function anomaly(kind) {
    const report = { kind, at: Math.round(serverNow()) };
    if (socket && socket.connected) {
      socket.timeout(ACK_TIMEOUT_MS).emit("anomaly", report, () => {});
    } else if (online) {
      http("anomaly", report).catch(() => {}); // websockets blocked: the HTTP fallback
    }
  }

  // ---- wiring ---------------------------------------------------------------------------------

  function wire() {
    items.forEach(wireUploads);
    items.forEach((it) => {
      it.el.querySelectorAll("input[type=radio], input[type=checkbox]").forEach((input) =>
        input.addEventListener("change", () => change(it, readValue(it), it.flagged)),
      );
      it.el.querySelector(".flag").addEventListener("click", () => {
        flushEditors();
        change(it, it.value, !it.flagged);
        showValue(it);
      });
      it.el.querySelectorAll("[data-step]").forEach((b) =>
        b.addEventListener("click", () => {
          const index = order.indexOf(it.position) + Number(b.dataset.step);
          if (index >= 0 && index < order.length) go(order[index], true);
        }),
      );
      const run = it.el.querySelector(".preview-run");
      if (run) run.addEventListener("click", () => preview(it));
      it.el.querySelectorAll(".pane-max").forEach((b) =>
        b.addEventListener("click", () => {
          const pane = b.closest(".pane");
          const on = !pane.classList.contains("maximised");
          it.el.querySelectorAll(".pane").forEach((x) => {
            x.classList.remove("maximised");
            x.querySelector(".pane-max").setAttribute("aria-pressed", "false");
          });
          pane.classList.toggle("maximised", on);
          b.setAttribute("aria-pressed", String(on));
          it.el.querySelector(".practical").classList.toggle("one-pane", on);
        }),
      );
      // Leaving the editor saves at once instead of after the pause.
      const mount = it.el.querySelector(".editor-mount");
      if (mount) mount.addEventListener("focusout", () => it.debounce && editorChanged(it));
    });
    document.querySelectorAll("[data-goto]").forEach((b) =>
      b.addEventListener("click", () => go(Number(b.dataset.goto), true)),
    );
    document.querySelectorAll("[data-font]").forEach((b) =>
      b.addEventListener("click", () => setFont(b.dataset.font)),
    );
    $("qpanel-toggle").addEventListener("click", (ev) => {
      const open = ev.currentTarget.getAttribute("aria-expanded") !== "true";
      ev.currentTarget.setAttribute("aria-expanded", String(open));
      $("qpanel-list").hidden = !open;
      $("qpanel").classList.toggle("collapsed", !open);
    });
    $("submit-button").addEventListener("click", openSubmit);
    $("submit-cancel").addEventListener("click", () => $("submit-dialog").close());
    $("submit-confirm").addEventListener("click", confirmSubmit);
    window.addEventListener("offline", () => {
      // Honest at once: no network means nothing reaches the server, whatever the socket thinks.
      setOnline(false);
      if (socket && socket.connected) socket.disconnect();
    });
    window.addEventListener("online", () => {
      if (socket && !socket.connected) socket.connect();
      probeSoon(0);
    });
    // What the invigilator should know about; nothing is blocked, only reported.
    document.addEventListener("copy", () => anomaly("copy"));
    document.addEventListener("paste", () => anomaly("paste"));
    document.addEventListener("fullscreenchange", () => {
      if (!document.fullscreenElement && wasFullscreen) anomaly("fullscreen_exit");
      wasFullscreen = Boolean(document.fullscreenElement);
    });
    document.addEventListener("visibilitychange", () => {
      if (document.hidden) {
        flushEditors();
        anomaly("focus_lost");
      } else {
        anomaly("focus_back");
      }
    });
  }

  let probeTimer = null;
  function probeSoon(ms = 1500) {
    clearTimeout(probeTimer);
    probeTimer = setTimeout(async () => {
      if (socket && socket.connected) return;
      if ((await hello()) === null) scheduleRetry();
      else pump();
    }, ms);
  }

  async function start() {
    let size = "medium";
    try {
      size = localStorage.getItem("examsvc-font") || "medium";
    } catch (e) {
      /* default */
    }
    setFont(["small", "medium", "large"].includes(size) ? size : "medium");
    // What the server had when the page was made, then the journal where it is newer.
    applyAnswers(D.initial.answers || []);
    await journal.open();
    let stored = [];
    try {
      stored = await journal.all();
    } catch (e) {
      stored = [];
    }
    for (const entry of stored) {
      const it = items.get(entry.position);
      if (!it) continue;
      nextSeq = Math.max(nextSeq, entry.seq + 1);
      if (entry.seq <= it.savedSeq) {
        // Stored already or overtaken: replaying it is harmless (duplicate or stale).
        pending.set(entry.position, entry);
        continue;
      }
      pending.set(entry.position, entry);
      it.value = entry.value;
      it.flagged = Boolean(entry.flagged);
      showValue(it);
      setStatus(it, "stored");
    }
    items.forEach((it) => showValue(it));
    wire();
    const hash = /^#q-(\d+)$/.exec(window.location.hash);
    go(hash && items.has(Number(hash[1])) ? Number(hash[1]) : order[0], false);
    applyPart({ ...D.initial, answers: [] });
    setInterval(tick, 250);
    setInterval(() => {
      // Without a socket nobody pushes pauses, resumptions and extensions: ask for them, more
      // often while the part is paused.
      if (socket && socket.connected) return;
      const due = part.state === "paused" ? PAUSED_POLL_MS : HTTP_POLL_MS;
      if (Date.now() - lastHello >= due) hello();
    }, PAUSED_POLL_MS);
    setInterval(() => measureClock(1), 60000);
    connectSocket();
    // Without a socket after a moment, talk HTTP (same requests, same answers).
    probeSoon(2000);
    if (pending.size) pump();
  }

  window.examClient = {
    transport,
    // The Engine.IO transport under the socket: "websocket", or "polling" where that is blocked.
    engine: () => (socket && socket.connected ? socket.io.engine.transport.name : null),
    pending: () => pending.size,
    journal: () => journal.kind,
    offset: () => ({ ...offset }),
  };

  start();
})();
