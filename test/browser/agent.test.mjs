// Real-browser test of the agent softphone (issue 6): headless Debian
// chromium with a fake microphone (a 600 Hz tone) signs in, goes available,
// takes two calls from `ivr call` (which plays a 1000 Hz tone and records
// what it hears) and checks audio both ways and hang-up from each side.
// Run by run.sh, which starts `ivr serve` and passes the environment below.
import { chromium } from "playwright-core";
import { spawn, execFileSync } from "node:child_process";
import { readFileSync, mkdirSync } from "node:fs";
import path from "node:path";

const env = (k) => { const v = process.env[k]; if (!v) throw new Error(`${k} not set`); return v; };
const BASE = env("BASE_URL"), IVR = env("IVR_BIN"), SIP = env("SIP_URI"), OUT = env("OUT_DIR");
const MIC = env("AGENT_WAV"), WORK = env("WORK_DIR"), DATA = env("DATA_DIR");
const AGENT = env("AGENT_NAME"), PASSWORD = env("AGENT_PASSWORD");
const AGENT_HZ = 600, CALLER_HZ = 1000;
mkdirSync(OUT, { recursive: true });

function log(...a) { console.log(new Date().toISOString().slice(11, 23), ...a); }
function fail(msg) { throw new Error(msg); }

// call runs `ivr call` with a script; it resolves with its JSON events.
function call(script, record) {
  const args = ["call", "--from", "+15550100", "--script", script, "--json", "--record", record, "--no-rtp-timeout", "20s", SIP];
  const p = spawn(IVR, args, { stdio: ["ignore", "pipe", "pipe"] });
  let out = "", err = "";
  p.stdout.on("data", (d) => { out += d; });
  p.stderr.on("data", (d) => { err += d; });
  return new Promise((resolve) => p.on("close", (code) => {
    const events = out.split("\n").filter(Boolean).map((l) => { try { return JSON.parse(l); } catch { return { raw: l }; } });
    resolve({ code, events, err });
  }));
}

// toneFrames counts 20 ms frames of a WAV (8 kHz mono 16-bit) where freq
// holds most of the frame's energy (Goertzel).
function toneFrames(file, freq) {
  const b = readFileSync(file);
  let off = 12, data = null, rate = 8000;
  while (off + 8 <= b.length) {
    const id = b.toString("ascii", off, off + 4), size = b.readUInt32LE(off + 4);
    if (id === "fmt ") rate = b.readUInt32LE(off + 12);
    if (id === "data") { data = b.subarray(off + 8, off + 8 + size); break; }
    off += 8 + size + (size & 1);
  }
  if (!data) fail(`${file}: no data chunk`);
  const n = rate / 50, k = 2 * Math.cos(2 * Math.PI * freq / rate);
  let hits = 0;
  for (let f = 0; (f + 1) * n * 2 <= data.length; f++) {
    let s1 = 0, s2 = 0, energy = 0;
    for (let i = 0; i < n; i++) {
      const x = data.readInt16LE((f * n + i) * 2) / 32768;
      energy += x * x;
      const s0 = x + k * s1 - s2; s2 = s1; s1 = s0;
    }
    const power = (s1 * s1 + s2 * s2 - k * s1 * s2) * 2 / n; // ≈ energy of the bin
    if (energy > n * 1e-4 && power / energy > 0.7) hits++;
  }
  return hits;
}

async function waitFor(page, fn, what, timeout = 15000, arg = null) {
  try { await page.waitForFunction(fn, arg, { timeout, polling: 100 }); }
  catch (e) {
    await page.screenshot({ path: path.join(OUT, "failure.png"), fullPage: true });
    const state = await page.evaluate(() => JSON.stringify(window.ivrTest)).catch(() => "?");
    fail(`waiting for ${what}: ${e.message}\npage test hook: ${state}`);
  }
}

