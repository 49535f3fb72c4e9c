// Supervisor page: polls /api/supervisor once a second.
"use strict";
const $ = (id) => document.getElementById(id);
function mmss(s) { s = Math.max(0, Math.floor(s)); return Math.floor(s / 60) + ":" + String(s % 60).padStart(2, "0"); }
function since(t) { return mmss((Date.now() - Date.parse(t)) / 1000); }
function row(cells, badge) {
  const tr = document.createElement("tr");
  cells.forEach((text, i) => {
    const td = document.createElement("td");
    if (i === 1 && badge) { const b = document.createElement("span"); b.className = "badge " + text; b.textContent = text; td.appendChild(b); } else td.textContent = text;
    tr.appendChild(td);
  });
  return tr;
}
const where = { bot: "bot", waiting: "ringing", agent: "on-call" };
async function poll() {
  try {
    const r = await fetch("/api/supervisor", { credentials: "same-origin" });
    if (r.status === 401) { location.assign("/login"); return; }
    if (!r.ok) throw new Error("server said " + r.status);
    const v = await r.json();
    $("in-bot").textContent = v.in_bot; $("waiting").textContent = v.waiting; $("with-agent").textContent = v.with_agent;
    $("queue-length").textContent = v.queue_length; $("longest").textContent = mmss(v.longest_wait_s);
    const ab = $("agents"); ab.textContent = "";
    for (const a of v.agents) ab.appendChild(row([a.name, a.state, since(a.since), a.from || ""], true));
    $("no-agents").classList.toggle("hidden", v.agents.length > 0);
    const cb = $("calls"); cb.textContent = "";
    for (const c of v.calls) {
      const tr = row([c.from, c.phase, since(c.since), c.agent || ""], false);
      tr.children[1].innerHTML = ""; const b = document.createElement("span");
      b.className = "badge " + (where[c.phase] || ""); b.textContent = c.phase === "agent" ? "with agent" : c.phase; tr.children[1].appendChild(b);
      cb.appendChild(tr);
    }
    $("no-calls").classList.toggle("hidden", v.calls.length > 0);
    $("updated").textContent = "updated " + new Date().toLocaleTimeString();
    $("error").classList.add("hidden");
  } catch (e) {
    $("error").textContent = "Cannot reach the server: " + e.message; $("error").classList.remove("hidden");
  }
}
poll(); setInterval(poll, 1000);
