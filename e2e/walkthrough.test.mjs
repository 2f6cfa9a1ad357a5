// A commune officer uploads a report's workbook, enters and submits the
// report, a provincial approver approves it, and the province total and
// completeness change; another commune's officer cannot open it; the plan's
// follow-up; the province total downloaded and printed; an administrator
// sets a password and closes and opens an account; an ad-hoc request is
// sent, answered, extended and closed; a regime is written in the editor;
// every page of the office fits a phone's width; a department reports on
// its own regime in two levels; an account made by the account plan
// activates itself from its mail and resets a forgotten password; an
// official turns on two-factor sign-in; the officer finds the approval
// among their notices; the administrator runs the reminders now; an
// officer enters a report on a phone, and another one offline, sent when
// the network returns, settling a conflict with the approver's return.
// Runs `baocao serve --demo` on a fresh database and drives
// Debian's chromium headless with playwright-core.
//
// BAOCAO_BIN: the binary (default ../target/debug/baocao).
// CHROMIUM: the browser (default /usr/bin/chromium).

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, mkdirSync, rmSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { createInterface } from "node:readline";
import { createHmac } from "node:crypto";
import { chromium } from "playwright-core";

const here = dirname(fileURLToPath(import.meta.url));
const bin = process.env.BAOCAO_BIN ?? join(here, "..", "target", "debug", "baocao");
const shots = join(here, "screenshots");
const PASSWORD = "demo-baocao-2025";
const REGIME = "BC_THANG_TTHC";

let server, browser, base, workdir;
/** The demo's national instance, which the province sends its approved reports to. */
let national;

/** Starts the demo server and resolves with its URL once it listens. */
function startServer() {
  workdir = mkdtempSync(join(tmpdir(), "baocao-e2e-"));
  const child = spawn(bin, ["--db", `sqlite:${join(workdir, "e2e.db")}`, "serve", "--demo", "--listen", "127.0.0.1:0"], {
    cwd: workdir,
    env: { ...process.env, CI: "1", RUST_LOG: "warn" },
    stdio: ["ignore", "pipe", "inherit"],
  });
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout });
    lines.on("line", (line) => {
      const m = line.match(/serving on (http:\/\/\S+?)\/? /);
      if (m) resolve({ child, url: m[1] });
      const up = line.match(/Phiên bản quốc gia trình diễn tại (http:\/\/\S+?)\/ /);
      if (up) national = up[1];
    });
    child.on("exit", (code) => reject(new Error(`baocao exited with ${code} before serving`)));
  });
}

before(async () => {
  ({ child: server, url: base } = await startServer());
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
});

after(async () => {
  await browser?.close();
  server?.kill();
  if (workdir) rmSync(workdir, { recursive: true, force: true });
});

/** Runs `steps` in a fresh browser context; on failure keeps a screenshot of the page. */
async function as(name, steps, options = {}) {
  const context = await browser.newContext({ locale: "vi-VN", ...options });
  const page = await context.newPage();
  // Every page runs under its Content-Security-Policy: anything it refuses
  // (an inline style or script a template slipped in) fails the test.
  const refused = [];
  page.on("console", (m) => {
    if (m.type() === "error" && /Content Security Policy/i.test(m.text())) refused.push(m.text());
  });
  try {
    await steps(page);
    assert.deepEqual(refused, [], "the pages' own policy refused something they use");
  } catch (e) {
    mkdirSync(shots, { recursive: true });
    await page.screenshot({ path: join(shots, `${name}-failure.png`), fullPage: true }).catch(() => {});
    throw e;
  } finally {
    await context.close();
  }
}

async function signIn(page, username) {
  await page.goto(`${base}/`);
  assert.match(page.url(), /\/login/, "an anonymous visitor is sent to sign in");
  // Every account of this walk signs in from one address, which the
  // product lets do so ten times a minute: past that, wait as a person would.
  for (let attempt = 0; ; attempt++) {
    await page.getByLabel("Tên đăng nhập").fill(username);
    await page.getByLabel("Mật khẩu").fill(PASSWORD);
    const [answer] = await Promise.all([
      page.waitForResponse((r) => r.request().method() === "POST" && new URL(r.url()).pathname === "/login"),
      page.getByRole("button", { name: "Đăng nhập" }).click(),
    ]);
    if (answer.status() === 303) return page.waitForURL(`${base}/`);
    await page.waitForLoadState();
    const said = await page.locator('[role="alert"]').innerText();
    assert.match(said, /Quá nhiều lần đăng nhập/, `signing in as ${username}`);
    assert.ok(attempt < 10, "still refused after a minute");
    await page.waitForTimeout(7000);
  }
}

/**
 * Signs in as `username` with `password` from the sign-in page, waiting out
 * the rate limit; the page lands on `landing` (the home page, or the code
 * page of an account with a second factor).
 */
async function signInWith(page, username, password, landing = `${base}/`) {
  for (let attempt = 0; ; attempt++) {
    await page.goto(`${base}/login`);
    await page.getByLabel("Tên đăng nhập").fill(username);
    await page.getByLabel("Mật khẩu").fill(password);
    const [answer] = await Promise.all([
      page.waitForResponse((r) => r.request().method() === "POST" && new URL(r.url()).pathname === "/login"),
      page.getByRole("button", { name: "Đăng nhập" }).click(),
    ]);
    if (answer.status() === 303) return page.waitForURL(landing);
    assert.equal(answer.status(), 429, `signing in as ${username}`);
    assert.ok(attempt < 10, "still refused after a minute");
    await page.waitForTimeout(7000);
  }
}

/** The link of the latest unsent `kind` mail to `recipient` (or any), as the demo's outbox shows it. */
async function mailedLink(page, kind, path, recipient) {
  await page.goto(`${base}/admin/outbox`);
  const row = page.locator("#outbox tbody tr", { hasText: kind }).filter({ hasText: recipient ?? "@" }).first();
  const to = (await row.locator("td").nth(2).innerText()).trim();
  const text = await row.locator("xpath=following-sibling::tr[1]").locator("pre").innerText();
  const link = text.match(new RegExp(`${base}${path}\\?token=[0-9a-f]{64}`));
  assert.ok(link, `a ${path} link in the mail to ${to}: ${text}`);
  return { to, link: link[0] };
}

async function signOut(page) {
  await page.getByRole("button", { name: "Đăng xuất" }).click();
  await page.waitForURL(/\/login/);
}

/** A number as the pages print it (1.234,5), or 0 for an empty cell. */
function vn(text) {
  const t = text.replace(/[\s*]/g, "").replace(/\./g, "").replace(",", ".");
  return t === "" ? 0 : Number(t);
}

async function totalReceived(page, period) {
  await page.goto(`${base}/output?form=TH01&unit=51&period=${period}`);
  const row = page.locator("#output tbody tr").first();
  return vn(await row.locator("td").nth(3).innerText());
}

async function approvedCount(page, period) {
  await page.goto(`${base}/completeness?regime=${REGIME}&period=${period}`);
  return Number(await page.locator("#approved").innerText());
}

let reportPath;

