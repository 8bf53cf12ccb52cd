// The invigilators' live board: the client of the /invigilation namespace (docs/invigilation.md).
//
// Plain ES2020, no build step, no CDN: it uses window.io (socket.io-client from static/vendor).
//
// - `watch` returns the whole board; it is sent again on every (re)connect, so a reloaded page or
//   a restarted server shows the whole state again, and every 20 s while connected, so what no
//   push announces (a socket that fell silent, a sign-in on another PC) shows up anyway.
// - Pushes `seat`, `progress`, `anomaly` and `action` change one seat or the log in place.
// - Times left and "offline N s" are computed here every second from the server's deadlines
//   and the server clock offset (from `server_time`), never counted locally.
// - Actions go through one dialog that needs a reason; the server checks everything again and
//   the acknowledgement says whom the action reached and whom it did not, and why.
(() => {
  "use strict";

  const ACK_TIMEOUT_MS = 10000;
  const REFRESH_MS = 20000;
  const LOG_LIMIT = 300;
  const FEED_LIMIT = 100;
  const FINAL = ["submitted", "auto_submitted", "voided"];
  const ACTIVE = ["waiting", "in_progress", "paused"];
  const ICONS = {
    registered: "–",
    checked_in: "–",
    waiting: "…",
    in_progress: "▶",
    paused: "‖",
    submitted: "✓",
    auto_submitted: "✓",
    voided: "✕",
  };

  const D = JSON.parse(document.getElementById("board-data").textContent);
  const S = D.strings;
  const A = D.alerts;
  const ROOM = D.room;
  const CAN_ACT = D.access === "act";
  const $ = (id) => document.getElementById(id);
  const fmt = (text, values) => text.replace(/\{(\w+)\}/g, (m, k) => (k in values ? values[k] : m));
  const partName = (part) => (D.parts.find((p) => p.part === part) || { name: part }).name;

  function el(tag, cls, text) {
    const node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  // ---- state ---------------------------------------------------------------------------------

  const seats = new Map(); // registration id -> Seat (docs/invigilation.md)
  const views = new Map(); // registration id -> {tile, row, parts: {part -> cells}, ...}
  let control = { start_code: null, needs_authorization: false, authorized: {} };
  let log = [];
  const feed = [];
  let offset = 0; // server clock - local clock, ms
  let focusPart = D.parts.length ? D.parts[0].part : null;
  let focusChosen = false; // the invigilator picked a part: keep it
  let filter = { state: "", offline: false, anomalies: false };
  let sort = "seat";
  let view = "grid";
  const selected = new Set();
  let lastClicked = null;
  let loaded = false;
  const serverNow = () => Date.now() + offset;

  // ---- time ------------------------------------------------------------------------------------

  function clock(ms) {
    const total = Math.max(0, Math.ceil(ms / 1000));
    const h = Math.floor(total / 3600);
    const m = Math.floor((total % 3600) / 60);
    const s = total % 60;
    const two = (x) => String(x).padStart(2, "0");
    return h ? `${h}:${two(m)}:${two(s)}` : `${two(m)}:${two(s)}`;
  }

  // Wall-clock time at the site (UTC+8), whatever the laptop's time zone.
  function siteTime(ms, withSeconds = true) {
    const d = new Date(ms + D.utc_offset_minutes * 60000);
    const two = (x) => String(x).padStart(2, "0");
    const hm = `${two(d.getUTCHours())}:${two(d.getUTCMinutes())}`;
    return withSeconds ? `${hm}:${two(d.getUTCSeconds())}` : hm;
  }

  function remaining(p) {
    if (!p) return null;
    if (p.state === "in_progress" && p.deadline) return p.deadline - serverNow();
    if (p.state === "paused") return p.remaining_ms;
    return null;
  }

  const partOf = (seat, part) => seat.parts.find((p) => p.part === part) || seat.parts[0] || null;
  const offlineSeconds = (seat) =>
    seat.presence === "offline" && seat.presence_since
      ? Math.max(0, Math.floor((serverNow() - seat.presence_since) / 1000))
      : 0;
  const sitting = (seat) => seat.parts.some((p) => ACTIVE.includes(p.state));

  // ---- classification: tabs, filters, alerts ---------------------------------------------------

  function stateKey(seat) {
    const p = partOf(seat, focusPart);
    const state = p ? p.state : "registered";
    if (state === "registered" || state === "checked_in") return "absent";
    if (state === "auto_submitted") return "submitted";
    return state;
  }

  function matches(seat) {
    if (filter.state && stateKey(seat) !== filter.state) return false;
    if (filter.offline && seat.presence !== "offline") return false;
    if (filter.anomalies && !(seat.anomalies && seat.anomalies.count)) return false;
    return true;
  }

  function alertsOf(seat) {
    const out = [];
    if (seat.pending_switch) {
      out.push({ kind: "switch", text: fmt(S.alert_switch, { ip: seat.pending_switch.ip || "?" }) });
    }
    const off = offlineSeconds(seat);
    if (seat.presence === "offline" && sitting(seat) && off > A.offline_seconds) {
      out.push({ kind: "offline", text: fmt(S.alert_offline, { n: off }) });
    }
    const count = (seat.anomalies && seat.anomalies.count) || 0;
    if (count >= A.anomalies) {
      const latest = seat.anomalies.latest ? seat.anomalies.latest.text : "";
      out.push({ kind: "anomalies", text: fmt(S.alert_anomalies, { n: count, text: latest }) });
    }
    for (const p of seat.parts) {
      const ms = remaining(p);
      if (p.state === "in_progress" && ms !== null && ms > 0 && ms < A.minutes_left * 60000) {
        out.push({ kind: "time", text: fmt(S.alert_time, { part: partName(p.part), t: clock(ms) }) });
      }
    }
    return out;
  }

  // ---- the seat map and the list ---------------------------------------------------------------

  const grid = $("grid");
  const listBody = $("list-body");
  const position = (seat) => ({
    row: Math.floor((seat - 1) / ROOM.columns) + 1,
    column: ((seat - 1) % ROOM.columns) + 1,
  });

  // Free, spare and blocked seats: drawn once, shown only in the seat-ordered map.
  function drawEmptySeats() {
    grid.querySelectorAll(".tile.empty").forEach((t) => t.remove());
    const taken = new Set([...seats.values()].map((s) => s.seat));
    const spare = new Set(ROOM.spare);
    const blocked = new Set(ROOM.blocked);
    for (let n = 1; n <= ROOM.rows * ROOM.columns; n++) {
      if (taken.has(n)) continue;
      const kind = blocked.has(n) ? "blocked" : spare.has(n) ? "spare" : "free";
      const tile = el("div", `tile empty ${kind}`);
      tile.append(el("span", "t-seat", ROOM.labels[n] || n));
      if (kind !== "free") tile.append(el("span", null, S[`seat_${kind}`]));
      tile.setAttribute("aria-hidden", "true");
      const { row, column } = position(n);
      tile.style.gridRow = String(row);
      tile.style.gridColumn = String(column);
      tile.dataset.seat = String(n);
      grid.append(tile);
    }
  }

  function makeView(id) {
    const tile = el("button", "tile");
    tile.type = "button";
    tile.dataset.id = String(id);
    tile.setAttribute("aria-pressed", "false");
    const top = el("span", "t-top");
    const seatLabel = el("span", "t-seat");
    const pres = el("span", "t-pres");
    top.append(seatLabel, pres);
    const mid = el("span", "t-mid");
    const name = el("span", "t-name");
    const ticket = el("span", "t-ticket");
    mid.append(name, ticket);
    const bottom = el("span", "t-bot");
    const state = el("span", "t-state");
    const time = el("span", "t-time");
    bottom.append(state, time);
    const badges = el("span", "badges");
    const bAnom = el("span", "badge b-anom");
    const bWarn = el("span", "badge b-warn");
    const bSwitch = el("span", "badge b-switch", "⇄");
    badges.append(bSwitch, bWarn, bAnom);
    tile.append(top, mid, bottom, badges);
    tile.addEventListener("click", (ev) => onSeatClick(id, ev));
    grid.append(tile);

    const row = el("tr");
    row.dataset.id = String(id);
    row.setAttribute("aria-selected", "false");
    let check = null;
    if (CAN_ACT) {
      const cell = el("td");
      check = el("input");
      check.type = "checkbox";
      check.addEventListener("change", () => toggle(id, check.checked));
      cell.append(check);
      row.append(cell);
    }
    const cSeat = el("td");
    const cName = el("td");
    const cTicket = el("td");
    row.append(cSeat, cName, cTicket);
    const parts = {};
    for (const p of D.parts) {
      const cell = el("td");
      parts[p.part] = cell;
      row.append(cell);
    }
    const cPres = el("td");
    const cAnom = el("td");
    const cWarn = el("td");
    row.append(cPres, cAnom, cWarn);
    row.addEventListener("click", (ev) => {
      if (ev.target === check) return;
      onSeatClick(id, ev);
    });
    if (!CAN_ACT) {
      // Watching only: no checkbox, so the row itself takes the focus and Enter.
      row.tabIndex = 0;
      row.addEventListener("keydown", (ev) => ev.key === "Enter" && onSeatClick(id, ev));
    }
    listBody.append(row);
    const v = { tile, seatLabel, pres, name, ticket, state, time, bAnom, bWarn, bSwitch, row, check, cSeat, cName, cTicket, parts, cPres, cAnom, cWarn };
    views.set(id, v);
    return v;
  }

  function presenceText(seat, short) {
    if (seat.presence === "online") return `● ${S.present}`;
    if (seat.presence === "offline") return fmt(short ? S.offline_short : S.offline_for, { n: offlineSeconds(seat) });
    return `○ ${S.never}`;
  }

  function partSummary(p) {
    if (!p) return "";
    const ms = remaining(p);
    const bits = [`${ICONS[p.state] || ""} ${p.state_name}`, `${p.answered}/${p.total}`];
    if (ms !== null) bits.push(fmt(S.left, { t: clock(ms) }));
    if (p.extended_minutes) bits.push(fmt(S.extended, { n: p.extended_minutes }));
    return bits.join(" · ");
  }

  // Everything of one seat that does not tick.
  function paint(id) {
    const seat = seats.get(id);
    const v = views.get(id) || makeView(id);
    const p = partOf(seat, focusPart);
    const tail = (seat.ticket_number || "").slice(-4);
    v.seatLabel.textContent = seat.seat_label || "";
    v.name.textContent = seat.name;
    v.ticket.textContent = tail;
    v.ticket.title = seat.ticket_number || "";
    const tile = v.tile;
    tile.className = "tile";
    tile.classList.add(`st-${p ? p.state : "registered"}`, `pres-${seat.presence}`);
    if (seat.seat) {
      const { row, column } = position(seat.seat);
      tile.dataset.row = String(row);
      tile.dataset.column = String(column);
    }
    const count = (seat.anomalies && seat.anomalies.count) || 0;
    v.bAnom.hidden = !count;
    v.bAnom.textContent = `⚠${count}`;
    v.bAnom.title = count ? fmt(S.anomalies_n, { n: count }) + (seat.anomalies.latest ? `：${seat.anomalies.latest.text}` : "") : "";
    v.bWarn.hidden = !seat.warnings;
    v.bWarn.textContent = `!${seat.warnings || 0}`;
    v.bWarn.title = fmt(S.warnings_n, { n: seat.warnings || 0 });
    v.bSwitch.hidden = !seat.pending_switch;
    v.bSwitch.title = S.switch_pending;
    tile.title = [
      `${seat.seat_label} ${seat.name} ${seat.ticket_number}`,
      ...seat.parts.map((x) => `${partName(x.part)}：${partSummary(x)}`),
      count ? fmt(S.anomalies_n, { n: count }) + (seat.anomalies.latest ? `：${seat.anomalies.latest.text}` : "") : "",
      seat.pending_switch ? S.switch_pending : "",
    ]
      .filter(Boolean)
      .join("\n");
    v.cSeat.textContent = seat.seat_label || "";
    v.cName.textContent = seat.name;
    v.cTicket.textContent = seat.ticket_number || "";
    v.cAnom.textContent = count ? `${count}${seat.anomalies.latest ? " · " + seat.anomalies.latest.text : ""}` : "0";
    v.cWarn.textContent = String(seat.warnings || 0);
    showSelected(id);
    tickSeat(id);
  }

  // What changes every second: times left, offline seconds, alerts.
  function tickSeat(id) {
    const seat = seats.get(id);
    const v = views.get(id);
    if (!seat || !v) return [];
    const p = partOf(seat, focusPart);
    const ms = remaining(p);
    if (p && (p.state === "in_progress" || p.state === "paused")) {
      v.state.textContent = `${ICONS[p.state]} ${p.answered}/${p.total}`;
      v.time.textContent = clock(ms);
    } else if (p) {
      v.state.textContent = `${ICONS[p.state] || ""} ${p.state_name}`;
      v.time.textContent = p.total && FINAL.includes(p.state) ? `${p.answered}/${p.total}` : "";
    }
    v.pres.textContent = seat.presence === "online" ? "●" : seat.presence === "offline" ? fmt(S.offline_short, { n: offlineSeconds(seat) }) : "○";
    v.pres.title = presenceText(seat, false);
    v.cPres.textContent = presenceText(seat, false);
    v.cPres.className = `pres-${seat.presence}`;
    for (const part of D.parts) {
      const x = seat.parts.find((y) => y.part === part.part);
      v.parts[part.part].textContent = partSummary(x);
    }
    const alerts = alertsOf(seat);
    v.tile.classList.toggle("has-alert", alerts.length > 0);
    v.row.classList.toggle("has-alert", alerts.length > 0);
    return alerts;
  }

  // ---- order, filters, layout ------------------------------------------------------------------

  function ordered() {
    const list = [...seats.values()];
    const bySeat = (a, b) => (a.seat || 0) - (b.seat || 0);
    if (sort === "name") list.sort((a, b) => a.name.localeCompare(b.name, "zh-CN") || bySeat(a, b));
    else if (sort === "remaining") {
      const key = (s) => {
        const ms = remaining(partOf(s, focusPart));
        return ms === null ? Number.POSITIVE_INFINITY : ms;
      };
      list.sort((a, b) => key(a) - key(b) || bySeat(a, b));
    } else if (sort === "anomalies") {
      list.sort((a, b) => (b.anomalies.count || 0) - (a.anomalies.count || 0) || bySeat(a, b));
    } else list.sort(bySeat);
    return list;
  }

  let listOrder = "";
  function layout() {
    const bySeat = sort === "seat";
    grid.classList.toggle("sorted", !bySeat);
    $("front").hidden = !bySeat || view !== "grid";
    grid.hidden = view !== "grid";
    $("list").hidden = view !== "list";
    const list = ordered();
    let shown = 0;
    list.forEach((seat, index) => {
      const v = views.get(seat.registration_id);
      if (!v) return;
      const match = matches(seat);
      if (match) shown += 1;
      if (bySeat && seat.seat) {
        const { row, column } = position(seat.seat);
        v.tile.style.gridRow = String(row);
        v.tile.style.gridColumn = String(column);
        v.tile.style.order = "";
        v.tile.hidden = false;
        v.tile.classList.toggle("dim", !match);
      } else {
        v.tile.style.gridRow = "";
        v.tile.style.gridColumn = "";
        v.tile.style.order = String(index);
        v.tile.hidden = !match;
        v.tile.classList.remove("dim");
      }
      v.row.hidden = !match;
    });
    // Rows move only when the order changed: moving the focused row would lose the focus.
    const key = list.map((s) => s.registration_id).join(",");
    if (key !== listOrder) {
      listOrder = key;
      list.forEach((seat) => {
        const v = views.get(seat.registration_id);
        if (v) listBody.append(v.row);
      });
    }
    $("board-empty").hidden = shown > 0 || !loaded;
    counts();
  }

  function counts() {
    const all = [...seats.values()];
    const by = (key) => all.filter((s) => stateKey(s) === key).length;
    const set = (name, n) => document.querySelectorAll(`[data-count="${name}"]`).forEach((c) => (c.textContent = String(n)));
    set("all", all.length);
    for (const key of ["absent", "waiting", "in_progress", "paused", "submitted", "voided"]) set(key, by(key));
    set("offline", all.filter((s) => s.presence === "offline").length);
    set("anomalous", all.filter((s) => s.anomalies && s.anomalies.count).length);
  }

  // ---- alerts ----------------------------------------------------------------------------------

  let alertKey = null;
  function renderAlerts(found) {
    const box = $("alerts");
    const list = $("alert-list");
    const key = found.map((a) => `${a.id}:${a.kind}`).join(",");
    box.classList.toggle("quiet", found.length === 0);
    if (key === alertKey) {
      // Same alerts: only their texts change (seconds offline, time left).
      list.querySelectorAll("li[data-id]").forEach((li, i) => {
        const a = found[i];
        if (a) li.querySelector("button").textContent = `${a.label} ${a.text}`;
      });
      return;
    }
    // Screen readers hear the alerts that are new, not every second's new count.
    const before = new Set((alertKey || "").split(","));
    const news = found.filter((a) => !before.has(`${a.id}:${a.kind}`));
    if (alertKey !== null && news.length) {
      $("alert-news").textContent = news.map((a) => `${a.label} ${a.text}`).join("；");
    }
    alertKey = key;
    const focused = document.activeElement && document.activeElement.closest("#alert-list li");
    const focusedKey = focused ? `${focused.dataset.id}:${focused.dataset.kind}` : null;
    list.textContent = "";
    if (!found.length) {
      list.append(el("li", "none", S.no_alerts));
      return;
    }
    for (const a of found) {
      const li = el("li", `kind-${a.kind}`);
      li.dataset.id = String(a.id);
      li.dataset.kind = a.kind;
      const b = el("button", null, `${a.label} ${a.text}`);
      b.type = "button";
      b.addEventListener("click", () => {
        if (CAN_ACT) {
          selectNone();
          toggle(a.id, true);
        }
        focusSeat(a.id);
      });
      li.append(b);
      list.append(li);
      if (`${a.id}:${a.kind}` === focusedKey) b.focus();
    }
  }

  function tick() {
    if (!loaded) return;
    $("server-clock").textContent = siteTime(serverNow());
    const found = [];
    const order = [...seats.values()].sort((a, b) => (a.seat || 0) - (b.seat || 0));
    for (const seat of order) {
      for (const a of tickSeat(seat.registration_id)) {
        found.push({ ...a, id: seat.registration_id, label: `${seat.seat_label} ${seat.name}` });
      }
    }
    const rank = { switch: 0, offline: 1, time: 2, anomalies: 3 };
    found.sort((a, b) => rank[a.kind] - rank[b.kind]);
    renderAlerts(found);
    if (sort === "remaining") layout();
    if (selected.size === 1) details();
  }

  // ---- selection and keyboard ------------------------------------------------------------------

  function showSelected(id) {
    const v = views.get(id);
    if (!v) return;
    const on = selected.has(id);
    v.tile.setAttribute("aria-pressed", String(on));
    v.row.setAttribute("aria-selected", String(on));
    if (v.check) v.check.checked = on;
  }

  function toggle(id, on) {
    if (!CAN_ACT) return;
    if (on) selected.add(id);
    else selected.delete(id);
    showSelected(id);
    selectionChanged();
  }

  function visibleIds() {
    return ordered()
      .filter(matches)
      .map((s) => s.registration_id);
  }

  function onSeatClick(id, ev) {
    if (!CAN_ACT) {
      // Watching only: a click shows the candidate's details.
      selected.clear();
      selected.add(id);
      views.forEach((_, key) => showSelected(key));
      details();
      return;
    }
    if (ev.shiftKey && lastClicked !== null) {
      const ids = visibleIds();
      const a = ids.indexOf(lastClicked);
      const b = ids.indexOf(id);
      if (a >= 0 && b >= 0) {
        ids.slice(Math.min(a, b), Math.max(a, b) + 1).forEach((x) => selected.add(x));
        views.forEach((_, key) => showSelected(key));
        selectionChanged();
        return;
      }
    }
    lastClicked = id;
    toggle(id, !selected.has(id));
  }

  function selectAll() {
    visibleIds().forEach((id) => selected.add(id));
    views.forEach((_, key) => showSelected(key));
    selectionChanged();
  }

  function selectNone() {
    selected.clear();
    views.forEach((_, key) => showSelected(key));
    selectionChanged();
  }

  function focusSeat(id) {
    const v = views.get(id);
    if (!v) return;
    const target = view === "grid" ? v.tile : v.check || v.row;
    target.scrollIntoView({ block: "nearest", inline: "nearest" });
    if (target.focus) target.focus();
  }

  // Arrow keys move between seats as they are laid out: by row and column in the seat map,
  // along the shown order otherwise.
  function onGridKey(ev) {
    const tile = ev.target.closest && ev.target.closest(".tile[data-id]");
    if (!tile) return;
    const id = Number(tile.dataset.id);
    const moves = { ArrowLeft: [0, -1], ArrowRight: [0, 1], ArrowUp: [-1, 0], ArrowDown: [1, 0] };
    if (ev.key in moves) {
      ev.preventDefault();
      const [dr, dc] = moves[ev.key];
      let next = null;
      if (sort === "seat") {
        const at = new Map();
        seats.forEach((s) => s.seat && at.set(s.seat, s.registration_id));
        let { row, column } = position(seats.get(id).seat);
        for (;;) {
          row += dr;
          column += dc;
          if (row < 1 || row > ROOM.rows || column < 1 || column > ROOM.columns) break;
          const found = at.get((row - 1) * ROOM.columns + column);
          if (found !== undefined) {
            next = found;
            break;
          }
        }
      } else {
        const ids = visibleIds();
        const columns = getComputedStyle(grid).gridTemplateColumns.split(" ").length || 1;
        const index = ids.indexOf(id) + dc + dr * columns;
        if (index >= 0 && index < ids.length) next = ids[index];
      }
      if (next !== null) focusSeat(next);
    } else if (ev.key === "Home" || ev.key === "End") {
      ev.preventDefault();
      const ids = visibleIds();
      if (ids.length) focusSeat(ev.key === "Home" ? ids[0] : ids[ids.length - 1]);
    }
  }

  function onKey(ev) {
    const dialog = $("act-dialog");
    if (dialog && dialog.open) return;
    const inField = ev.target.closest && ev.target.closest("input, select, textarea");
    if (ev.key === "Escape" && selected.size && CAN_ACT) {
      selectNone();
    } else if ((ev.ctrlKey || ev.metaKey) && ev.key.toLowerCase() === "a" && !inField && CAN_ACT) {
      ev.preventDefault();
      selectAll();
    }
  }

  function selectionChanged() {
    const chosen = [...selected].map((id) => seats.get(id)).filter(Boolean);
    const box = $("selection");
    if (box) {
      box.textContent = chosen.length
        ? fmt(S.selected_n, { n: chosen.length, names: chosen.map((s) => s.name).join("、") })
        : S.selected_none;
    }
    document.querySelectorAll("[data-action]").forEach((b) => {
      const spec = D.actions[b.dataset.action];
      let ok = true;
      let why = "";
      if (b.dataset.action === "approve_switch" || b.dataset.action === "refuse_switch") {
        ok = chosen.length === 1 && Boolean(chosen[0].pending_switch);
        why = S.need_one_switch;
      } else if (!spec.scopes.includes("room")) {
        ok = chosen.length > 0;
        why = S.need_selection;
      }
      b.disabled = !ok;
      b.title = ok ? "" : why;
    });
    details();
  }

  // ---- details of one candidate ----------------------------------------------------------------

  function details() {
    const box = $("details");
    const only = selected.size === 1 ? seats.get([...selected][0]) : null;
    box.hidden = !only;
    const switchBox = $("switch-actions");
    if (!only) {
      if (switchBox) switchBox.hidden = true;
      return;
    }
    $("details-title").textContent = `${only.seat_label} ${only.name}`;
    const dl = $("details-body");
    dl.textContent = "";
    const add = (term, value) => {
      dl.append(el("dt", null, term), el("dd", null, value));
    };
    add(S.ticket, only.ticket_number);
    add(S.presence, presenceText(only, false));
    if (only.ip) add(S.ip, only.ip);
    for (const p of only.parts) add(partName(p.part), partSummary(p));
    add(S.anomalies, only.anomalies.count ? `${only.anomalies.count}${only.anomalies.latest ? ` · ${siteTime(only.anomalies.latest.at)} ${only.anomalies.latest.text}` : ""}` : "0");
    add(S.warnings, String(only.warnings || 0));
    if (only.pending_switch) {
      add(S.switch_pending, fmt(S.switch_from, { ip: only.pending_switch.ip || "?", at: siteTime(only.pending_switch.at) }));
    }
    if (switchBox) switchBox.hidden = !only.pending_switch;
  }

  // ---- log and anomaly feed ----------------------------------------------------------------------

  function whoOf(ids) {
    return ids
      .map((id) => seats.get(id))
      .filter(Boolean)
      .map((s) => s.name)
      .join("、");
  }

  function logItem(entry) {
    const li = el("li");
    li.dataset.id = String(entry.id);
    li.append(el("time", null, siteTime(entry.at)));
    const bits = [entry.name];
    if (entry.part) bits.push(partName(entry.part));
    if (entry.data && entry.data.minutes) bits.push(fmt(S.extended, { n: entry.data.minutes }));
    li.append(el("span", "what", bits.join(" ")));
    const target = entry.scope === "room" ? S.room_scope : whoOf(entry.applied || []);
    li.append(" ", el("span", "who", `${target} · ${fmt(S.by, { who: entry.actor })}`));
    if (entry.data && entry.data.message) li.append(el("span", "why", `「${entry.data.message}」`));
    li.append(el("span", "why", `${S.reason}：${entry.reason}`));
    if (entry.skipped && entry.skipped.length) {
      const text = grouped(entry.skipped, (id) => whoOf([id]) || String(id)).join("；");
      li.append(el("span", "skipped", `${fmt(S.not_reached, { n: entry.skipped.length })} ${text}`));
    }
    return li;
  }

  // Skipped candidates by reason: "未签到的考试不能暂停（王子涵、李浩然 等 14 人）".
  function grouped(skipped, name, most = 4) {
    const by = new Map();
    for (const x of skipped) {
      if (!by.has(x.message)) by.set(x.message, []);
      by.get(x.message).push(name(x.registration_id));
    }
    return [...by].map(([message, names]) => {
      const shown = names.slice(0, most).join("、");
      return `${message}（${names.length > most ? fmt(S.and_more, { names: shown, n: names.length }) : shown}）`;
    });
  }

  function renderLog() {
    const box = $("log");
    box.textContent = "";
    if (!log.length) box.append(el("li", "empty", S.log_empty));
    log
      .slice(-LOG_LIMIT)
      .reverse()
      .forEach((entry) => box.append(logItem(entry)));
  }

  function renderFeed() {
    const box = $("feed");
    box.textContent = "";
    if (!feed.length) box.append(el("li", "empty", S.anomalies_empty));
    feed.forEach((a) => {
      const li = el("li");
      li.append(el("time", null, siteTime(a.at)));
      const seat = seats.get(a.registration_id);
      li.append(el("span", "what", `${seat ? seat.seat_label : ""} ${a.name}`), " ", el("span", null, a.text));
      if (a.detail) li.append(el("span", "why", a.detail));
      box.append(li);
    });
  }

  // ---- control: start code, authorization --------------------------------------------------------

  function renderControl() {
    $("start-code").hidden = !control.start_code;
    $("start-code-value").textContent = control.start_code || "";
    $("hold").hidden = !control.needs_authorization;
    const authorized = Object.entries(control.authorized || {});
    $("hold").title = authorized.map(([p, at]) => `${partName(p)} ${fmt(S.authorized, { at: at.slice(11, 16) })}`).join("\n");
  }

  // ---- the server -----------------------------------------------------------------------------

  function setConn(stateName, text, link) {
    const box = $("conn");
    box.dataset.state = stateName;
    box.textContent = text;
    if (link) {
      const a = el("a", null, S.sign_in);
      a.href = D.urls.login;
      box.append(" ", a);
    }
  }

  function chooseFocus() {
    if (focusChosen) return;
    const all = [...seats.values()];
    const running = D.parts.find((p) =>
      all.some((s) => s.parts.some((x) => x.part === p.part && (x.state === "in_progress" || x.state === "paused"))),
    );
    const open = D.parts.find((p) => all.some((s) => s.parts.some((x) => x.part === p.part && !FINAL.includes(x.state))));
    focusPart = (running || open || D.parts[0] || { part: null }).part;
  }

  function showFocus() {
    document.querySelectorAll(".part-tab").forEach((b) => b.setAttribute("aria-pressed", String(b.dataset.part === focusPart)));
  }

  function load(ack, sent, received) {
    const board = ack.board;
    offset = board.server_time - (sent + received) / 2;
    control = board.control || control;
    const ids = new Set();
    for (const seat of board.seats) {
      ids.add(seat.registration_id);
      seats.set(seat.registration_id, seat);
    }
    for (const id of [...seats.keys()]) {
      if (ids.has(id)) continue;
      // moved to another room since
      seats.delete(id);
      selected.delete(id);
      const v = views.get(id);
      if (v) {
        v.tile.remove();
        v.row.remove();
        views.delete(id);
      }
    }
    log = ack.log || [];
    loaded = true;
    chooseFocus();
    showFocus();
    drawEmptySeats();
    seats.forEach((_, id) => paint(id));
    renderControl();
    renderLog();
    renderFeed();
    layout();
    selectionChanged();
    tick();
  }

  let socket = null;
  let watching = null;
  function watch() {
    if (watching || !socket || !socket.connected) return watching;
    const sent = Date.now();
    watching = socket
      .timeout(ACK_TIMEOUT_MS)
      .emitWithAck("watch", { plan_id: D.plan_id, room_id: D.room_id })
      .then((ack) => {
        if (ack && ack.ok) {
          load(ack, sent, Date.now());
          setConn("online", S.online);
        } else {
          setConn("refused", `${S.refused}：${(ack && ack.message) || ""}`);
        }
      })
      .catch(() => setConn("offline", S.offline))
      .finally(() => (watching = null));
    return watching;
  }

  function connect() {
    if (typeof window.io !== "function") {
      setConn("offline", S.offline);
      return;
    }
    socket = window.io("/invigilation", {
      transports: ["websocket", "polling"],
      tryAllTransports: true,
      reconnection: true,
      reconnectionDelay: 1000,
      reconnectionDelayMax: 5000,
      timeout: 5000,
    });
    socket.on("connect", () => {
      setConn("connecting", S.connecting);
      watch();
    });
    socket.on("disconnect", () => setConn("offline", S.offline));
    socket.on("connect_error", (err) => {
      const data = (err && err.data) || {};
      if (data.error === "unauthenticated") {
        setConn("refused", S.unauthenticated, true);
        return;
      }
      setConn("offline", S.offline);
      // A refused namespace is not retried by the client itself; a broken network is.
      if (!socket.active) setTimeout(() => socket.connect(), 5000);
    });
    socket.on("seat", (seat) => {
      if (!loaded || !seat || typeof seat.registration_id !== "number") return;
      const isNew = !seats.has(seat.registration_id);
      seats.set(seat.registration_id, seat);
      if (isNew) drawEmptySeats();
      paint(seat.registration_id);
      layout();
      selectionChanged();
      tick();
    });
    socket.on("progress", (p) => {
      const seat = p && seats.get(p.registration_id);
      if (!seat) return;
      const part = seat.parts.find((x) => x.part === p.part);
      if (part) part.answered = p.answered;
      paint(seat.registration_id);
    });
    socket.on("anomaly", (a) => {
      if (!a || a.room_id !== D.room_id) return;
      const seat = seats.get(a.registration_id);
      if (seat && a.kind !== "focus_back") {
        seat.anomalies = { count: (seat.anomalies.count || 0) + 1, latest: { kind: a.kind, text: a.text, at: a.at } };
        paint(a.registration_id);
        layout();
        tick();
      }
      if (a.kind === "focus_back") return; // the end of a lost focus, not news by itself
      feed.unshift(a);
      feed.length = Math.min(feed.length, FEED_LIMIT);
      renderFeed();
    });
    socket.on("action", (entry) => {
      if (!entry || log.some((e) => e.id === entry.id)) return;
      log.push(entry);
      renderLog();
      if (entry.action === "start_code") {
        control.start_code = (entry.data && entry.data.start_code) || null;
        renderControl();
      } else if (entry.action === "require_authorization" || entry.action === "authorize") {
        watch(); // the new setting is not in the entry: ask for the board
      }
    });
  }

  // ---- actions -----------------------------------------------------------------------------------

  const dialog = $("act-dialog");
  let current = null; // the action the dialog is for
  let sending = false;

  function reasonOptions() {
    const category = $("act-category");
    for (const r of D.reasons) {
      const o = el("option", null, r.name);
      o.value = r.category;
      category.append(o);
    }
    category.addEventListener("change", fillCodes);
  }

  function fillCodes() {
    const code = $("act-code");
    const first = code.options[0];
    code.textContent = "";
    code.append(first);
    const r = D.reasons.find((x) => x.category === $("act-category").value);
    if (r) {
      for (const c of r.codes) {
        const o = el("option", null, c.name);
        o.value = c.code;
        code.append(o);
      }
    }
    code.value = "";
  }

  function openAction(action) {
    const spec = D.actions[action];
    if (!spec) return;
    current = action;
    const chosen = [...selected].map((id) => seats.get(id)).filter(Boolean);
    $("act-title").textContent = spec.name;
    // who
    const room = spec.scopes.includes("room");
    const candidates = spec.scopes.includes("candidates");
    const roomRadio = dialog.querySelector("input[name=targets][value=room]");
    const chosenRadio = dialog.querySelector("input[name=targets][value=candidates]");
    roomRadio.closest("label").hidden = !room;
    chosenRadio.closest("label").hidden = !candidates;
    chosenRadio.disabled = chosen.length === 0;
    $("target-room").textContent = fmt(S.whole_room, { n: seats.size });
    $("target-chosen").textContent = fmt(S.chosen, { n: chosen.length });
    if (candidates && chosen.length) chosenRadio.checked = true;
    else roomRadio.checked = true;
    $("target-names").textContent = chosen.map((s) => `${s.seat_label} ${s.name}`).join("、");
    $("target-names").hidden = !candidates || !chosen.length;
    // what
    $("act-part-field").hidden = !spec.part;
    if (spec.part && focusPart) $("act-part").value = focusPart;
    $("act-minutes-field").hidden = action !== "extend";
    $("act-minutes").value = "10";
    $("act-message-field").hidden = action !== "broadcast" && action !== "warn";
    $("act-message").value = "";
    const toggles = action === "start_code" || action === "require_authorization";
    $("act-enabled-field").hidden = !toggles;
    if (toggles) {
      const on = action === "start_code" ? Boolean(control.start_code) : Boolean(control.needs_authorization);
      $("enabled-on").textContent = action === "start_code" ? S.enable_code : S.enable_hold;
      $("enabled-off").textContent = action === "start_code" ? S.disable_code : S.disable_hold;
      // Offer the change: a room with a code gets a new one only if asked.
      dialog.querySelector(`input[name=enabled][value=${action === "start_code" || !on ? "true" : "false"}]`).checked = true;
    }
    $("act-confirm-field").hidden = action !== "void";
    $("act-confirm").checked = false;
    $("act-confirm-text").textContent = S.confirm_void;
    // why: always chosen anew
    $("act-category").value = "";
    fillCodes();
    $("act-text").value = "";
    $("act-error").textContent = "";
    $("act-result").hidden = true;
    $("act-result").textContent = "";
    $("act-send").hidden = false;
    $("act-send").disabled = false;
    $("act-cancel").textContent = dialog.dataset.cancel;
    dialog.showModal();
    const first = dialog.querySelector("input[name=targets]:checked:not(:disabled)");
    (room && candidates ? first : $("act-category")).focus();
  }

  function request() {
    const spec = D.actions[current];
    const payload = { action: current, plan_id: D.plan_id, room_id: D.room_id };
    const which = dialog.querySelector("input[name=targets]:checked");
    const chosen = [...selected].filter((id) => seats.has(id));
    if (!spec.scopes.includes("room") || (which && which.value === "candidates")) {
      if (!chosen.length) throw new Error(S.need_selection);
      payload.targets = chosen;
    } else payload.targets = "room";
    if (spec.part) payload.part = $("act-part").value;
    if (current === "extend") {
      const minutes = Number($("act-minutes").value);
      if (!Number.isInteger(minutes) || minutes < 1 || minutes > D.limits.minutes) throw new Error(S.bad_minutes);
      payload.minutes = minutes;
    }
    const message = $("act-message").value.trim();
    if (current === "broadcast" && !message) throw new Error(S.need_message);
    if ((current === "broadcast" || current === "warn") && message) payload.message = message;
    if (current === "start_code" || current === "require_authorization") {
      payload.enabled = dialog.querySelector("input[name=enabled]:checked").value === "true";
    }
    const category = $("act-category").value;
    const code = $("act-code").value;
    if (!category || !code) throw new Error(S.choose_reason);
    const text = $("act-text").value.trim();
    if (code === "other" && !text) throw new Error(S.need_text);
    payload.reason = { category, code, text };
    if (current === "void" && !$("act-confirm").checked) throw new Error(S.need_confirm);
    return payload;
  }

  async function send(ev) {
    ev.preventDefault();
    if (sending) return;
    let payload;
    try {
      payload = request();
    } catch (e) {
      $("act-error").textContent = e.message;
      return;
    }
    if (!socket || !socket.connected) {
      $("act-error").textContent = S.no_answer;
      return;
    }
    sending = true;
    $("act-send").disabled = true;
    $("act-error").textContent = S.sending;
    let ack;
    try {
      ack = await socket.timeout(ACK_TIMEOUT_MS).emitWithAck("act", payload);
    } catch (e) {
      ack = null;
    }
    sending = false;
    $("act-send").disabled = false;
    if (!ack) {
      $("act-error").textContent = S.no_answer;
      return;
    }
    if (!ack.ok) {
      $("act-error").textContent = ack.message || ack.error;
      return;
    }
    $("act-error").textContent = "";
    showResult(payload, ack);
  }

  function showResult(payload, ack) {
    const box = $("act-result");
    box.textContent = "";
    const applied = ack.applied || [];
    const roomWide = payload.targets === "room";
    box.append(el("p", "applied", roomWide && !applied.length ? S.applied_room : fmt(S.applied, { n: applied.length })));
    if (ack.data && ack.data.start_code) {
      box.append(el("p", "code", ack.data.start_code));
      control.start_code = ack.data.start_code;
      renderControl();
    } else if (current === "start_code") {
      control.start_code = null;
      renderControl();
    }
    const skipped = ack.skipped || [];
    if (skipped.length) {
      box.append(el("p", "skipped-title", fmt(S.skipped, { n: skipped.length })));
      const ul = el("ul", "skipped");
      const name = (id) => {
        const seat = seats.get(id);
        return seat ? `${seat.seat_label} ${seat.name}` : String(id);
      };
      for (const line of grouped(skipped, name, 10)) ul.append(el("li", null, line));
      box.append(ul);
    }
    box.hidden = false;
    $("act-send").hidden = true;
    $("act-cancel").textContent = S.close;
    $("act-cancel").focus();
    if (current === "void") selectNone();
  }

  function wireActions() {
    if (!dialog) return;
    dialog.dataset.cancel = $("act-cancel").textContent;
    reasonOptions();
    document.querySelectorAll("[data-action]").forEach((b) => b.addEventListener("click", () => openAction(b.dataset.action)));
    $("act-form").addEventListener("submit", send);
    $("act-cancel").addEventListener("click", () => dialog.close());
    $("select-all").addEventListener("click", selectAll);
    $("select-none").addEventListener("click", selectNone);
  }

  // ---- wiring ------------------------------------------------------------------------------------

  function wire() {
    document.querySelectorAll(".part-tab").forEach((b) =>
      b.addEventListener("click", () => {
        focusPart = b.dataset.part;
        focusChosen = true;
        showFocus();
        seats.forEach((_, id) => paint(id));
        layout();
        tick();
      }),
    );
    document.querySelectorAll(".state-tab").forEach((b) =>
      b.addEventListener("click", () => {
        filter.state = b.dataset.filter;
        document.querySelectorAll(".state-tab").forEach((x) => x.setAttribute("aria-pressed", String(x === b)));
        layout();
      }),
    );
    $("f-offline").addEventListener("change", (ev) => {
      filter.offline = ev.target.checked;
      layout();
    });
    $("f-anomalies").addEventListener("change", (ev) => {
      filter.anomalies = ev.target.checked;
      layout();
    });
    $("sort").addEventListener("change", (ev) => {
      sort = ev.target.value;
      layout();
    });
    document.querySelectorAll("[data-view]").forEach((b) =>
      b.addEventListener("click", () => {
        view = b.dataset.view;
        document.querySelectorAll("[data-view]").forEach((x) => x.setAttribute("aria-pressed", String(x === b)));
        layout();
      }),
    );
    const side = $("side");
    const sideToggle = $("side-toggle");
    const setSide = (open) => {
      side.hidden = !open;
      sideToggle.setAttribute("aria-expanded", String(open));
    };
    sideToggle.addEventListener("click", () => setSide(side.hidden));
    // A wide room needs the whole width for its seats (12 columns of tiles on a 1366 px laptop).
    const tileWidth = 100;
    if (ROOM.columns * tileWidth + 290 > window.innerWidth) setSide(false);
    grid.addEventListener("keydown", onGridKey);
    document.addEventListener("keydown", onKey);
    wireActions();
  }

  wire();
  selectionChanged();
  renderLog();
  renderFeed();
  connect();
  setInterval(tick, 1000);
  setInterval(() => {
    if (socket && socket.connected) watch();
  }, REFRESH_MS);

  window.invigilationBoard = {
    seats: () => [...seats.values()],
    selected: () => [...selected],
    offset: () => offset,
    connected: () => Boolean(socket && socket.connected),
  };
})();
