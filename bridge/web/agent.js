// Agent softphone: one WebSocket to the hub, one RTCPeerConnection per call.
"use strict";
const $ = (id) => document.getElementById(id);
// Test hook: what a browser test reads (received level and loud frequencies).
const test = (window.ivrTest = { state: "", rxLevel: 0, rxPeak: 0, loudFreqs: [], offers: 0, connected: false, errors: [] });
let ws, state = "offline", call = null, pc = null, mic = null, iceServers = [];
let ringTimer = null, ringAudio = null, callTimer = null, meterTimer = null;

function show(id, on) { $(id).classList.toggle("hidden", !on); }
function error(msg) { if (msg) test.errors.push(msg); $("error").textContent = msg; show("error", !!msg); }
function notice(msg) { $("notice").textContent = msg; show("notice", !!msg); }
function send(m) { if (ws && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(m)); }
function mmss(s) { s = Math.max(0, Math.floor(s)); return Math.floor(s / 60) + ":" + String(s % 60).padStart(2, "0"); }

function connect() {
  const proto = location.protocol === "https:" ? "wss:" : "ws:";
  ws = new WebSocket(proto + "//" + location.host + "/ws");
  ws.onmessage = (ev) => {
    let m;
    try { m = JSON.parse(ev.data); } catch (e) { error("Bad message from the server"); return; }
    onMessage(m);
  };
  ws.onclose = (ev) => {
    setState("offline");
    $("go-available").disabled = $("go-away").disabled = true;
    if (ev.code === 4001) { error("Your session expired. Sign in again."); setTimeout(() => location.assign("/login"), 1500); return; }
    if (ev.code === 4000) { error(ev.reason || "This page was opened in another tab; this tab is closed."); return; }
    error("Connection to the server lost (" + (ev.reason || ev.code) + "). Reconnecting…");
    setTimeout(connect, 2000);
  };
  ws.onopen = () => error("");
}

function setState(s) {
  state = s; test.state = s;
  const b = $("state"); b.textContent = s; b.className = "badge " + s;
  $("go-available").disabled = !(s === "away" || s === "wrap-up");
  $("go-away").disabled = !(s === "available" || s === "wrap-up");
}

function onMessage(m) {
  switch (m.type) {
  case "hello": $("agent-name").textContent = m.agent; iceServers = m.ice_servers || []; setState(m.state); break;
  case "state": setState(m.state); if (m.reason) notice("You were set " + m.state + ": " + m.reason); break;
  case "offer": ring(m); break;
  case "offer_cancelled": stopRing(); if (!call) showIdle(); notice("The call stopped ringing: " + m.reason); break;
  case "sdp_offer": answer(m).catch((e) => { error("Could not connect the call's audio: " + e.message); send({ type: "hangup", call_id: m.call_id }); }); break;
  case "connected": onConnected(); break;
  case "dtmf": $("keys").textContent += m.digit; break;
  case "call_ended": ended(m); break;
  case "wrapup_saved": notice("Wrap-up saved."); break;
  case "queue": queue(m.queue); break;
  case "callbacks": callbacks(m.callbacks || []); break;
  case "error": error(m.message); break;
  }
}

async function getMic() {
  if (mic) return mic;
  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) throw new Error("this browser cannot use a microphone here (a secure https page is needed)");
  try {
    mic = await navigator.mediaDevices.getUserMedia({ audio: true });
  } catch (e) {
    const why = { NotAllowedError: "microphone permission was denied: allow it in the browser's site settings",
      NotFoundError: "no microphone was found: plug one in", NotReadableError: "the microphone is in use by another program" }[e.name];
    throw new Error(why || e.message);
  }
  return mic;
}

async function goAvailable() {
  try { await getMic(); } catch (e) { error("Microphone: " + e.message); return; }
  error(""); notice(""); send({ type: "available" });
}