test("a commune officer fixes a validation error and submits", async () => {
  await as("officer", async (page) => {
    await signIn(page, "nhaplieu.ngokbay");
    const task = page.locator("table.tasks tr", { hasText: "Cần nhập và gửi" }).first();
    await task.getByRole("link", { name: "Mở báo cáo" }).click();
    await page.waitForURL(/\/reports\/BC_THANG_TTHC\/23317\//);
    reportPath = new URL(page.url()).pathname;

    // A workbook filled offline goes in from the page: a file that is not
    // one is refused where the officer looks; the report's own workbook is
    // saved as a draft.
    const XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
    const file = page.locator('#upload input[type="file"]');
    await file.setInputFiles({ name: "nham.xlsx", mimeType: XLSX, buffer: Buffer.from("không phải bảng tính") });
    await page.getByRole("button", { name: "Nạp tệp" }).click();
    await page.locator('#checks [role="alert"]', { hasText: "nham.xlsx" }).waitFor();
    const [, , regime, unit, period] = reportPath.split("/");
    const workbook = await page.request.get(`${base}/api/v1/reports/xlsx?regime=${regime}&unit=${unit}&period=${period}`);
    assert.equal(workbook.status(), 200);
    await file.setInputFiles({ name: "bao-cao.xlsx", mimeType: XLSX, buffer: await workbook.body() });
    await page.getByRole("button", { name: "Nạp tệp" }).click();
    await page.locator('[role="status"]', { hasText: "Đã nạp số liệu từ tệp Excel" }).waitFor();

    await page.locator('input[name="v:HS_TIEP_NHAN"]').fill("100");
    await page.locator('input[name="v:HS_DUNG_HAN"]').fill("120");
    await page.locator('input[name="v:HS_TRUC_TUYEN_TOAN_TRINH"]').fill("40");
    await page.locator('input[name="v:VB_DIEN_TU"]').fill("1.250");
    await page.getByLabel("Chức vụ").fill("Chủ tịch");
    // The rules run as the officer types (htmx), before anything is sent.
    await page.locator("#checks .error", { hasText: "lớn hơn" }).waitFor();
    await page.getByRole("button", { name: "Gửi báo cáo" }).click();
    await assert.doesNotReject(page.locator('[role="alert"]').waitFor());
    assert.match(await page.locator('[role="alert"]').innerText(), /Chưa thể gửi báo cáo/);
    assert.match(await page.locator(".error.inline").first().innerText(), /lớn hơn/);
    // The values typed are still there, as typed.
    assert.equal(await page.locator('input[name="v:VB_DIEN_TU"]').inputValue(), "1.250");

    await page.locator('input[name="v:HS_DUNG_HAN"]').fill("90");
    await page.getByRole("button", { name: "Gửi báo cáo" }).click();
    await page.locator('[role="status"]', { hasText: "Đã gửi báo cáo" }).waitFor();
    assert.equal(await page.locator("#status").innerText(), "Đã gửi");
    // Numbers are printed the Vietnamese way once stored.
    assert.equal(await page.locator("table.report tbody tr", { hasText: "văn bản" }).locator("td.num").nth(1).innerText(), "1.250");
    await signOut(page);
  });
});

test("the provincial approver approves; the total and completeness follow", async () => {
  assert.ok(reportPath, "the officer's test ran first");
  const period = reportPath.split("/").pop();
  await as("approver", async (page) => {
    await signIn(page, "pheduyet.tinh");
    const totalBefore = await totalReceived(page, period);
    const approvedBefore = await approvedCount(page, period);
    await page.goto(`${base}/review?regime=${REGIME}&period=${period}`);
    await page.locator("tr", { hasText: "Ngọk Bay" }).getByRole("link", { name: "Mở" }).click();
    await page.getByRole("button", { name: "Phê duyệt" }).click();
    await page.locator('[role="status"]', { hasText: "Đã phê duyệt" }).waitFor();
    assert.equal(await page.locator("#status").innerText(), "Đã duyệt");
    assert.equal(await totalReceived(page, period), totalBefore + 100);
    assert.equal(await approvedCount(page, period), approvedBefore + 1);
    // Signed with the demo's key, and checked against the demo's authority:
    // after the backlog the demo signs as it starts (a debug build on a busy
    // machine has once needed more than 15 s).
    for (let tries = 0; ; tries++) {
      await page.goto(`${base}${reportPath}`);
      if (/Chữ ký số hợp lệ/.test(await page.locator("#digital-signature").innerText())) break;
      assert.ok(tries < 90, "the approved report was signed and its signature checked");
      await page.waitForTimeout(500);
    }
    await page.goto(`${base}${reportPath}/print`);
    assert.match(await page.locator(".motto").innerText(), /Độc lập - Tự do - Hạnh phúc/);
    // On paper (A4): the demo is marked, the indicator column is wide, the
    // table stays within the page and no row splits across sheets.
    await page.setViewportSize({ width: 794, height: 1123 });
    await page.emulateMedia({ media: "print" });
    assert.ok(await page.locator(".demo-mark").isVisible(), "the demo is marked on the print");
    const layout = await page.evaluate(() => {
      const table = document.querySelector("table.report");
      const label = table.querySelector("thead th:nth-child(2)");
      const rows = [...table.querySelectorAll("tbody tr")];
      return {
        share: label.getBoundingClientRect().width / table.getBoundingClientRect().width,
        overflow: table.scrollWidth - document.querySelector("article.document").clientWidth,
        split: rows.filter((r) => getComputedStyle(r).breakInside !== "avoid").length,
      };
    });
    assert.ok(layout.share >= 0.3, `the indicator column takes ${layout.share} of the width`);
    assert.ok(layout.overflow <= 1, `the table overflows the page by ${layout.overflow}px`);
    assert.equal(layout.split, 0, "rows may split across pages");
    await page.emulateMedia({ media: "screen" });
    // A unit nobody knows: said in Vietnamese inside the page, with the menu.
    const missing = await page.goto(`${base}/units/99999`);
    assert.equal(missing.status(), 404);
    assert.match(await page.locator("h1").innerText(), /Không tìm thấy/);
    assert.ok(await page.getByRole("navigation", { name: "Chức năng" }).isVisible());
    await page.goto(`${base}/`);
    await signOut(page);
  });
});

test("the officer finds the approval among their notices and chooses how to be told", async () => {
  assert.ok(reportPath, "the officer's test ran first");
  await as("inbox", async (page) => {
    await signIn(page, "nhaplieu.ngokbay");
    // The scheduler turns the approval into a notice within seconds.
    const notice = page.locator("#inbox li.unread", { hasText: "Báo cáo đã được phê duyệt" });
    for (let attempt = 0; ; attempt++) {
      await page.goto(`${base}/inbox`);
      if ((await notice.count()) > 0) break;
      assert.ok(attempt < 30, "the approval was never told");
      await page.waitForTimeout(500);
    }
    // The menu's badge counts what is unread.
    await page.locator("#inbox-link .count").waitFor();
    assert.ok(Number(await page.locator("#inbox-link .count").innerText()) >= 1);
    await notice.first().getByRole("link").click();
    await page.waitForURL(`${base}${reportPath}`);
    await page.goto(`${base}/inbox`);
    assert.equal(await notice.count(), 0, "opened, it is read");
    const byMail = page.getByLabel("Báo cáo bị trả lại, được phê duyệt hoặc mở lại: qua thư điện tử");
    assert.ok(await byMail.isChecked(), "by mail unless the official says otherwise");
    await byMail.uncheck();
    await page.getByRole("button", { name: "Lưu lựa chọn" }).click();
    await page.locator('[role="status"]', { hasText: "Đã lưu lựa chọn." }).waitFor();
    assert.equal(await byMail.isChecked(), false);
    await signOut(page);
  });
  await as("jobs", async (page) => {
    // The administrator runs the day's reminders now and sees the run.
    await signIn(page, "quantri");
    await page.goto(`${base}/admin/jobs`);
    const row = page.locator("#jobs tbody tr", { hasText: "Nhắc hạn báo cáo" });
    await row.getByRole("button", { name: "Chạy ngay" }).click();
    const done = page.locator("#runs tbody tr", { hasText: "xong" });
    for (let attempt = 0; (await done.count()) === 0; attempt++) {
      assert.ok(attempt < 30, "the reminders never ran");
      await page.waitForTimeout(500);
      await page.goto(`${base}/admin/jobs`);
    }
    assert.match(await done.first().innerText(), /Đã nhắc: \d+ hạn báo cáo/);
    await signOut(page);
  });
});

test("the approver approves a selection of the queue with one confirmation", async () => {
  await as("bulk", async (page) => {
    await signIn(page, "pheduyet.tinh");
    // The demo leaves last month's reports partly sent: the first period
    // offered with at least two waiting.
    await page.goto(`${base}/review?regime=${REGIME}`);
    const periods = await page.locator('select[name="period"] option').evaluateAll((os) => os.map((o) => o.value));
    const boxes = page.locator('#review input[name="unit"]');
    let period;
    for (const p of periods) {
      await page.goto(`${base}/review?regime=${REGIME}&period=${p}`);
      if ((await boxes.count()) >= 2) {
        period = p;
        break;
      }
    }
    assert.ok(period, `some period offered has two reports waiting (${periods})`);
    const waiting = await boxes.count();
    const approvedBefore = await approvedCount(page, period);
    await page.goto(`${base}/review?regime=${REGIME}&period=${period}`);
    await boxes.nth(0).check();
    await boxes.nth(1).check();
    await page.getByRole("button", { name: "Phê duyệt các báo cáo đã chọn" }).click();
    // Nothing is approved before the one confirmation, which lists them.
    await page.locator("h1", { hasText: "Xác nhận phê duyệt 2 báo cáo" }).waitFor();
    assert.equal(await page.locator("tbody tr").count(), 2);
    await page.getByRole("button", { name: "Xác nhận phê duyệt 2 báo cáo" }).click();
    await page.locator('[role="status"]', { hasText: "Đã phê duyệt 2/2 báo cáo đã chọn." }).waitFor();
    assert.equal(await boxes.count(), waiting - 2, "the approved leave the queue");
    assert.equal(await approvedCount(page, period), approvedBefore + 2);
    await signOut(page);
  });
});

test("a quarterly report climbs two levels: the commune's leader, then the province", async () => {
  const CHAIN = "BC_TTHC_QUY";
  let url;
  await as("chain-officer", async (page) => {
    await signIn(page, "nhaplieu.ngokbay");
    await page.goto(`${base}/reports?regime=${CHAIN}`);
    const period = await page.locator('select[name="period"] option').first().getAttribute("value");
    url = `${base}/reports/${CHAIN}/23317/${period}`;
    await page.goto(url);
    await page.locator('input[name="v:HS_TIEP_NHAN"]').fill("300");
    await page.locator('input[name="v:HS_DUNG_HAN"]').fill("280");
    await page.locator('input[name="v:HS_TRUC_TUYEN_TOAN_TRINH"]').fill("150");
    await page.locator('input[name="v:VB_DIEN_TU"]').fill("2.400");
    await page.getByLabel("Chức vụ").fill("Chủ tịch");
    await page.getByRole("button", { name: "Gửi báo cáo" }).click();
    await page.locator('[role="status"]', { hasText: "Đã gửi báo cáo" }).waitFor();
    assert.equal(await page.locator("#status").innerText(), "Đã gửi, chờ Lãnh đạo UBND xã duyệt (cấp 1/2)");
    await signOut(page);
  });
  // The province cannot decide before the commune's leaders.
  await as("chain-province-early", async (page) => {
    await signIn(page, "pheduyet.tinh");
    await page.goto(url);
    assert.equal(await page.getByRole("button", { name: "Phê duyệt" }).count(), 0);
    await signOut(page);
  });
  for (const [who, after] of [
    ["lanhdao.ngokbay", "Đã gửi, chờ Văn phòng UBND tỉnh duyệt (cấp 2/2)"],
    ["pheduyet.tinh", "Đã duyệt"],
  ]) {
    await as(`chain-${who}`, async (page) => {
      await signIn(page, who);
      const period = url.split("/").pop();
      await page.goto(`${base}/review?regime=${CHAIN}&period=${period}`);
      await page.locator("tr", { hasText: "Ngọk Bay" }).getByRole("link", { name: "Mở" }).click();
      await page.getByRole("button", { name: "Phê duyệt", exact: true }).click();
      await page.locator('[role="status"]', { hasText: "Đã phê duyệt" }).waitFor();
      assert.equal(await page.locator("#status").innerText(), after);
      await signOut(page);
    });
  }
});

test("the approver downloads the province total as a workbook and prints it", async () => {
  const period = reportPath.split("/").pop();
  await as("exports", async (page) => {
    await signIn(page, "pheduyet.tinh");
    const total = await totalReceived(page, period);
    const [download] = await Promise.all([
      page.waitForEvent("download"),
      page.getByRole("link", { name: "Tải bảng tính (XLSX)" }).click(),
    ]);
    assert.match(download.suggestedFilename(), new RegExp(`^TH01-51-${period}\\.xlsx$`));
    const [printed] = await Promise.all([
      page.waitForEvent("popup"),
      page.getByRole("link", { name: "Bản in" }).click(),
    ]);
    await printed.waitForLoadState();
    assert.match(await printed.locator(".motto").innerText(), /Độc lập - Tự do - Hạnh phúc/);
    assert.match(await printed.locator(".agency").innerText(), /ỦY BAN NHÂN DÂN/);
    const cell = printed.locator("table.grid tbody tr").first().locator("td").nth(3);
    assert.equal(vn(await cell.innerText()), total, "the print shows the page's total");
    await printed.setViewportSize({ width: 794, height: 1123 });
    await printed.emulateMedia({ media: "print" });
    const overflow = await printed.evaluate(
      () => document.querySelector("table.grid").scrollWidth - document.querySelector("article.document").clientWidth,
    );
    assert.ok(overflow <= 1, `the table overflows the page by ${overflow}px`);
    await printed.close();
    await signOut(page);
  });
});

test("a leader arranges a pivot: the province and its communes by indicator, then over months", async () => {
  const period = reportPath.split("/").pop();
  const month = `${period.slice(0, 4)}-${period.slice(4)}`;
  await as("pivot", async (page) => {
    await signIn(page, "pheduyet.tinh");
    const total = await totalReceived(page, period);
    await page.getByRole("link", { name: "Phân tích" }).click();
    await page.waitForURL(`${base}/analysis`);
    await page.getByLabel("Chỉ tiêu (chọn một hay nhiều)").selectOption(["HS_TIEP_NHAN", "HS_DUNG_HAN"]);
    await page.getByLabel("Địa bàn (gõ tên không dấu hoặc mã)").fill("51");
    await page.getByLabel("Từ tháng").fill(month);
    await page.getByLabel("Đến tháng").fill(month);
    await page.getByLabel("Dòng").selectOption("unit");
    // «Cột» by name: the chart's options («cột», «cột chồng») say it too.
    await page.locator('select[name="cols"]').selectOption("indicator");
    await page.getByRole("button", { name: "Xem" }).click();
    await page.waitForURL(/\/analysis\?/);
    // The first row is the province's own figure, the one the output form shows.
    const headings = await page.locator("#pivot thead th").allInnerTexts();
    const received = headings.findIndex((h) => h.includes("tiếp nhận"));
    assert.ok(received > 0, `a column for the dossiers received in ${headings}`);
    const first = page.locator("#pivot tbody tr").first();
    assert.match(await first.locator("th").innerText(), /Quảng Ngãi/);
    assert.equal(vn(await first.locator("td").nth(received - 1).innerText()), total);
    assert.ok((await page.locator("#pivot tbody tr").count()) > 50, "the province's communes follow");
    assert.ok(await page.locator('figure svg[aria-label^="Xếp hạng"]').isVisible(), "a ranking of the communes");
    // Over months instead: one line per row, the months as columns.
    await page.getByLabel("Gồm").selectOption("area");
    await page.getByLabel("Từ tháng").fill(`${Number(period.slice(0, 4)) - 1}-${period.slice(4)}`);
    await page.getByLabel("Dòng").selectOption("indicator");
    await page.locator('select[name="cols"]').selectOption("period");
    await page.getByRole("button", { name: "Xem" }).click();
    await page.locator('figure svg[aria-label="Giá trị theo kỳ"]').waitFor();
    assert.equal(await page.locator("#pivot tbody tr").count(), 2);
    assert.equal(await page.locator("#pivot thead th").count(), 14, "a corner and thirteen months");
    // In columns, each month beside the same month a year before and the change.
    await page.getByLabel("Biểu đồ").selectOption("column");
    await page.getByLabel("So với cùng kỳ năm trước").check();
    await page.getByRole("button", { name: "Xem" }).click();
    await page.locator('figure svg[aria-label^="Cột:"]').waitFor();
    assert.equal(await page.locator("#pivot thead th").count(), 1 + 13 * 3, "each month, a year before, the change");
    const [download] = await Promise.all([
      page.waitForEvent("download"),
      page.getByRole("link", { name: "Tải biểu đồ (SVG)" }).click(),
    ]);
    assert.match(download.suggestedFilename(), /\.svg$/);
    // The same chart as a picture, painted by the browser at twice its size.
    const [picture] = await Promise.all([
      page.waitForEvent("download"),
      page.getByRole("link", { name: "Tải biểu đồ (PNG)" }).click(),
    ]);
    assert.match(picture.suggestedFilename(), /\.png$/);
    const png = await readFile(await picture.path());
    assert.equal(png.subarray(1, 4).toString(), "PNG", "a PNG file");
    assert.ok(png.readUInt32BE(16) >= 1000, `twice the chart's width, not ${png.readUInt32BE(16)} px`);
    // The table itself, as arranged: a workbook.
    const [sheet] = await Promise.all([
      page.waitForEvent("download"),
      page.getByRole("link", { name: "Tải bảng tính (XLSX)" }).click(),
    ]);
    assert.match(sheet.suggestedFilename(), /^phan-tich-.+\.xlsx$/);
    assert.equal((await readFile(await sheet.path())).subarray(0, 2).toString(), "PK", "a workbook (a zip)");
    await signOut(page);
  });
});

test("the province's dashboard opens on its approvers' home page; a leader shares one over a commune", async () => {
  await as("dashboard", async (page) => {
    await signIn(page, "pheduyet.tinh");
    const home = page.locator("#home-dashboard");
    assert.match(await home.locator("h2").first().innerText(), /Bảng điều hành của tỉnh/);
    // The views come after the page, each on its own request.
    await home.locator('svg[aria-label="Giá trị theo kỳ"]').waitFor();
    await home.locator("table.quality-part").waitFor();
    assert.equal(await home.locator("table.pivot").first().locator("thead th").count(), 13, "a corner and 12 months");
    assert.ok(await home.locator("table.quality-part").isVisible(), "the units of lowest data quality");
    // A ranking of the province's communes last month, kept as a favourite.
    await page.getByRole("link", { name: "Phân tích", exact: true }).click();
    await page.getByLabel("Chỉ tiêu (chọn một hay nhiều)").selectOption(["TY_LE_TOAN_TRINH"]);
    await page.getByLabel("Địa bàn (gõ tên không dấu hoặc mã)").fill("51");
    await page.getByLabel("Khoảng thời gian").selectOption("last_month");
    await page.getByRole("button", { name: "Xem" }).click();
    await page.waitForURL(/span=last_month/);
    await page.getByLabel("Lưu bảng này vào mục yêu thích với tên").fill("Tỷ lệ toàn trình các xã");
    await page.getByRole("button", { name: "Lưu", exact: true }).click();
    await page.waitForURL(/\/dashboards\?saved=1/);
    const saved = page.locator("#favourites").getByRole("link", { name: "Tỷ lệ toàn trình các xã" });
    assert.ok(await saved.isVisible());
    // On a dashboard shared with the approvers of Xã Ngọk Bay.
    await page.getByLabel("Tên", { exact: true }).fill("Theo dõi xã");
    await page.getByLabel("Chia sẻ với vai trò").selectOption("approver");
    await page.getByLabel(/^và đơn vị/).fill("23317");
    await page.getByRole("button", { name: "Lưu bảng điều hành" }).click();
    await page.waitForURL(/\/dashboards\/\d+$/);
    assert.ok((await page.locator("table.pivot tbody tr").count()) > 50, "the province's communes");
    await signOut(page);
    // The commune's leader opens it: their commune alone, and told why.
    await signIn(page, "lanhdao.ngokbay");
    await page.getByRole("link", { name: "Bảng điều hành", exact: true }).click();
    await page.locator("#shared-dashboards").getByRole("link", { name: "Theo dõi xã" }).click();
    await page.waitForURL(/\/dashboards\/\d+$/);
    assert.match(await page.locator(".note").innerText(), /Ngọk Bay/);
    const rows = page.locator("table.pivot tbody tr");
    assert.equal(await rows.count(), 1);
    assert.match(await rows.first().locator("th").innerText(), /Ngọk Bay/);
    // The whole dashboard leaves as one workbook, a sheet for each view.
    const [book] = await Promise.all([
      page.waitForEvent("download"),
      page.getByRole("link", { name: /^Tải bảng tính \(XLSX\)/ }).click(),
    ]);
    assert.match(book.suggestedFilename(), /^bang-dieu-hanh-\d+\.xlsx$/);
    assert.equal((await readFile(await book.path())).subarray(0, 2).toString(), "PK", "a workbook (a zip)");
    // And prints as one official document under the commune's letterhead.
    const print = await page.getByRole("link", { name: "Bản in", exact: true }).getAttribute("href");
    const printed = await (await page.request.get(`${base}${print}`)).text();
    assert.match(printed, /BẢNG ĐIỀU HÀNH: THEO DÕI XÃ/);
    assert.match(printed, /XÃ NGỌK BAY/);
    await signOut(page);
  });
});

test("the approver works through the data quality of the last month: marks a value, then resolves it", async () => {
  await as("quality", async (page) => {
    await signIn(page, "pheduyet.tinh");
    await page.getByRole("link", { name: "Chất lượng", exact: true }).click();
    await page.getByLabel("Chế độ báo cáo").selectOption("BC_THANG_TTHC");
    await page.getByRole("button", { name: "Xem" }).click();
    await page.waitForURL(/\/quality\?regime=BC_THANG_TTHC/);
    assert.ok((await page.locator("#quality-units tbody tr").count()) > 50, "every commune of the province");
    assert.match(await page.locator("#method").innerText(), /điểm z hiệu chỉnh/);
    // The demo's months always hold a few values far from their commune's history.
    const form = page.locator("form.follow-up-form").first();
    assert.ok(await form.isVisible(), "a value to look at");
    await form.getByLabel("Lý do").fill("Đề nghị xã kiểm tra lại số liệu");
    await form.getByRole("button", { name: "Cần xác minh" }).click();
    await page.waitForURL(/#findings$/);
    assert.equal(await page.locator("#open-follow-ups").innerText(), "1");
    const marked = page.locator("form.follow-up-form", { has: page.getByRole("button", { name: "Đã xác minh" }) });
    await marked.getByLabel("Kết quả xác minh").fill("Xã xác nhận số liệu đúng");
    await marked.getByRole("button", { name: "Đã xác minh" }).click();
    // The same address again: wait for what the answer says.
    await page.getByText("Đã xác minh (pheduyet.tinh): Xã xác nhận số liệu đúng").waitFor();
    assert.equal(await page.locator("#open-follow-ups").innerText(), "0");
    // The findings leave the page as a workbook.
    const [sheet] = await Promise.all([
      page.waitForEvent("download"),
      page.getByRole("link", { name: "Tải bảng tính (XLSX)" }).click(),
    ]);
    assert.match(sheet.suggestedFilename(), /^chat-luong-BC_THANG_TTHC-.+\.xlsx$/);
    assert.equal((await readFile(await sheet.path())).subarray(0, 2).toString(), "PK", "a workbook (a zip)");
    await signOut(page);
  });
});

test("another commune's officer can neither open nor fetch the report", async () => {
  assert.ok(reportPath, "the officer's test ran first");
  await as("other-commune", async (page) => {
    await signIn(page, "nhaplieu.sathay");
    const response = await page.goto(`${base}${reportPath}`);
    assert.equal(response.status(), 403);
    const [, , regime, unit, period] = reportPath.split("/");
    const api = await page.request.get(`${base}/api/v1/reports?regime=${regime}&unit=${unit}&period=${period}`);
    assert.equal(api.status(), 403);
  });
});

test("the plan's follow-up shows late tasks first and the target against the reports", async () => {
  await as("plans", async (page) => {
    await signIn(page, "pheduyet.tinh");
    await page.getByRole("link", { name: "Kế hoạch" }).click();
    await page.waitForURL(`${base}/tasks`);
    assert.match(await page.locator(".summary").innerText(), /2 nhiệm vụ quá hạn/);
    const first = page.locator("table.tasks tbody tr").first();
    assert.match(await first.getAttribute("class"), /late/);
    assert.match(await first.innerText(), /quá hạn/);
    const target = page.locator("tr", { hasText: "Tỷ lệ hồ sơ trực tuyến toàn trình" }).first();
    assert.match(await target.innerText(), /≥ 60,0%/);
    assert.match(await target.innerText(), /\t\d+,\d% trong kỳ/, "the month's share, in Vietnamese notation");
    const yearSoFar = page.locator("tr", { hasText: "lũy kế năm" });
    assert.match(await yearSoFar.innerText(), /\t\d+,\d% lũy kế từ đầu năm/, "the year so far");
    await signOut(page);
  });
});

/** The month whose data window (Decree 09: the 15th to the 14th) is open today in Vietnam. */
function openMonth() {
  const now = new Date(Date.now() + 7 * 3600 * 1000);
  let [year, month] = [now.getUTCFullYear(), now.getUTCMonth() + 1];
  if (now.getUTCDate() >= 15) [year, month] = month === 12 ? [year + 1, 1] : [year, month + 1];
  return `${year}${String(month).padStart(2, "0")}`;
}

test("the approved report goes up to the national instance, and its signed PDF checks out", async () => {
  assert.ok(reportPath, "the approver's test ran first");
  assert.ok(national, "the demo said where its national instance is");
  const [, , , unit, period] = reportPath.split("/");
  await as("national", async (page) => {
    await signIn(page, "pheduyet.tinh");
    await page.goto(`${base}${reportPath}`);
    const href = await page.getByRole("link", { name: "Báo cáo đã ký số (PDF)" }).getAttribute("href");
    const pdf = await page.request.get(new URL(href, base).href);
    assert.equal(pdf.headers()["content-type"], "application/pdf");
    const bytes = await pdf.body();
    assert.equal(bytes.subarray(0, 5).toString(), "%PDF-");
    // Anyone checks a signed PDF on «Kiểm tra chữ ký số»: this one holds.
    await page.getByRole("navigation", { name: "Chức năng" }).getByRole("link", { name: "Kiểm tra chữ ký số" }).click();
    await page.getByLabel("Tệp PDF").setInputFiles({ name: "bao-cao-da-ky.pdf", mimeType: "application/pdf", buffer: bytes });
    await page.getByRole("button", { name: "Kiểm tra" }).click();
    await page.locator("#signatures tr.valid").waitFor();
    assert.match(await page.locator("#signatures").innerText(), /UBND tỉnh \(demo baocao\)/);
    // One byte changed after signing: the same page says it does not hold.
    const forged = Buffer.from(bytes);
    forged[forged.indexOf("stream") + 20] ^= 1;
    await page.getByLabel("Tệp PDF").setInputFiles({ name: "bi-sua.pdf", mimeType: "application/pdf", buffer: forged });
    await page.getByRole("button", { name: "Kiểm tra" }).click();
    await page.locator("#signatures tr.invalid").waitFor();
    await signOut(page);

    // At the centre, the reader sees the commune's figure as approved.
    await page.goto(`${national}/login`);
    await page.getByLabel("Tên đăng nhập").fill("quocgia");
    await page.getByLabel("Mật khẩu").fill(PASSWORD);
    await page.getByRole("button", { name: "Đăng nhập" }).click();
    await page.waitForURL(`${national}/`);
    for (let tries = 0; ; tries++) {
      const answer = await page.request.get(`${national}/api/v1/dataValueSets?period=${period}&orgUnit=${unit}`);
      const received = (await answer.json()).dataValues.find((v) => v.dataElement === "HS_TIEP_NHAN");
      if (received) {
        assert.equal(received.value, "100");
        break;
      }
      assert.ok(tries < 60, "the approved report reached the national instance");
      await page.waitForTimeout(500);
    }
  });
});

test("the dossiers arrive from the procedure system's feed: marked, read-only and traced to their record", async () => {
  await as("feed", async (page) => {
    await signIn(page, "quantri");
    // The demo's feed is fetched as serve starts; its run is listed.
    const feed = page.locator('#feeds tr[data-code="dvc"]');
    for (let tries = 0; ; tries++) {
      await page.goto(`${base}/admin/feeds`);
      if (/đã lấy/.test(await feed.innerText())) break;
      assert.ok(tries < 30, "the demo feed was fetched");
      await page.waitForTimeout(1000);
    }
    const run = page.locator("#feed-runs tbody tr").first();
    await run.getByText("Bản ghi bị từ chối").click();
    await run.locator("code", { hasText: "DVC-00001-" }).waitFor();

    // A commune the feed fills: found through where the province's figure comes from.
    const month = openMonth();
    const origin = await page.request.get(`${base}/api/v1/values/origin?indicator=HS_TIEP_NHAN&unit=51&period=${month}`);
    const pulled = (await origin.json()).sources.find((s) => s.origin.kind === "pulled");
    assert.ok(pulled, "the province's figure holds pulled values");
    await page.goto(`${base}/reports/${REGIME}/${pulled.unit}/${month}`);
    const row = page.locator("table.report tbody tr", { hasText: "tiếp nhận" });
    const input = row.locator('input[name="v:HS_TIEP_NHAN"]');
    if ((await input.count()) > 0) assert.equal(await input.getAttribute("readonly"), "", "a pulled value is not typed over");
    await row.locator("a.badge.pulled", { hasText: "tự động" }).click();
    await page.locator("#origins", { hasText: "Lấy tự động từ Hệ thống giải quyết TTHC" }).waitFor();
    assert.match(await page.locator("#origins").innerText(), new RegExp(`bản ghi gốc DVC-${pulled.unit}-${month}`));
    await signOut(page);
  });
});

test("an administrator sets a new password and closes and opens an account again", async () => {
  const NEW = "mat-khau-moi-cua-ngokbay";
  await as("accounts", async (page) => {
    await signIn(page, "quantri");
    await page.getByRole("link", { name: "Tài khoản" }).click();
    await page.waitForURL(`${base}/admin/accounts`);
    // Found by name without diacritics.
    await page.getByLabel("Tìm tài khoản").fill("can bo sa thay");
    await page.getByRole("button", { name: "Lọc" }).click();
    await page.waitForURL(/q=can\+bo\+sa\+thay/);
    assert.deepEqual(await page.locator("#accounts tbody td.code").allInnerTexts(), ["nhaplieu.sathay"]);
    const form = page.locator('form[action="/admin/accounts/password"]');
    await form.getByLabel("Tên đăng nhập").fill("nhaplieu.sathay");
    await form.getByLabel("Mật khẩu mới").fill(NEW);
    await form.getByRole("button", { name: "Đặt mật khẩu" }).click();
    await page.locator('[role="status"]', { hasText: "Đã đặt mật khẩu mới cho nhaplieu.sathay" }).waitFor();
    const row = page.locator("tbody tr", { has: page.locator("td.code", { hasText: /^nhaplieu\.sathay/ }) });
    await row.getByRole("button", { name: "Khóa" }).click();
    await page.locator('[role="status"]', { hasText: "Đã khóa tài khoản nhaplieu.sathay" }).waitFor();
    assert.match(await row.innerText(), /đã khóa/);
    await row.getByRole("button", { name: "Mở lại" }).click();
    await page.locator('[role="status"]', { hasText: "Đã mở lại tài khoản nhaplieu.sathay" }).waitFor();
    await signOut(page);
  });
  await as("new-password", async (page) => {
    // Waits out the address's limit of sign-ins a minute, as a person would.
    await signInWith(page, "nhaplieu.sathay", NEW);
  });
});

test("an account made by the account plan activates itself from its mail; a forgotten password is reset", async () => {
  const FIRST = "ngua vang qua cau tre";
  const SECOND = "song da chay ve xuoi";
  let account;
  await as("activation-mail", async (page) => {
    await signIn(page, "quantri");
    account = await mailedLink(page, "Kích hoạt tài khoản", "/activate");
    assert.match(await page.locator("#no-server").innerText(), /Chưa cấu hình máy chủ thư/);
    await signOut(page);
  });
  await as("activation", async (page) => {
    await page.goto(account.link);
    await page.getByLabel("Mật khẩu mới", { exact: true }).fill("aaaaaaaaaa");
    await page.getByLabel("Nhập lại mật khẩu mới").fill("aaaaaaaaaa");
    await page.getByRole("button", { name: "Đặt mật khẩu" }).click();
    assert.match(await page.locator('[role="alert"]').innerText(), /lặp lại ký tự/);
    await page.getByLabel("Mật khẩu mới", { exact: true }).fill(FIRST);
    await page.getByLabel("Nhập lại mật khẩu mới").fill(FIRST);
    await page.getByRole("button", { name: "Đặt mật khẩu" }).click();
    await page.waitForURL(/\/login\?done=activation/);
    assert.match(await page.locator('.notice[role="status"]').innerText(), /Tài khoản đã được kích hoạt/);
    await signInWith(page, account.to, FIRST);
    await signOut(page);
    // Forgotten: «Quên mật khẩu?» answers the same whoever is named.
    await page.getByRole("link", { name: "Quên mật khẩu?" }).click();
    await page.getByLabel("Tên đăng nhập hoặc địa chỉ thư công vụ").fill(account.to);
    await page.getByRole("button", { name: "Gửi liên kết đặt lại mật khẩu" }).click();
    assert.match(await page.locator("#sent").innerText(), /Nếu tên đăng nhập hoặc địa chỉ thư này thuộc một tài khoản/);
  });
  await as("reset-mail", async (page) => {
    await signIn(page, "quantri");
    account = await mailedLink(page, "Đặt lại mật khẩu", "/reset", account.to);
    await signOut(page);
  });
  await as("reset", async (page) => {
    await page.goto(account.link);
    await page.getByLabel("Mật khẩu mới", { exact: true }).fill(SECOND);
    await page.getByLabel("Nhập lại mật khẩu mới").fill(SECOND);
    await page.getByRole("button", { name: "Đặt mật khẩu" }).click();
    await page.waitForURL(/\/login\?done=reset/);
    await signInWith(page, account.to, SECOND);
  });
});

/** The RFC 6238 code (SHA-1, 6 digits, 30 s) of a base32 `secret` at `unixSeconds`. */
function totp(secret, unixSeconds) {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let bits = "";
  for (const c of secret.replace(/=+$/, "")) bits += alphabet.indexOf(c).toString(2).padStart(5, "0");
  const key = Buffer.from(bits.match(/.{8}/g).map((b) => parseInt(b, 2)));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(unixSeconds / 30)));
  const mac = createHmac("sha1", key).update(counter).digest();
  const at = mac[mac.length - 1] & 0xf;
  return String((mac.readUInt32BE(at) & 0x7fffffff) % 1000000).padStart(6, "0");
}

