// The offline entry page (/offline): reports taken along while online,
// entered without a connection, sent when it returns.
//
// What the device keeps (IndexedDB, opened by pwa.js):
// - meta "account": who signed in last on this device (cleared on sign-out);
// - reports: each report due, as GET /api/v1/reports/due gave it, under
//   "account|regime|unit|period";
// - changes: what was entered and not yet sent, one per report (a newer
//   save replaces an older one), sent in the order entered. Each keeps the
//   revision it was made on and an Idempotency-Key: the server refuses it
//   (412) when the report moved meanwhile, and never applies it twice.
//
// Changes are sent only for the account the server says is signed in, with
// that session's CSRF token; another account's stay on the device, unseen.
// Everything is built with DOM calls, never from HTML text: names and
// figures from the server are shown as text.
"use strict";

(() => {
  const COLUMN = "this_period";
  let account = null; // { username, display_name }
  let csrf = null;
  let syncing = false;
  let retryTimer = null;

  // ---- the device's store ----------------------------------------------
  let dbPromise = null;
  const store = () => (dbPromise = dbPromise || window.baocaoStore());
  const request = (r) =>
    new Promise((resolve, reject) => {
      r.onsuccess = () => resolve(r.result);
      r.onerror = () => reject(r.error);
    });
  async function tx(name, mode, work) {
    const db = await store();
    const t = db.transaction(name, mode);
    const result = await work(t.objectStore(name));
    await new Promise((resolve, reject) => {
      t.oncomplete = resolve;
      t.onerror = () => reject(t.error);
      t.onabort = () => reject(t.error);
    });
    return result;
  }
  const get = (name, key) => tx(name, "readonly", (s) => request(s.get(key)));
  const put = (name, value, key) => tx(name, "readwrite", (s) => request(key === undefined ? s.put(value) : s.put(value, key)));
  const remove = (name, key) => tx(name, "readwrite", (s) => request(s.delete(key)));
  const all = (name) => tx(name, "readonly", (s) => request(s.getAll()));

  const keyOf = (who, r) => `${who}|${r.regime}|${r.unit}|${r.period}`;
  const mine = (item) => account && item.account === account.username;

  // ---- Vietnamese numbers, as the server reads and writes them ---------
  function parseVn(text) {
    const t = String(text).trim().replace(/[ \u00a0\u202f\u2009]/g, "").replace(/\u2212/g, "-");
    if (t.includes(",")) return t.replace(/\./g, "").replace(",", ".");
    const groups = t.split(".");
    if (groups.length > 1 && groups.slice(1).every((g) => /^[0-9]{3}$/.test(g))) return groups.join("");
    return t;
  }
  function formatVn(value) {
    const decimals = Number.isInteger(value) ? 0 : 2;
    const text = Math.abs(value).toFixed(decimals);
    const [int, frac] = text.split(".");
    const grouped = int.replace(/\B(?=(\d{3})+(?!\d))/g, ".");
    const sign = value < 0 && /[1-9]/.test(text) ? "-" : "";
    return sign + grouped + (frac ? "," + frac : "");
  }
  const day = (iso) => {
    const [y, m, d] = String(iso).slice(0, 10).split("-");
    return `${d}/${m}/${y}`;
  };
  const moment = (date) =>
    `${String(date.getHours()).padStart(2, "0")}:${String(date.getMinutes()).padStart(2, "0")} ${day(
      `${date.getFullYear()}-${String(date.getMonth() + 1).padStart(2, "0")}-${String(date.getDate()).padStart(2, "0")}`,
    )}`;
  const STATUS = { draft: "Nháp", submitted: "Đã gửi", approved: "Đã duyệt", returned: "Trả lại" };
  // baocao_core::workflow::action_vietnamese
  const ACTION = { save: "Lưu nháp", submit: "Gửi báo cáo", approve: "Phê duyệt", return: "Trả lại", reopen: "Mở lại để sửa" };

  // ---- the form's rules, checked as the server checks them ------------
  // (baocao_core::form::Form::validate and ValueType::parse: same rules,
  // same words; the server checks again when the change arrives.)
  function typeProblem(indicator, text) {
    const t = parseVn(text);
    const n = Number(t);
    const number = t !== "" && Number.isFinite(n);
    const whole = number && Number.isInteger(n);
    const ok = {
      integer: whole,
      integer_zero_or_positive: whole && n >= 0,
      integer_positive: whole && n > 0,
      integer_negative: whole && n < 0,
      decimal: number,
      percent: number && n >= 0 && n <= 100,
      unit_interval: number && n >= 0 && n <= 1,
      boolean: ["true", "1", "có", "false", "0", "không"].includes(t.toLowerCase()),
      text: t !== "",
    }[indicator.value_type];
    return ok ? null : `«${String(text).trim()}» không hợp lệ: cần ${indicator.expected}`;
  }
  function findings(bundle, numbers) {
    const name = (code) => `«${(bundle.indicators[code] || {}).label || code}» (${code})`;
    const out = [];
    const push = (severity, indicator, message) => out.push({ severity: severity || "error", indicator, message });
    for (const rule of bundle.rules) {
      const v = (code) => numbers[code];
      const has = (code) => Object.prototype.hasOwnProperty.call(numbers, code);
      if (rule.rule === "required" && !has(rule.indicator)) {
        push(rule.severity, rule.indicator, `Chỉ tiêu ${name(rule.indicator)}, cột «Thực hiện kỳ này»: chưa nhập số liệu.`);
      } else if (rule.rule === "range" && has(rule.indicator)) {
        const x = v(rule.indicator);
        const min = rule.min ?? null;
        const max = rule.max ?? null;
        if ((min !== null && x < min) || (max !== null && x > max)) {
          const bound =
            min !== null && max !== null
              ? `từ ${formatVn(min)} đến ${formatVn(max)}`
              : min !== null
                ? `không nhỏ hơn ${formatVn(min)}`
                : `không lớn hơn ${formatVn(max)}`;
          push(
            rule.severity,
            rule.indicator,
            `Chỉ tiêu ${name(rule.indicator)}, cột «Thực hiện kỳ này»: giá trị ${formatVn(x)} phải ${bound}.`,
          );
        }
      } else if (rule.rule === "part_le_total" && has(rule.part) && has(rule.total) && v(rule.part) > v(rule.total)) {
        push(
          rule.severity,
          rule.part,
          `Chỉ tiêu ${name(rule.part)}, cột «Thực hiện kỳ này»: ${formatVn(v(rule.part))} lớn hơn tổng ${formatVn(
            v(rule.total),
          )} của chỉ tiêu ${name(rule.total)}.`,
        );
      } else if (rule.rule === "sum_equals" && has(rule.total)) {
        const sum = rule.parts.filter(has).reduce((a, p) => a + v(p), 0);
        if (Math.abs(sum - v(rule.total)) > 1e-9) {
          push(
            rule.severity,
            rule.total,
            `Chỉ tiêu ${name(rule.total)}, cột «Thực hiện kỳ này»: tổng các chỉ tiêu thành phần là ${formatVn(
              sum,
            )}, khác ${formatVn(v(rule.total))}.`,
          );
        }
      }
    }
    return out;
  }

  // ---- building the page -----------------------------------------------
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === "onclick" || k === "oninput") node.addEventListener(k.slice(2), v);
      else node.setAttribute(k, v === true ? "" : v);
    }
    for (const c of children.flat()) {
      if (c !== null && c !== undefined && c !== false) node.append(c instanceof Node ? c : String(c));
    }
    return node;
  }
  const section = (id) => document.getElementById(id);

  function showNetwork() {
    const online = navigator.onLine;
    const line = section("network");
    line.className = online ? "notice" : "warning";
    line.textContent = online
      ? "Đang có mạng."
      : "Không có mạng: số liệu nhập được giữ trên thiết bị này và tự gửi khi có mạng trở lại.";
  }

  function showAccount(message) {
    const box = section("account");
    box.replaceChildren();
    if (account) box.append(el("p", {}, "Tài khoản: ", el("strong", {}, account.display_name), ` (${account.username})`));
    else box.append(el("p", { class: "warning" }, "Chưa đăng nhập trên thiết bị này. ", el("a", { href: "/login?next=/offline" }, "Đăng nhập"), " khi có mạng để tải báo cáo về."));
    if (message) box.append(el("p", { class: "hint" }, message));
  }

  async function showPending() {
    // Read first, then replace in one step: a box emptied across an await
    // shows a moment of "nothing pending" that is not true.
    const box = section("pending");
    const changes = account ? (await all("changes")).filter(mine) : [];
    box.replaceChildren();
    if (changes.length === 0) return;
    box.append(el("h2", {}, `Trên thiết bị, chưa gửi (${changes.length})`));
    const list = el("ul", { class: "pending" });
    for (const c of changes) {
      const what = c.action === "submit" ? "Gửi báo cáo" : "Lưu nháp";
      const item = el("li", { id: `change-${c.id}`, class: `change-${c.state}` },
        el("strong", {}, `${c.title}: `), `${what}, nhập lúc ${moment(new Date(c.created_at))}. `);
      if (c.state === "queued") item.append(el("span", { class: "badge draft" }, "Chờ gửi"));
      if (c.state === "refused") item.append(el("div", { class: "error", role: "alert" }, `Máy chủ không nhận: ${c.message}`));
      if (c.state === "conflict") item.append(conflictView(c));
      list.append(item);
    }
    box.append(list);
  }

  /** Both versions of a report changed on the server meanwhile, for the
   * officer to choose. */
  function conflictView(change) {
    const server = change.server;
    const wrap = el("div", { class: "conflict", role: "alert" });
    const last = server.revisions[server.revisions.length - 1];
    wrap.append(
      el("p", { class: "warning" }, change.message),
      el("p", {}, `Trên máy chủ: ${STATUS[server.status] || server.status}`,
        last ? `, thay đổi gần nhất: ${last.actor} lúc ${moment(new Date(last.at))}` : "", "."),
    );
    const table = el("table", { class: "grid" },
      el("thead", {}, el("tr", {}, el("th", {}, "Chỉ tiêu"), el("th", {}, "Trên thiết bị"), el("th", {}, "Trên máy chủ"))));
    const body = el("tbody");
    for (const row of server.rows) {
      if (!row.indicator || row.heading || row.computed) continue;
      const theirs = row.cells[COLUMN];
      const ours = change.values[row.indicator];
      const differs = (ours === undefined ? null : Number(parseVn(ours))) !== (theirs === undefined ? null : theirs);
      body.append(el("tr", { class: differs ? "flagged" : null },
        el("td", {}, row.label), el("td", { class: "num" }, ours ?? ""), el("td", { class: "num" }, theirs === undefined ? "" : formatVn(theirs))));
    }
    table.append(body);
    wrap.append(el("div", { class: "scroll" }, table));
    const editable = server.status === "draft" || server.status === "returned";
    const actions = el("p", { class: "actions" });
    if (editable) {
      actions.append(el("button", { type: "button", onclick: () => resolveConflict(change, true) }, "Dùng bản trên thiết bị"), " ");
    } else {
      actions.append(el("span", { class: "hint" }, "Báo cáo trên máy chủ đã gửi hoặc đã duyệt: không ghi đè được; muốn sửa, cần được trả lại hoặc mở lại. "));
    }
    actions.append(el("button", { type: "button", class: "secondary", onclick: () => resolveConflict(change, false) }, "Giữ bản trên máy chủ"));
    wrap.append(actions);
    return wrap;
  }

  async function resolveConflict(change, keepMine) {
    const key = change.key;
    const bundle = await get("reports", key);
    if (bundle) {
      bundle.report = change.server;
      await put("reports", bundle, key);
    }
    if (keepMine) {
      Object.assign(change, { state: "queued", base_revision: lastRevision(change.server), idempotency_key: newKey(), message: null, server: null });
      await put("changes", change);
    } else {
      await remove("changes", change.id);
    }
    await render();
    sync();
  }

  const lastRevision = (report) => report.revisions.reduce((m, r) => Math.max(m, r.seq), 0);
  function newKey() {
    if (crypto.randomUUID) return crypto.randomUUID();
    return Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, "0")).join("");
  }

  async function showList() {
    const box = section("list");
    if (!account) return box.replaceChildren();
    const reports = (await all("reports")).filter(mine);
    const changes = (await all("changes")).filter(mine);
    box.replaceChildren();
    box.append(el("h2", {}, "Báo cáo trên thiết bị"));
    if (reports.length === 0) {
      box.append(el("p", { class: "empty" }, "Chưa có báo cáo nào trên thiết bị; khi có mạng, trang tự tải các báo cáo cần nhập."));
      return;
    }
    const list = el("ul", { class: "due" });
    for (const r of reports) {
      const pending = changes.some((c) => c.key === r.key);
      list.append(el("li", { "data-regime": r.regime, "data-period": r.period },
        el("button", { type: "button", class: "link", onclick: () => openEntry(r.key) }, `${r.report.form_name} — ${r.unit_name} — ${r.period_label}`),
        ` · hạn ${day(r.deadline)} · ${STATUS[r.report.status] || r.report.status}`,
        pending ? el("span", { class: "badge draft" }, " có thay đổi chưa gửi") : ""));
    }
    box.append(list);
  }

  async function openEntry(key) {
    const bundle = await get("reports", key);
    if (!bundle) return;
    const change = (await all("changes")).find((c) => c.key === key && mine(c) && c.state !== "conflict");
    const box = section("entry");
    box.hidden = false;
    box.replaceChildren();
    const report = bundle.report;
    box.append(
      el("h2", {}, `${report.form_name}`, el("small", {}, ` ${report.unit_name} · ${report.period_label}`)),
      el("p", {}, `Trạng thái trên máy chủ (lúc tải về): ${STATUS[report.status] || report.status} · Hạn gửi: ${day(report.deadline)}`),
    );
    if (report.status === "returned" && report.returned_reason) box.append(el("p", {}, "Lý do trả lại: ", el("strong", {}, report.returned_reason)));
    const checks = el("div", { id: "offline-checks", "aria-live": "polite" });
    const fields = el("div", { class: "fields" });
    const inputs = {};
    for (const row of report.rows) {
      if (row.heading || !row.indicator) {
        fields.append(el("h3", { class: "field-heading" }, `${row.stt} ${row.label}`));
        continue;
      }
      const code = row.indicator;
      const stored = row.cells[COLUMN];
      const last = row.cells.same_period_last_year;
      const field = el("div", { class: "field", id: `field-${code}` });
      field.append(el("label", { for: `offline-${code}` }, `${row.stt}. ${row.label}`, row.unit_of_measure ? el("small", {}, ` (${row.unit_of_measure})`) : ""));
      if (row.computed || !(bundle.indicators[code]) || bundle.indicators[code].computed) {
        field.append(el("output", { id: `offline-${code}` }, stored === undefined ? "" : formatVn(stored)), el("small", { class: "hint" }, " tính tự động"));
      } else {
        // A figure pulled from another system is shown, not typed over:
        // the server refuses a change to it.
        const pulled = row.pulled_from;
        const typed = !pulled && change && change.values[code] !== undefined;
        const value = typed ? change.values[code] : stored === undefined ? "" : formatVn(stored);
        const input = el("input", { id: `offline-${code}`, name: code, inputmode: "decimal", value, autocomplete: "off", readonly: Boolean(pulled), class: pulled ? "pulled" : null });
        input.addEventListener("input", () => check(bundle, inputs, checks));
        inputs[code] = input;
        field.append(input);
        if (pulled) field.append(el("small", { class: "hint" }, ` tự động từ ${pulled}`));
      }
      if (last !== undefined) field.append(el("small", { class: "hint" }, ` Cùng kỳ năm trước: ${formatVn(last)}`));
      field.append(el("div", { class: "field-messages" }));
      fields.append(field);
    }
    const signer = el("input", { id: "offline-signer", value: (change && change.signer) || (report.signature && report.signature.signer) || account.display_name });
    const position = el("input", { id: "offline-position", value: (change && change.position) || (report.signature && report.signature.position) || "", placeholder: "vd: Chủ tịch, Phó Chủ tịch" });
    const saved = el("p", { id: "offline-saved", role: "status" });
    const act = (action) => enqueue(bundle, inputs, signer.value.trim(), position.value.trim(), action, saved);
    box.append(
      checks,
      fields,
      el("fieldset", { class: "actions" },
        el("label", {}, "Người ký ", signer),
        el("label", {}, "Chức vụ người ký ", position),
        el("button", { type: "button", class: "secondary", onclick: () => act("save") }, "Lưu nháp trên thiết bị"),
        el("button", { type: "button", onclick: () => act("submit") }, "Gửi báo cáo")),
      saved,
      history(report),
    );
    check(bundle, inputs, checks);
    box.scrollIntoView();
  }

  /** The report's history as taken along, newest first. */
  function history(report) {
    const rows = report.revisions
      .slice()
      .reverse()
      .map((r) =>
        el("tr", {}, el("td", {}, moment(new Date(r.at))), el("td", {}, r.actor), el("td", {}, ACTION[r.action] || r.action),
          el("td", {}, STATUS[r.status] || r.status), el("td", {}, r.note || "")));
    return el("section", { id: "offline-history" },
      el("h3", {}, "Lịch sử (lúc tải về)"),
      rows.length === 0
        ? el("p", { class: "empty" }, "Chưa có.")
        : el("div", { class: "scroll" }, el("table", { class: "grid history" },
          el("thead", {}, el("tr", {}, ...["Thời điểm", "Người thực hiện", "Thao tác", "Trạng thái", "Ghi chú"].map((h) => el("th", {}, h)))),
          el("tbody", {}, rows))));
  }

  function check(bundle, inputs, checks) {
    const numbers = {};
    const problems = [];
    for (const [code, input] of Object.entries(inputs)) {
      const text = input.value.trim();
      const holder = input.parentElement.querySelector(".field-messages");
      holder.replaceChildren();
      if (text === "") continue;
      const problem = typeProblem(bundle.indicators[code], text);
      if (problem) {
        const message = `Chỉ tiêu «${bundle.indicators[code].label}» (${code}), cột «Thực hiện kỳ này»: giá trị không hợp lệ (${problem}).`;
        problems.push({ severity: "error", indicator: code, message });
      } else {
        numbers[code] = Number(parseVn(text));
      }
    }
    const all = problems.concat(findings(bundle, numbers));
    checks.replaceChildren();
    for (const f of all) {
      const line = el("p", { class: f.severity === "warning" ? "warning" : "error" },
        el("strong", {}, f.severity === "warning" ? "Cảnh báo (vẫn gửi được): " : "Lỗi (chặn gửi): "), f.message);
      const holder = inputs[f.indicator] && inputs[f.indicator].parentElement.querySelector(".field-messages");
      (holder || checks).append(line);
    }
    return all;
  }

  async function enqueue(bundle, inputs, signer, position, action, saved) {
    const problems = check(bundle, inputs, section("offline-checks"));
    if (action === "submit" && problems.some((f) => f.severity !== "warning")) {
      saved.className = "error";
      saved.textContent = "Chưa thể gửi báo cáo: còn lỗi (chặn gửi) ở trên. Sửa rồi bấm gửi, hoặc lưu nháp trên thiết bị.";
      return;
    }
    if (action === "submit" && (!signer || !position)) {
      saved.className = "error";
      saved.textContent = "Chưa thể gửi báo cáo: cần ghi người ký và chức vụ của người ký (ví dụ: Nguyễn Văn A, Phó Chủ tịch).";
      return;
    }
    const values = {};
    for (const [code, input] of Object.entries(inputs)) if (input.value.trim() !== "") values[code] = input.value.trim();
    const earlier = (await all("changes")).find((c) => c.key === bundle.key && mine(c) && c.state !== "conflict");
    const change = {
      account: account.username,
      key: bundle.key,
      title: `${bundle.report.form_name} — ${bundle.unit_name} — ${bundle.period_label}`,
      regime: bundle.regime,
      unit: bundle.unit,
      period: bundle.period,
      action,
      values,
      signer: signer || null,
      position: position || null,
      // A newer entry replaces the one not yet sent: made on the same
      // revision, it keeps its place in the order.
      base_revision: earlier ? earlier.base_revision : lastRevision(bundle.report),
      idempotency_key: newKey(),
      created_at: new Date().toISOString(),
      state: "queued",
    };
    if (earlier) change.id = earlier.id;
    await put("changes", change);
    saved.className = "notice";
    saved.textContent = navigator.onLine
      ? `Đã giữ trên thiết bị lúc ${moment(new Date())}; đang gửi lên máy chủ…`
      : `Đã giữ trên thiết bị lúc ${moment(new Date())}; chưa gửi: sẽ tự gửi khi có mạng.`;
    await showPending();
    await showList();
    sync();
  }

  // ---- the server ------------------------------------------------------
  const api = (path, options) => fetch(path, Object.assign({ credentials: "same-origin", cache: "no-store" }, options));

  /** Who is signed in; false when the network does not answer. */
  async function refreshSession() {
    let answer;
    try {
      answer = await api("/api/v1/session");
    } catch {
      return false;
    }
    if (answer.ok) {
      const who = await answer.json();
      account = { username: who.username, display_name: who.display_name };
      csrf = who.csrf;
      await put("meta", account, "account");
    } else if (answer.status === 401 || answer.status === 403) {
      account = null;
      csrf = null;
      await remove("meta", "account");
    } else {
      return false;
    }
    return true;
  }

  /** Takes along the reports due, keeping those with changes not yet sent. */
  async function takeAlong() {
    if (!account) return;
    let answer;
    try {
      answer = await api("/api/v1/reports/due");
    } catch {
      return;
    }
    if (!answer.ok) return;
    const due = (await answer.json()).filter((d) => d.report);
    const changes = (await all("changes")).filter(mine);
    const kept = (await all("reports")).filter(mine);
    const fresh = new Set();
    for (const d of due) {
      d.key = keyOf(account.username, d);
      d.account = account.username;
      d.taken_at = new Date().toISOString();
      fresh.add(d.key);
      await put("reports", d, d.key);
    }
    for (const r of kept) {
      if (!fresh.has(r.key) && !changes.some((c) => c.key === r.key)) await remove("reports", r.key);
    }
    showAccount(`Đã tải ${due.length} báo cáo cần nhập về thiết bị lúc ${moment(new Date())}.`);
  }

  /** The report as the server has it now (for a conflict, or after a send). */
  async function serverReport(change) {
    const q = new URLSearchParams({ regime: change.regime, unit: change.unit, period: change.period });
    const answer = await api(`/api/v1/reports?${q}`);
    return answer.ok ? answer.json() : null;
  }

  async function sync() {
    if (syncing || !navigator.onLine) return;
    syncing = true;
    clearTimeout(retryTimer);
    try {
      if (!(await refreshSession())) return later();
      if (!account || !csrf) {
        // Another account's changes stay unseen; this one's wait for it.
        if (account) showAccount("Có thay đổi trên thiết bị chưa gửi: đăng nhập lại để gửi.");
        return;
      }
      const changes = (await all("changes")).filter((c) => mine(c) && c.state === "queued").sort((a, b) => a.id - b.id);
      for (const change of changes) {
        const body = {
          regime: change.regime,
          unit: change.unit,
          period: change.period,
          action: change.action,
          values: change.values,
          signer: change.signer,
          position: change.position,
          base_revision: change.base_revision,
        };
        let answer;
        try {
          answer = await api("/api/v1/reports?answer=outcome", {
            method: "POST",
            headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf, "Idempotency-Key": change.idempotency_key },
            body: JSON.stringify(body),
          });
        } catch {
          return later();
        }
        if (answer.ok) {
          await remove("changes", change.id);
          const report = await serverReport(change);
          const bundle = await get("reports", change.key);
          if (report && bundle) {
            bundle.report = report;
            await put("reports", bundle, change.key);
          }
          continue;
        }
        if (answer.status === 401) {
          showAccount("Phiên đăng nhập đã hết: đăng nhập lại để gửi các thay đổi trên thiết bị.");
          return;
        }
        if (answer.status === 429 || answer.status >= 500) return later();
        const message = await answer
          .json()
          .then((b) => b.error || b.detail || b.title)
          .catch(() => `mã ${answer.status}`);
        if (answer.status === 412) {
          const server = await serverReport(change);
          Object.assign(change, { state: "conflict", message, server });
        } else {
          Object.assign(change, { state: "refused", message });
        }
        await put("changes", change);
      }
    } finally {
      syncing = false;
      await render();
    }
  }

  function later() {
    clearTimeout(retryTimer);
    retryTimer = setTimeout(sync, 30000);
  }

  async function render() {
    showNetwork();
    await showPending();
    await showList();
  }

  async function start() {
    account = (await get("meta", "account")) || null;
    showNetwork();
    showAccount();
    await render();
    if (navigator.onLine && (await refreshSession())) {
      showAccount();
      await takeAlong();
      await render();
      await sync();
    }
  }

  window.addEventListener("online", () => {
    showNetwork();
    sync();
  });
  window.addEventListener("offline", showNetwork);
  start();
})();
