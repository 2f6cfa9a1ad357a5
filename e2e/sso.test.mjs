// Single sign-on with a real OpenID Provider (oidc-provider, e2e/oidc):
// an official signs in to `baocao serve --demo` through the province's
// provider (its login and consent screens), the account being found by
// the provider's verified address the first time and by its subject
// after; someone the provider knows but baocao does not is told so; an
// account whose own password is turned off signs in only through the
// provider. Drives Debian's chromium headless with playwright-core.
//
// BAOCAO_BIN: the binary (default ../target/debug/baocao).
// CHROMIUM: the browser (default /usr/bin/chromium).

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { createInterface } from "node:readline";
import { chromium } from "playwright-core";
import { startProvider, CLIENT_ID, CLIENT_SECRET, DOMAIN } from "./oidc/provider.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const bin = process.env.BAOCAO_BIN ?? join(here, "..", "target", "debug", "baocao");
const PASSWORD = "demo-baocao-2025";
const OFFICIAL = "canbo.sso";

let server, provider, browser, base, workdir, db;

/** A port of loopback free now, chosen by the system. */
function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

function baocao(...args) {
  return execFileSync(bin, ["--db", db, ...args], { env: { ...process.env, CI: "1" } }).toString();
}

before(async () => {
  workdir = mkdtempSync(join(tmpdir(), "baocao-sso-"));
  db = `sqlite:${join(workdir, "sso.db")}`;
  const port = await freePort();
  const issuer = `http://127.0.0.1:${port}`;
  const args = ["--db", db, "serve", "--demo", "--listen", "127.0.0.1:0", "--oidc-issuer", issuer];
  args.push("--oidc-client-id", CLIENT_ID, "--oidc-client-secret", CLIENT_SECRET, "--oidc-name", "tài khoản công vụ của tỉnh");
  server = spawn(bin, args, { cwd: workdir, env: { ...process.env, CI: "1", RUST_LOG: "warn" } });
  base = await new Promise((resolve, reject) => {
    const lines = createInterface({ input: server.stdout });
    lines.on("line", (line) => {
      const found = line.match(/serving on (http:\/\/\S+?)\/? /);
      if (found) resolve(found[1]);
    });
    server.on("exit", (code) => reject(new Error(`baocao serve exited with ${code}`)));
  });
  // baocao reads the provider's configuration when first needed: the
  // provider can start once baocao's address (its redirect URI) is known.
  provider = await startProvider(port, `${base}/login/sso/callback`);
  baocao("users", "add", OFFICIAL, "--name", "Cán bộ đăng nhập một lần", "--email", `${OFFICIAL}@${DOMAIN}`);
  baocao("users", "grant", OFFICIAL, "--role", "data_entry", "--unit", "23317");
  browser = await chromium.launch({ executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium" });
});

/** A browser context that reaches only this machine: the provider's
 * development screens import a web font from the internet, which a test
 * machine may not reach (and need not). */
async function localContext() {
  const context = await browser.newContext({ locale: "vi-VN" });
  await context.route(/^https?:\/\/(?!127\.0\.0\.1[:/])/, (route) => route.abort());
  return context;
}

after(async () => {
  await browser?.close();
  provider?.close();
  server?.kill();
  if (workdir) rmSync(workdir, { recursive: true, force: true });
});

/**
 * Signs in at the provider as `login` from baocao's sign-in page, through
 * whichever of the provider's screens it shows (its login, its consent;
 * none when the browser is signed in there already); the page then shows
 * baocao's answer.
 */
async function signInThroughProvider(page, login) {
  const origin = new URL(base).origin;
  const back = (u) => u.origin === origin && !["/login", "/login/sso"].includes(u.pathname);
  await page.goto(`${base}/login`);
  await page.getByRole("link", { name: "Đăng nhập bằng tài khoản công vụ của tỉnh" }).click();
  for (let screen = 0; ; screen++) {
    await page.waitForURL((u) => back(u) || u.origin !== origin);
    if (back(new URL(page.url()))) return;
    assert.ok(screen < 3, `still at the provider: ${page.url()}`);
    const before = page.url();
    if ((await page.locator('input[name="login"]').count()) > 0) {
      await page.locator('input[name="login"]').fill(login);
      await page.locator('input[name="password"]').fill("mat-khau-o-nha-cung-cap");
    }
    // The login's «Sign-in», or the consent's «Continue».
    await page.locator('button[type="submit"]').first().click();
    await page.waitForURL((u) => u.href !== before);
  }
}

test("an official signs in through the province's identity provider", async () => {
  const context = await localContext();
  const page = await context.newPage();
  await signInThroughProvider(page, OFFICIAL);
  assert.equal(new URL(page.url()).pathname, "/");
  assert.match(await page.locator("form.whoami").innerText(), /Cán bộ đăng nhập một lần/);
  // Signed out and in again: the account is now found by the provider's subject.
  await page.getByRole("button", { name: "Đăng xuất" }).click();
  await page.waitForURL(/\/login/);
  await signInThroughProvider(page, OFFICIAL);
  assert.match(await page.locator("form.whoami").innerText(), /Cán bộ đăng nhập một lần/);
  await context.close();
});

test("someone the provider knows but baocao does not is told so", async () => {
  const context = await localContext();
  const page = await context.newPage();
  await signInThroughProvider(page, "nguoi.la");
  assert.match(page.url(), /\/login\/sso\/callback/);
  assert.match(await page.locator('[role="alert"]').innerText(), /nguoi\.la@tinh-demo\.gov\.vn» chưa có tài khoản/);
  await context.close();
});

test("an account whose own password is turned off signs in only through the provider", async () => {
  const context = await localContext();
  const page = await context.newPage();
  // The demo's administrator turns the commune officer's password off.
  await page.goto(`${base}/login`);
  await page.getByLabel("Tên đăng nhập").fill("quantri");
  await page.getByLabel("Mật khẩu").fill(PASSWORD);
  await page.getByRole("button", { name: "Đăng nhập" }).click();
  await page.waitForURL(`${base}/`);
  await page.goto(`${base}/admin/accounts`);
  const form = page.locator('form[action="/admin/accounts/password-sign-in"]');
  await form.getByLabel("Tên đăng nhập").fill("nhaplieu.ngokbay");
  await form.getByRole("button", { name: "Lưu" }).click();
  await page.locator('[role="status"]', { hasText: "chỉ đăng nhập một lần" }).waitFor();
  await page.getByRole("button", { name: "Đăng xuất" }).click();
  await page.waitForURL(/\/login/);
  await page.getByLabel("Tên đăng nhập").fill("nhaplieu.ngokbay");
  await page.getByLabel("Mật khẩu").fill(PASSWORD);
  await page.getByRole("button", { name: "Đăng nhập" }).click();
  await page.locator('[role="alert"]').waitFor();
  assert.match(page.url(), /\/login/, "the password no longer signs in");
  await context.close();
});