test("an official turns on two-factor sign-in and signs in with a code from the app", async () => {
  await as("second-factor", async (page) => {
    await signInWith(page, "nhaplieu.sathay", "mat-khau-moi-cua-ngokbay");
    // The name in the header leads to the account's security page.
    await page.locator('form.whoami a[href="/account/security"]').click();
    await page.waitForURL(`${base}/account/security`);
    assert.equal(await page.locator(".qr svg").count(), 1, "a QR code to scan");
    const secret = (await page.locator("#secret").innerText()).trim();
    await page.getByLabel("Mã xác thực").fill("000000");
    await page.getByRole("button", { name: "Bật xác thực hai bước" }).click();
    assert.match(await page.locator('[role="alert"]').innerText(), /Mã xác thực không đúng/);
    await page.getByLabel("Mã xác thực").fill(totp(secret, Date.now() / 1000));
    await page.getByRole("button", { name: "Bật xác thực hai bước" }).click();
    assert.equal(await page.locator("#recovery li").count(), 10, "ten recovery codes, shown once");
    await page.goto(`${base}/`);
    await signOut(page);
    await signInWith(page, "nhaplieu.sathay", "mat-khau-moi-cua-ngokbay", /\/login\/code/);
    // The code just used is spent: the next one, as a phone a step ahead shows it.
    await page.getByLabel("Mã xác thực").fill(totp(secret, Date.now() / 1000 + 30));
    await page.getByRole("button", { name: "Xác nhận" }).click();
    await page.waitForURL(`${base}/`);
  });
});