const browser = await chromium.launch({
  executablePath: "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
    `--use-file-for-fake-audio-capture=${MIC}`, "--autoplay-policy=no-user-gesture-required",
    // Loopback only: let WebRTC use 127.0.0.1 (the leg takes loopback candidates only).
    "--allow-loopback-in-peer-connection"],
});
let ok = false;
try {
  // bypassCSP: waitForFunction polls with eval, which the pages' CSP forbids.
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 }, bypassCSP: true });
  const page = await ctx.newPage();
  page.on("console", (m) => { if (m.type() === "error" && !m.text().includes("favicon")) log("page console:", m.text()); });

  await page.goto(BASE + "/");
  if (!page.url().endsWith("/login")) fail(`signed-out / went to ${page.url()}`);
  await page.screenshot({ path: path.join(OUT, "login.png") });
  await page.fill("#username", AGENT);
  await page.fill("#password", PASSWORD);
  await Promise.all([page.waitForURL(BASE + "/"), page.click("#login")]);
  await waitFor(page, () => window.ivrTest && window.ivrTest.state === "away", "hello (away)");
  await page.click("#go-available");
  await waitFor(page, () => window.ivrTest.state === "available", "available");
  log("agent available");

  // Call 1: the caller asks for an agent (0), plays its tone, hangs up.
  const c1 = call(path.join(WORK, "caller-hangs-up.txt"), path.join(OUT, "caller1.wav"));
  await waitFor(page, () => window.ivrTest.offers >= 1, "the offer", 30000);
  const t0 = Date.now();
  const from = await page.textContent("#c-from");
  const turns = await page.locator("#c-transcript li").count();
  log(`ringing: card from ${from}, ${turns} transcript lines`);
  if (!from.includes("15550100") || turns < 2) fail(`card: from ${from}, ${turns} transcript lines`);
  await page.click("#accept");
  await waitFor(page, () => window.ivrTest.connected, "media connected");
  log(`accept → connected in ${Date.now() - t0} ms`);
  await waitFor(page, (hz) => window.ivrTest.loudFreqs.filter((f) => Math.abs(f - hz) < 40).length >= 10,
    "the caller's tone in the browser", 20000, CALLER_HZ);
  await page.screenshot({ path: path.join(OUT, "agent-on-call.png"), fullPage: true });
  const sup = await ctx.newPage();
  await sup.goto(BASE + "/supervisor");
  await sup.waitForFunction(() => document.querySelector("#with-agent").textContent === "1", null, { timeout: 5000 });
  await sup.screenshot({ path: path.join(OUT, "supervisor.png"), fullPage: true });
  await waitFor(page, () => !document.querySelector("#wrapup").classList.contains("hidden"), "wrap-up after the caller hung up", 30000);
  const r1 = await c1;
  log(`call 1 ended: exit ${r1.code}`);
  if (r1.code !== 0) fail(`ivr call 1 failed: ${r1.err.slice(-2000)}`);
  const heard1 = toneFrames(path.join(OUT, "caller1.wav"), AGENT_HZ);
  log(`caller heard the agent's ${AGENT_HZ} Hz in ${heard1} frames`);
  if (heard1 < 50) fail(`caller's recording has ${heard1} frames of ${AGENT_HZ} Hz`);
  await page.fill("#notes", "Browser test: balance question answered.");
  await page.selectOption("#disposition", "resolved");
  await page.screenshot({ path: path.join(OUT, "agent-wrap-up.png"), fullPage: true });
  await page.click("#save-available");
  await waitFor(page, () => window.ivrTest.state === "available", "available after wrap-up");
  const calls = JSON.parse(execFileSync(IVR, ["calls", "list", "--json", "--data-dir", DATA]).toString());
  const rec = (Array.isArray(calls) ? calls : calls.calls || []).find((c) => c.wrap_up);
  log(`call record: outcome ${rec && rec.outcome}, wrap-up ${JSON.stringify(rec && rec.wrap_up)}`);
  if (!rec || rec.wrap_up.notes !== "Browser test: balance question answered." || rec.wrap_up.agent !== AGENT) fail("the wrap-up is not in the call record");

  // Call 2: the agent hangs up.
  const c2 = call(path.join(WORK, "agent-hangs-up.txt"), path.join(OUT, "caller2.wav"));
  await waitFor(page, () => window.ivrTest.offers >= 2, "the second offer", 30000);
  log("ringing (call 2)");
  await page.click("#accept");
  log("accepted (call 2)");
  await waitFor(page, () => window.ivrTest.connected, "media connected (call 2)");
  await page.click("#hangup");
  const r2 = await c2;
  const hangup = r2.events.find((e) => e.event === "hangup");
  log(`call 2 ended: exit ${r2.code}, hangup ${JSON.stringify(hangup)}`);
  if (!hangup || hangup.by !== "remote") fail(`call 2 was not hung up by the far end: ${JSON.stringify(hangup)}`);
  await waitFor(page, () => !document.querySelector("#wrapup").classList.contains("hidden"), "wrap-up after the agent hung up");
  await page.click("#save-away");
  await waitFor(page, () => window.ivrTest.state === "away", "away");
  await page.screenshot({ path: path.join(OUT, "agent-away.png"), fullPage: true });
  const errors = await page.evaluate(() => window.ivrTest.errors.filter(Boolean));
  if (errors.length) fail(`page showed errors: ${errors.join("; ")}`);
  ok = true;
  log("PASS");
} finally {
  await browser.close();
}
// One line in the form test summaries take: both calls are one scenario.
console.log(`browser: ${ok ? 1 : 0} passed, ${ok ? 0 : 1} failed`);
process.exit(ok ? 0 : 1);