function ring(m) {
  call = { id: m.call_id, card: m.card };
  test.offers++;
  showCard(m.card);
  show("idle", false); show("wrapup", false); show("ringing", true);
  $("ring-from").textContent = m.card.from || "unknown number";
  const until = Date.now() + m.timeout_ms;
  clearInterval(ringTimer);
  ringTimer = setInterval(() => { $("ring-left").textContent = "rings for " + mmss((until - Date.now()) / 1000); }, 250);
  beep();
}

function beep() {
  try {
    const ctx = new AudioContext(); const osc = ctx.createOscillator(); const gain = ctx.createGain();
    osc.frequency.value = 880; gain.gain.value = 0; osc.connect(gain).connect(ctx.destination); osc.start();
    const t = ctx.currentTime;
    for (let i = 0; i < 30; i++) { gain.gain.setValueAtTime(0.2, t + i * 1.5); gain.gain.setValueAtTime(0, t + i * 1.5 + 0.4); }
    ringAudio = ctx;
  } catch (e) { /* no audio output: the card still shows */ }
}

function stopRing() {
  clearInterval(ringTimer); show("ringing", false);
  if (ringAudio) { ringAudio.close(); ringAudio = null; }
}

function showIdle() { show("idle", true); show("incall", false); show("card", false); }

function showCard(c) {
  $("c-from").textContent = c.from || "unknown";
  $("c-verified").textContent = c.verified ? "Verified (PIN)" : "Not verified";
  $("c-verified").className = c.verified ? "verified" : "unverified";
  $("c-account").textContent = c.account_number || "—";
  $("c-balance").textContent = c.balance || "—";
  $("c-next").textContent = c.next_due ? (c.next_amount + " on " + c.next_due) : "—";
  const reasons = { asked: "Asked for a person", frustration: "Caller frustrated", bot_failed: "The bot could not help" };
  $("c-reason").textContent = (reasons[c.reason] || c.reason || "—") + (c.reason_detail ? " (" + c.reason_detail + ")" : "");
  $("c-payments").textContent = (c.payments || []).map((p) => p.amount + " " + p.status + " #" + p.confirmation).join(", ") || "none";
  const ol = $("c-transcript"); ol.textContent = "";
  for (const t of c.transcript || []) {
    const li = document.createElement("li");
    for (const [text, cls] of [[t.at, "muted"], [t.who, "who-" + t.who], [t.text, ""]]) {
      const s = document.createElement("span"); s.textContent = text; if (cls) s.className = cls; li.appendChild(s);
    }
    ol.appendChild(li);
  }
  show("card", true);
}

function accept() {
  if (!call) return;
  stopRing(); show("incall", true); $("media-state").textContent = "connecting audio…"; $("keys").textContent = "";
  send({ type: "accept", call_id: call.id });
}

function decline() { if (!call) return; stopRing(); send({ type: "decline", call_id: call.id }); call = null; showIdle(); }

async function answer(m) {
  const stream = await getMic();
  pc = new RTCPeerConnection({ iceServers });
  for (const t of stream.getAudioTracks()) { t.enabled = true; pc.addTrack(t, stream); }
  pc.ontrack = (ev) => { $("remote").srcObject = ev.streams[0] || new MediaStream([ev.track]); meter(ev.track); };
  pc.onconnectionstatechange = () => { if (pc && pc.connectionState === "failed") error("The call's audio connection failed."); };
  await pc.setRemoteDescription({ type: "offer", sdp: m.sdp });
  await pc.setLocalDescription(await pc.createAnswer());
  await new Promise((res) => {
    if (pc.iceGatheringState === "complete") return res();
    pc.onicegatheringstatechange = () => { if (pc.iceGatheringState === "complete") res(); };
    setTimeout(res, 3000);
  });
  send({ type: "answer", call_id: m.call_id, sdp: pc.localDescription.sdp });
}