/** A day `offset` days from today in Vietnam (UTC+7), as dd/mm/yyyy. */
function vnDay(offset) {
  const d = new Date(Date.now() + 7 * 3600 * 1000 + offset * 86400 * 1000);
  const two = (n) => String(n).padStart(2, "0");
  return `${two(d.getUTCDate())}/${two(d.getUTCMonth() + 1)}/${d.getUTCFullYear()}`;
}

test("the province sends an ad-hoc request; a commune answers it; it is extended and closed", async () => {
  let code;
  await as("request-send", async (page) => {
    await signIn(page, "quantri");
    await page.getByRole("link", { name: "Đề nghị báo cáo" }).click();
    await page.waitForURL(`${base}/requests`);
    const form = page.locator("form#send");
    await form.getByLabel("Nội dung đề nghị").fill("Báo cáo nhanh thiệt hại do mưa lũ");
    await form.getByLabel("Căn cứ").fill("Công điện số 12/CĐ-UBND (thử nghiệm)");
    await form.getByLabel("Kỳ số liệu").fill(vnDay(-2));
    await form.getByLabel("Hạn gửi").fill(vnDay(5));
    // Units are found by name without diacritics; a choice becomes a line.
    const picker = form.getByLabel(/Tìm đơn vị/);
    for (const name of ["ngok bay", "sa thay"]) {
      const option = page.locator(`#unit-list option[label$=" · xa ${name}"]`);
      await picker.fill(await option.getAttribute("value"));
      await picker.dispatchEvent("change");
    }
    assert.equal(await picker.inputValue(), "", "the picker is cleared for the next unit");
    assert.match(await form.getByLabel(/Đơn vị nhận/).inputValue(), /^23317 Xã Ngọk Bay\n\d+ Xã Sa Thầy\n$/);
    await form.getByRole("button", { name: "Gửi đề nghị" }).click();
    const notice = await page.locator('[role="status"]', { hasText: "Đã gửi đề nghị báo cáo" }).innerText();
    code = notice.match(/(DX-\d{4}-\d{3})/)[1];
    const row = page.locator("table.requests tbody tr", { hasText: code });
    assert.match(await row.innerText(), /Đang mở[\s\S]*0\/2/);
    await as("request-answer", (officer) => answer(officer, code));
    await follow(page, code);
    await signOut(page);
  });
});

/** The officer of Xã Ngọk Bay finds request `code` among its tasks and answers it. */
async function answer(page, code) {
  await signIn(page, "nhaplieu.ngokbay");
  const task = page.locator("table.tasks tr", { hasText: code });
  assert.match(await task.innerText(), /Đề nghị báo cáo đột xuất/);
  await task.getByRole("link", { name: "Mở báo cáo" }).click();
  await page.waitForURL(new RegExp(`/reports/${code}/23317/`));
  assert.match(await page.locator("#request").innerText(), /Công điện số 12\/CĐ-UBND/);
  await page.locator('input[name="v:HS_TIEP_NHAN"]').fill("12");
  await page.locator('input[name="v:HS_DUNG_HAN"]').fill("10");
  await page.locator('input[name="v:HS_TRUC_TUYEN_TOAN_TRINH"]').fill("4");
  await page.locator('input[name="v:VB_DIEN_TU"]').fill("30");
  await page.getByLabel("Chức vụ").fill("Chủ tịch");
  await page.getByRole("button", { name: "Gửi báo cáo" }).click();
  await page.locator('[role="status"]', { hasText: "Đã gửi báo cáo" }).waitFor();
  // The officer's list shows its own commune only.
  await page.getByRole("link", { name: "Đề nghị báo cáo" }).click();
  assert.match(await page.locator("table.requests tbody tr", { hasText: code }).innerText(), /1\/1/);
  await signOut(page);
}