function meter(track) {
  const ctx = new AudioContext(); const an = ctx.createAnalyser(); an.fftSize = 1024;
  if (ctx.state === "suspended") ctx.resume();
  test.audioState = ctx.state;
  ctx.createMediaStreamSource(new MediaStream([track])).connect(an);
  const buf = new Float32Array(an.fftSize), spec = new Float32Array(an.frequencyBinCount);
  clearInterval(meterTimer);
  meterTimer = setInterval(() => {
    an.getFloatTimeDomainData(buf);
    let sum = 0; for (const v of buf) sum += v * v;
    const rms = Math.sqrt(sum / buf.length);
    test.rxLevel = rms; test.rxPeak = Math.max(test.rxPeak, rms);
    if (rms > 0.02 && test.loudFreqs.length < 1000) {
      an.getFloatFrequencyData(spec);
      let best = 0; for (let i = 1; i < spec.length; i++) if (spec[i] > spec[best]) best = i;
      test.loudFreqs.push(best * ctx.sampleRate / an.fftSize);
    }
    $("rx-meter").style.width = Math.min(100, rms * 400) + "%";
  }, 100);
}

function onConnected() {
  test.connected = true;
  $("media-state").textContent = "connected";
  const start = Date.now();
  clearInterval(callTimer);
  callTimer = setInterval(() => { $("timer").textContent = mmss((Date.now() - start) / 1000); }, 500);
}

function closePC() {
  clearInterval(callTimer); clearInterval(meterTimer);
  if (pc) { pc.close(); pc = null; }
  test.connected = false;
}

function ended(m) {
  closePC(); stopRing();
  show("incall", false);
  if (m.by === "failed") { error(m.message || "The call's audio failed."); call = null; showIdle(); return; }
  $("ended-by").textContent = m.by === "caller" ? "The caller hung up." : "You ended the call.";
  $("notes").value = ""; show("wrapup", true);
}

function wrapup(then) {
  if (!call) return;
  send({ type: "wrapup", call_id: call.id, disposition: $("disposition").value, notes: $("notes").value });
  send({ type: then });
  call = null; show("wrapup", false); showIdle();
}

function queue(q) {
  $("q-len").textContent = q.waiting.length;
  $("q-longest").textContent = mmss(q.longest_wait_ns / 1e9);
  const avail = q.agents.filter((a) => a.state === "available").length;
  const n = q.agents.filter((a) => a.state !== "offline").length;
  $("q-agents").textContent = n + (n === 1 ? " agent" : " agents") + " signed in, " + avail + " available";
}

function callbacks(list) {
  const tb = $("callbacks"); tb.textContent = "";
  for (const cb of list) {
    const tr = document.createElement("tr");
    for (const text of [cb.phone, cb.reason || ""]) { const td = document.createElement("td"); td.textContent = text; tr.appendChild(td); }
    const td = document.createElement("td"); const b = document.createElement("button"); b.textContent = "Done";
    b.onclick = () => send({ type: "callback_done", id: cb.id }); td.appendChild(b); tr.appendChild(td);
    tb.appendChild(tr);
  }
  show("no-callbacks", list.length === 0);
}

$("go-available").onclick = goAvailable;
$("go-away").onclick = () => send({ type: "away" });
$("accept").onclick = accept;
$("decline").onclick = decline;
$("hangup").onclick = () => { if (call) send({ type: "hangup", call_id: call.id }); };
$("mute").onclick = () => {
  if (!mic) return;
  const t = mic.getAudioTracks()[0]; t.enabled = !t.enabled; $("mute").textContent = t.enabled ? "Mute" : "Unmute";
};
$("hold").onclick = () => {
  if (!call) return;
  const held = $("hold").textContent === "Resume";
  send({ type: held ? "unhold" : "hold", call_id: call.id }); $("hold").textContent = held ? "Hold" : "Resume";
  if (mic) mic.getAudioTracks()[0].enabled = held;
};
$("save-available").onclick = () => wrapup("available");
$("save-away").onclick = () => wrapup("away");
connect();