/** Whoever sent request `code` follows it, extends it and closes it. */
async function follow(page, code) {
  await page.goto(`${base}/requests`);
  let row = page.locator("table.requests tbody tr", { hasText: code });
  assert.match(await row.innerText(), /1\/2/);
  await row.getByRole("link", { name: "Tiến độ" }).click();
  await page.waitForURL(/\/completeness\?/);
  assert.match(await page.locator("body").innerText(), /Xã Sa Thầy/);
  await page.goto(`${base}/requests`);
  row = page.locator("table.requests tbody tr", { hasText: code });
  await row.locator("summary").click();
  await row.getByLabel("Hạn mới").fill(vnDay(9));
  await row.getByRole("button", { name: "Gia hạn" }).click();
  await page.locator('[role="status"]', { hasText: `Đã cập nhật đề nghị báo cáo ${code}` }).waitFor();
  row = page.locator("table.requests tbody tr", { hasText: code });
  assert.match(await row.innerText(), new RegExp(`${vnDay(9)} \\(gia hạn từ ${vnDay(5)}\\)`));
  await row.locator("summary").click();
  await row.getByRole("button", { name: "Kết thúc đề nghị" }).click();
  await page.locator('[role="status"]', { hasText: `Đã cập nhật đề nghị báo cáo ${code}` }).waitFor();
  assert.match(await page.locator("table.requests tbody tr", { hasText: code }).innerText(), /Đã kết thúc/);
}

test("an administrator writes a regime, its units and periods previewed as it is typed", async () => {
  await as("regime-editor", async (page) => {
    await signIn(page, "quantri");
    await page.getByRole("link", { name: "Chế độ báo cáo" }).click();
    await page.getByRole("link", { name: "+ Soạn chế độ báo cáo mới" }).click();
    await page.waitForURL(`${base}/regimes/editor`);
    const definition = page.getByLabel("Định nghĩa chế độ báo cáo (TOML)");
    const text = (await definition.inputValue())
      .replace('code = "BC_MOI"', 'code = "BC_QUY_THU"')
      .replace('periodicity = "monthly"', 'periodicity = "quarterly"');
    await definition.fill(text);
    // The preview follows the typing (htmx): the quarter's communes.
    await page.locator("#resolved", { hasText: /^Quý [IV]+\/\d{4}: \d+ đơn vị báo cáo/ }).waitFor();
    await definition.fill(text.replace('form = "BM01"', 'form = "KHONG_CO"'));
    await page.locator("#preview .error", { hasText: "Không có biểu mẫu «KHONG_CO»" }).waitFor();
    await definition.fill(text);
    await page.locator("#resolved").waitFor();
    await page.getByRole("button", { name: "Lưu chế độ báo cáo" }).click();
    await page.locator('[role="status"]', { hasText: "Đã lưu chế độ báo cáo BC_QUY_THU" }).waitFor();
    assert.match(await page.locator("tr", { hasText: "BC_QUY_THU" }).first().innerText(), /quý/);
    await signOut(page);
  });
});

test("every page of the office fits a phone's width: wide tables scroll on their own", async () => {
  await as(
    "phone",
    async (page) => {
      await signIn(page, "quantri");
      const paths = ["/", "/reports", "/review", "/completeness", "/requests", "/output", "/compare", "/analysis", "/dashboards", "/quality", "/units",
        "/indicators", "/forms", "/regimes", "/regimes/editor", "/admin/accounts", "/admin/outbox", "/account/security", "/roster", "/accounts/plan",
        "/tasks", "/archive", "/offline", "/audit"];
      const wide = [];
      for (const path of paths) {
        await page.goto(base + path);
        const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
        if (overflow > 0) wide.push(`${path}: ${overflow}px`);
      }
      assert.deepEqual(wide, [], "pages wider than the phone");
      await signOut(page);
    },
    { viewport: { width: 360, height: 740 }, isMobile: true, hasTouch: true },
  );
});

test("a department reports on its own regime: its director approves, then the provincial office", async () => {
  let reportUrl;
  await as("department-officer", async (page) => {
    await signIn(page, "nhaplieu.sotuphap");
    const task = page.locator("table.tasks tr", { hasText: "Sở Tư pháp" }).filter({ hasText: "Cần nhập và gửi" }).first();
    await task.getByRole("link", { name: "Mở báo cáo" }).click();
    await page.waitForURL(/\/reports\/BC_SO_TTHC\/H51\.S02\//);
    reportUrl = page.url();
    await page.locator('input[name="v:HS_TIEP_NHAN"]').fill("320");
    await page.locator('input[name="v:HS_DUNG_HAN"]').fill("300");
    await page.locator('input[name="v:HS_TRUC_TUYEN_TOAN_TRINH"]').fill("150");
    await page.locator('input[name="v:VB_DIEN_TU"]').fill("900");
    await page.getByLabel("Chức vụ").fill("Giám đốc");
    await page.getByRole("button", { name: "Gửi báo cáo" }).click();
    await page.locator('[role="status"]', { hasText: "Đã gửi báo cáo" }).waitFor();
    assert.match(await page.locator("#status").innerText(), /chờ Lãnh đạo sở duyệt \(cấp 1\/2\)/);
    await signOut(page);
  });
  for (const [who, standing] of [["lanhdao.sotuphap", /chờ Văn phòng UBND tỉnh duyệt \(cấp 2\/2\)/], ["pheduyet.tinh", /^Đã duyệt$/]]) {
    await as(`department-${who}`, async (page) => {
      await signIn(page, who);
      await page.goto(reportUrl);
      await page.getByRole("button", { name: "Phê duyệt", exact: true }).click();
      await page.locator('[role="status"]', { hasText: "Đã phê duyệt" }).waitFor();
      assert.match(await page.locator("#status").innerText(), standing);
      await signOut(page);
    });
  }
});

/** Ngọk Bay's report of `period` sent from a desk, then returned by the province's approver. */
async function sentAndReturned(period) {
  await as("meanwhile", async (desk) => {
    await signIn(desk, "nhaplieu.ngokbay");
    await desk.goto(`${base}/reports/${REGIME}/23317/${period}`);
    for (const [code, value] of [["HS_TIEP_NHAN", "50"], ["HS_DUNG_HAN", "45"], ["HS_TRUC_TUYEN_TOAN_TRINH", "20"], ["VB_DIEN_TU", "300"]]) {
      await desk.locator(`input[name="v:${code}"]`).fill(value);
    }
    await desk.getByLabel("Chức vụ").fill("Chủ tịch");
    await desk.getByRole("button", { name: "Gửi báo cáo" }).click();
    await desk.locator('[role="status"]', { hasText: "Đã gửi báo cáo" }).waitFor();
    await signOut(desk);
    await signIn(desk, "pheduyet.tinh");
    await desk.goto(`${base}/reports/${REGIME}/23317/${period}`);
    await desk.getByLabel("Lý do trả lại").fill("Kiểm tra lại số hồ sơ tiếp nhận");
    await desk.getByRole("button", { name: "Trả lại" }).click();
    await desk.locator('[role="status"]', { hasText: "Đã trả lại báo cáo" }).waitFor();
    await signOut(desk);
  });
}

test("a commune officer enters a report on a phone: a field per indicator, checked as typed, under 100 KB", async () => {
  await as(
    "phone-entry",
    async (page) => {
      await signIn(page, "nhaplieu.ngokbay");
      const task = page.locator("table.tasks tr", { hasText: "Cần nhập và gửi" }).first();
      const href = await task.getByRole("link", { name: "Mở báo cáo" }).getAttribute("href");
      // The first visit as a phone makes it: nothing kept from the sign-in.
      const cdp = await page.context().newCDPSession(page);
      await cdp.send("Network.clearBrowserCache");
      const sizes = [];
      page.on("requestfinished", (r) => sizes.push(r.sizes().then((s) => s.responseBodySize + s.responseHeadersSize)));
      await page.goto(base + href);
      await page.waitForLoadState("networkidle");
      const bytes = (await Promise.all(sizes)).reduce((a, b) => a + b, 0);
      assert.ok(bytes < 100 * 1024, `the report page and all it loads weigh ${bytes} bytes over the wire`);

      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      assert.ok(overflow <= 0, `the report page is ${overflow}px wider than the phone`);
      const input = page.locator('input[name="v:HS_TIEP_NHAN"]');
      const box = await input.boundingBox();
      assert.ok(box.x >= 0 && box.x + box.width <= 360, `the field is on the screen: ${JSON.stringify(box)}`);
      // Each field says its column, the table's heading being hidden.
      const said = await input.locator("xpath=..").evaluate((td) => getComputedStyle(td, "::before").content);
      assert.match(said, /Thực hiện kỳ này/);
      // The same rules as on a desk, as the officer types.
      await input.fill("10");
      await page.locator('input[name="v:HS_DUNG_HAN"]').fill("20");
      await page.locator('input[name="v:HS_DUNG_HAN"]').press("Tab");
      await page.locator("#checks .error", { hasText: "«Số hồ sơ giải quyết đúng hạn» (HS_DUNG_HAN), cột «Thực hiện kỳ này»: 20 lớn hơn tổng 10" }).waitFor();
      await signOut(page);
    },
    { viewport: { width: 360, height: 740 }, isMobile: true, hasTouch: true, serviceWorkers: "block" },
  );
});

test("an officer enters a report offline, reloads, sends when back online and settles the approver's return", async () => {
  await as("offline", async (page) => {
    const context = page.context();
    await signIn(page, "nhaplieu.ngokbay");
    // The worker installed by the first page keeps the offline page.
    await page.evaluate(() => navigator.serviceWorker.ready.then(() => true));
    await page.goto(`${base}/offline`);
    await page.locator("#account", { hasText: /Đã tải \d+ báo cáo/ }).waitFor();
    const item = page.locator(`#list li[data-regime="${REGIME}"]`).first();
    const period = await item.getAttribute("data-period");
    const chosen = page.locator(`#list li[data-regime="${REGIME}"][data-period="${period}"] button`);

    await context.setOffline(true);
    const reloaded = await page.reload();
    assert.ok(reloaded.fromServiceWorker(), "offline, the page comes from the device");
    await page.locator("#network", { hasText: "Không có mạng" }).waitFor();
    await chosen.click();
    await page.locator("#offline-history").waitFor();
    await page.locator("#offline-HS_TIEP_NHAN").fill("100");
    await page.locator("#offline-HS_DUNG_HAN").fill("120");
    // The form's rules, checked on the device in the server's words.
    await page.locator("#field-HS_DUNG_HAN .error", { hasText: "lớn hơn tổng 100" }).waitFor();
    await page.locator("#offline-HS_DUNG_HAN").fill("90");
    await page.locator("#offline-HS_TRUC_TUYEN_TOAN_TRINH").fill("40");
    await page.locator("#offline-VB_DIEN_TU").fill("1.250");
    await page.locator("#offline-position").fill("Chủ tịch");
    assert.equal(await page.locator("#entry .error").count(), 0);
    await page.getByRole("button", { name: "Gửi báo cáo" }).click();
    await page.locator("#offline-saved", { hasText: "chưa gửi" }).waitFor();
    // Kept on the device across a reload without the network.
    await page.reload();
    await page.locator("#pending li", { hasText: "Gửi báo cáo" }).locator(".badge", { hasText: "Chờ gửi" }).waitFor();

    // Meanwhile the report is sent from a desk and returned by the approver.
    await sentAndReturned(period);

    await context.setOffline(false);
    const conflict = page.locator("#pending div.conflict");
    await conflict.waitFor();
    assert.match(await conflict.innerText(), /Báo cáo đã thay đổi/);
    const row = conflict.locator("tr", { hasText: "tiếp nhận" }).first();
    assert.deepEqual(await row.locator("td.num").allInnerTexts(), ["100", "50"]);
    await conflict.getByRole("button", { name: "Dùng bản trên thiết bị" }).click();
    await page.locator("#pending li").waitFor({ state: "detached" });

    // On the server: the device's figures, sent once, after the return.
    const answer = await page.request.get(`${base}/api/v1/reports?regime=${REGIME}&unit=23317&period=${period}`);
    const report = await answer.json();
    assert.equal(report.status, "submitted");
    const received = report.rows.find((r) => r.indicator === "HS_TIEP_NHAN");
    assert.equal(received.cells.this_period, 100);
    assert.deepEqual(report.revisions.slice(-3).map((r) => r.action), ["submit", "return", "submit"]);
    assert.equal(report.revisions.filter((r) => r.action === "submit").length, 2, "nothing applied twice");

    // Signed out, the device shows nobody's reports.
    await page.goto(`${base}/`);
    await signOut(page);
    await page.goto(`${base}/offline`);
    await page.locator("#account", { hasText: "Chưa đăng nhập" }).waitFor();
    assert.equal(await page.locator("#list li").count(), 0);
  });
});
