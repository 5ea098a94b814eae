"""The coach's page: one HTML document with its CSS and script inline, nothing fetched.

It builds its picture of the session only from the events it is sent (the same dicts as
the record), so a page opened late, or reconnected, replays to the same state.
"""

from __future__ import annotations

import json

from facilitator.judging import PASSING_LABELS


def render_page(token: str, failing_labels: dict[str, str],
                step_titles: dict[str, str] | None = None) -> str:
    """The page, with the token (for its own requests), the verdict labels and the steps'
    titles (default: facilitator.review.steps, from the script) filled in."""
    if step_titles is None:
        from facilitator.review.steps import step_titles as titles_of_the_script

        step_titles = titles_of_the_script()
    config = {
        "token": token,
        "passing": {kind: sorted(labels) for kind, labels in PASSING_LABELS.items()},
        "failing": failing_labels,
        "steps": step_titles,
    }
    data = json.dumps(config).replace("</", "<\\/")
    return PAGE.replace("__CONFIG__", data)


PAGE = r"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>Coach view — Imago Dialogue</title>
<style>
:root { color-scheme: dark light; --fg:#f4f4f4; --bg:#111; --panel:#1d1d1d; --muted:#c4c4c4; --line:#444;
  --a:#5aa9ff; --b:#ffa24d; --ok:#74e09a; --no:#ff8f80; --focus:#ffe15a; }
@media (prefers-color-scheme: light) { :root { --fg:#111; --bg:#fafaf7; --panel:#fff; --muted:#444; --line:#bbb;
  --a:#1f6fb2; --b:#b45400; --ok:#17663a; --no:#a3261b; --focus:#7a4dff; } }
* { box-sizing:border-box; }
html { font-size:24px; } body { margin:0; font-family:system-ui, sans-serif; line-height:1.4; color:var(--fg); background:var(--bg); }
header { display:flex; flex-wrap:wrap; gap:0.5rem 1.5rem; align-items:baseline; padding:0.6rem 1rem; border-bottom:2px solid var(--line); }
header h1 { font-size:1.2rem; margin:0; }
#connection, #state { font-weight:700; } #step { font-size:1.1rem; }
main { display:grid; grid-template-columns:minmax(0,3fr) minmax(0,2fr); gap:1rem; padding:1rem; }
@media (max-width:1100px) { main { grid-template-columns:1fr; } }
section { background:var(--panel); border:1px solid var(--line); border-radius:10px; padding:0.7rem 1rem; margin-bottom:1rem; }
h2 { font-size:0.9rem; text-transform:uppercase; letter-spacing:0.06em; color:var(--muted); margin:0 0 0.4rem; }
#prompt { font-size:2rem; font-weight:600; margin:0; }
#controls { display:flex; flex-wrap:wrap; gap:0.6rem; }
button { font:inherit; font-size:1rem; min-height:2.6rem; padding:0.3rem 0.9rem; border-radius:8px; border:2px solid var(--fg);
  background:var(--panel); color:var(--fg); cursor:pointer; }
button:focus-visible { outline:4px solid var(--focus); outline-offset:3px; }
button:disabled { opacity:0.45; cursor:not-allowed; }
button.danger { border-color:var(--no); color:var(--no); }
kbd { font:inherit; font-size:0.75em; border:1px solid var(--muted); border-radius:4px; padding:0 0.25em; margin-left:0.3em; }
#feedback { min-height:1.4em; color:var(--muted); }
.option { font-size:0.8rem; color:var(--muted); } .option input { width:1.1rem; height:1.1rem; }
#balance-bar { display:flex; height:1.6rem; border-radius:6px; overflow:hidden; background:var(--line); }
#balance-bar span { display:block; height:100%; transition:width 0.3s; }
#balance-bar.empty { background:repeating-linear-gradient(135deg, var(--line) 0 8px, transparent 8px 16px); }
.A { color:var(--a); } .B { color:var(--b); } .bar-A { background:var(--a); } .bar-B { background:var(--b); }
#balance-text { margin:0.3rem 0 0; }
ol { margin:0; padding:0; list-style:none; }
#verdicts { max-height:40vh; overflow-y:auto; }
#verdicts li { padding:0.4rem 0; border-bottom:1px solid var(--line); }
.label-ok { color:var(--ok); font-weight:700; } .label-no { color:var(--no); font-weight:700; }
.missing { color:var(--muted); } .overridden { font-style:italic; }
.why { color:var(--muted); font-size:0.8rem; margin-left:0.4rem; }
#transcript { max-height:70vh; overflow-y:auto; }
#transcript li { padding:0.35rem 0 0.35rem 0.6rem; border-left:6px solid var(--line); margin-bottom:0.35rem; }
#transcript li.turn-A { border-left-color:var(--a); } #transcript li.turn-B { border-left-color:var(--b); }
#transcript .who { font-weight:700; } #transcript .where { color:var(--muted); font-size:0.8rem; }
#transcript li.note { border-left-style:dashed; color:var(--muted); font-size:0.85rem; }
#banner { display:none; font-size:1.4rem; font-weight:700; text-align:center; padding:0.5rem; background:var(--focus); color:#111; }
#banner.show { display:block; }
.sr-only { position:absolute; width:1px; height:1px; overflow:hidden; clip:rect(0 0 0 0); white-space:nowrap; }
</style></head>
<body>
<a class="sr-only" href="#controls">Skip to controls</a>
<header>
  <h1>Coach view</h1>
  <span id="couple">Waiting for the session…</span>
  <span id="step" aria-live="polite">No step yet</span>
  <span id="state" role="status">Running</span>
  <span id="connection">Connecting…</span>
</header>
<div id="banner" role="alert"></div>
<main>
  <div>
    <section aria-labelledby="h-prompt"><h2 id="h-prompt">Facilitator says</h2>
      <p id="prompt" aria-live="polite">—</p></section>
    <section aria-labelledby="h-controls"><h2 id="h-controls">Controls</h2>
      <div id="controls" role="group" aria-label="Session controls">
        <button type="button" data-action="pause" aria-keyshortcuts="P">Pause<kbd>P</kbd></button>
        <button type="button" data-action="resume" aria-keyshortcuts="C">Continue<kbd>C</kbd></button>
        <button type="button" data-action="repeat" aria-keyshortcuts="R">Repeat prompt<kbd>R</kbd></button>
        <button type="button" data-action="skip" aria-keyshortcuts="S">Skip step<kbd>S</kbd></button>
        <button type="button" id="wrong-latest" aria-keyshortcuts="W" disabled>Latest verdict wrong<kbd>W</kbd></button>
        <button type="button" data-action="stop" class="danger" aria-keyshortcuts="E">End session<kbd>E</kbd></button>
      </div>
      <p id="feedback" role="status" aria-live="polite"></p>
      <label class="option"><input type="checkbox" id="shortcuts" checked> Single-key shortcuts (P, C, R, S, W, E)</label></section>
    <section aria-labelledby="h-balance"><h2 id="h-balance">Talk time</h2>
      <div id="balance-bar" class="empty" aria-hidden="true"><span class="bar-A" style="width:0%"></span><span class="bar-B" style="width:0%"></span></div>
      <p id="balance-text">No one has spoken yet.</p></section>
    <section aria-labelledby="h-verdicts"><h2 id="h-verdicts">Verdicts</h2>
      <ol id="verdicts" aria-live="polite"></ol><p id="no-verdicts">None yet.</p></section>
  </div>
  <section aria-labelledby="h-transcript"><h2 id="h-transcript">Transcript</h2>
    <ol id="transcript" role="log" aria-live="polite" tabindex="0" aria-label="Transcript, latest at the bottom"></ol></section>
</main>
<script>
"use strict";
const CONFIG = __CONFIG__;
const KIND_NAMES = {mirror:"Mirror", summary:"Summary", validation:"Validation", empathy:"Empathy", sender_statement:"Sender statement"};
const state = {names:{A:"Partner A", B:"Partner B"}, talk:{}, paused:false, ended:false, latest:{}, verdictItems:[], exchanges:0};
const $ = (id) => document.getElementById(id);

function nameOf(key) { return (key && state.names[key]) || "Unknown speaker"; }
function passing(kind, label) { return (CONFIG.passing[kind] || []).includes(label); }
function flipped(kind, label) {
  if (passing(kind, label)) return CONFIG.failing[kind] || ("not_" + kind);
  return (CONFIG.passing[kind] || [kind])[0];
}
function clock(seconds) { const s = Math.max(0, Math.round(seconds || 0)); return Math.floor(s / 60) + ":" + String(s % 60).padStart(2, "0"); }
function el(tag, cls, text) { const node = document.createElement(tag); if (cls) node.className = cls; if (text !== undefined) node.textContent = text; return node; }
function stepText(name) {
  if (!name) return "";
  if (CONFIG.steps && CONFIG.steps[name]) return CONFIG.steps[name];
  const words = String(name).replace(/_/g, " ");
  return words.charAt(0).toUpperCase() + words.slice(1);
}

function banner(text) { const b = $("banner"); b.textContent = text; b.classList.toggle("show", !!text); }

function onSession(e) {
  state.names = Object.assign({A:"Partner A", B:"Partner B"}, e.names || {});
  $("couple").textContent = nameOf("A") + " & " + nameOf("B");
  document.title = "Coach view — " + nameOf("A") + " & " + nameOf("B");
}
function onStep(e) {
  state.step = e;
  const who = e.sender ? " · " + nameOf(e.sender) + " sends, " + nameOf(e.receiver) + " receives" : "";
  $("step").textContent = "Round " + (e.round || 1) + " · " + stepText(e.name) + who;
}
function onTurn(e) {
  const key = e.speaker || "?";
  const li = el("li", "turn-" + key);
  li.dataset.type = "turn";
  const top = el("div");
  top.append(el("span", "who " + key, nameOf(e.speaker)), el("span", "where", " · " + stepText(e.step) + " · " + clock(e.start)));
  li.append(top, el("div", "said", e.text || ""));
  addToTranscript(li);
  const seconds = Math.max(0, (e.end || 0) - (e.start || 0));
  state.talk[key] = (state.talk[key] || 0) + seconds;
  drawBalance();
}
function addToTranscript(li) {
  const list = $("transcript");
  const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 80;
  list.append(li);
  if (atBottom) list.scrollTop = list.scrollHeight;
}
function drawBalance() {
  // Until someone has spoken the bar stays empty: an even split would be made up.
  const a = state.talk.A || 0, b = state.talk.B || 0, total = a + b;
  const shareA = total ? Math.round(100 * a / total) : 0;
  const shareB = total ? 100 - shareA : 0;
  const bar = $("balance-bar");
  bar.classList.toggle("empty", !total);
  bar.children[0].style.width = shareA + "%"; bar.children[1].style.width = shareB + "%";
  $("balance-text").textContent = total
    ? nameOf("A") + " " + clock(a) + " (" + shareA + "%), " + nameOf("B") + " " + clock(b) + " (" + shareB + "%)"
    : "No one has spoken yet.";
}
function describeVerdict(item) {
  const e = item.event;
  const ok = passing(e.kind, item.label);
  item.labelNode.textContent = item.label.replace(/_/g, " ");
  item.labelNode.className = ok ? "label-ok" : "label-no";
  item.li.classList.toggle("overridden", item.overridden);
  item.noteNode.textContent = item.overridden ? " (coach marked it " + item.label.replace(/_/g, " ") + ")" : "";
}
// Every verdict, passed or not, has a "Mark wrong" button. The facilitator applies an
// override to the turn it judged last, so a button works for the latest verdict, and for
// the earlier failed tries of that same mirror (or summary...) while none of its tries has
// passed: marking any of those wrong accepts it and the session moves on. Older verdicts
// keep the button, disabled, with the reason beside it.
function sameExchange(previous, e) {
  return !!previous && previous.event.kind === e.kind && (previous.event.round || 0) === (e.round || 0)
    && (e.attempt || 1) > (previous.event.attempt || 1);
}
function refreshWrongButtons() {
  const items = state.verdictItems, last = items[items.length - 1];
  if (!last) return;
  const current = items.filter((i) => i.exchange === last.exchange);
  const passedNow = current.some((i) => passing(i.event.kind, i.label));
  for (const item of items) {
    const usable = item === last || (item.exchange === last.exchange && !passedNow);
    item.button.disabled = state.ended || !usable;
    item.whyNode.textContent = state.ended || usable ? ""
      : item.exchange === last.exchange ? "it passed at a later try" : "the session has moved on";
  }
  $("wrong-latest").disabled = state.ended;
}
function onVerdict(e) {
  const li = el("li");
  li.dataset.type = "verdict";
  li.dataset.kind = e.kind;
  const head = el("div");
  const labelNode = el("span");
  const noteNode = el("span");
  const score = typeof e.score === "number" ? " · score " + e.score.toFixed(2) : "";
  const who = state.step && state.step.receiver ? " by " + nameOf(e.kind === "sender_statement" ? state.step.sender : state.step.receiver) : "";
  head.append(el("strong", null, (KIND_NAMES[e.kind] || e.kind) + who + ", try " + (e.attempt || 1) + ": "), labelNode, noteNode, el("span", null, score));
  li.append(head);
  if (e.missing && e.missing.length) li.append(el("div", "missing", "Missed: " + e.missing.join(", ")));
  if (e.intrusions && e.intrusions.length) li.append(el("div", "missing", "Added: " + e.intrusions.join(", ")));
  if (e.reason) li.append(el("div", "missing", "Why: " + e.reason.replace(/_/g, " ")
    + (e.detail && e.detail.heard ? " (heard \u201c" + e.detail.heard + "\u201d" + (e.detail.said ? ", said \u201c" + e.detail.said + "\u201d" : "") + ")" : "")));
  const button = el("button", "wrong", "Mark wrong");
  button.type = "button";
  const whyNode = el("span", "why");
  li.append(button, whyNode);
  const previous = state.verdictItems[state.verdictItems.length - 1];
  const exchange = sameExchange(previous, e) ? previous.exchange : ++state.exchanges;
  const item = {event:e, li, labelNode, noteNode, button, whyNode, exchange, label:e.label, overridden:false};
  button.addEventListener("click", () => markWrong(item));
  state.latest[e.kind] = item;
  state.verdictItems.push(item);
  describeVerdict(item);
  button.setAttribute("aria-label", "Mark this " + (KIND_NAMES[e.kind] || e.kind).toLowerCase()
    + " verdict, try " + (e.attempt || 1) + ", wrong");
  $("verdicts").prepend(li);
  $("no-verdicts").hidden = true;
  refreshWrongButtons();
}
function onOverride(e) {
  const item = state.latest[e.kind];
  if (!item) return;
  item.label = e.label || flipped(e.kind, item.label);
  item.overridden = true;
  describeVerdict(item);
  refreshWrongButtons();
}
function onControl(e) {
  if (e.action === "pause") { state.paused = true; $("state").textContent = "Paused"; banner("Paused"); }
  if (e.action === "resume") { state.paused = false; $("state").textContent = "Running"; banner(""); }
  const li = el("li", "note", "Control: " + e.action + (e.source ? " (" + e.source + ")" : ""));
  li.dataset.type = "control";
  addToTranscript(li);
}
function onEnd(e) {
  state.ended = true;
  $("state").textContent = "Ended";
  banner("Session ended" + (e.reason ? " (" + e.reason.replace(/_/g, " ") + ")" : ""));
  document.querySelectorAll("#controls button, button.wrong").forEach((b) => { b.disabled = true; });
}

const HANDLERS = {
  session: onSession, step: onStep, turn: onTurn, verdict: onVerdict, override: onOverride, control: onControl, end: onEnd,
  prompt: (e) => { $("prompt").textContent = e.text || ""; },
  interruption: (e) => {
    const what = e.kind === "wrong_speaker" ? " answered out of turn" : " talked over the turn";
    const li = el("li", "note", nameOf(e.speaker) + what); li.dataset.type = "interruption"; addToTranscript(li);
  },
  enrollment: (e) => {
    const text = e.ok ? "Learnt " + nameOf(e.speaker) + "'s voice (" + e.voiced_s + " s of speech)"
                      : "Asked " + nameOf(e.speaker) + " again: " + (e.reason || e.problem);
    const li = el("li", "note", text); li.dataset.type = "enrollment"; addToTranscript(li);
  },
  error: (e) => { const li = el("li", "note", "Problem: " + (e.message || "")); li.dataset.type = "error"; addToTranscript(li); },
};
function handle(event) {
  const handler = HANDLERS[event.type];
  if (handler) handler(event);
  document.body.dataset.events = String(Number(document.body.dataset.events || 0) + 1);
}

async function send(action, detail) {
  if (state.ended) return;
  const feedback = $("feedback");
  try {
    const response = await fetch("/control", {method:"POST", headers:{"Content-Type":"application/json", "X-Coach-Token":CONFIG.token},
      body:JSON.stringify({action, detail})});
    if (!response.ok) throw new Error(String(response.status));
    feedback.textContent = "Sent: " + (action === "override" ? "verdict marked wrong" : action);
  } catch (error) {
    feedback.textContent = "Could not reach the facilitator (" + error.message + ")";
  }
}
function markWrong(item) {
  // A failed verdict marked wrong was right: send its kind's passing label, so the session
  // moves on; a passed one marked wrong sends the failing label, so the step is asked again.
  if (!item || item.button.disabled) return;
  send("override", {kind:item.event.kind, label:flipped(item.event.kind, item.label)});
}
document.querySelectorAll("#controls button[data-action]").forEach((button) => {
  button.addEventListener("click", () => {
    const action = button.dataset.action;
    if (action === "stop" && !window.confirm("End the session for both partners?")) return;
    send(action);
  });
});
$("wrong-latest").addEventListener("click", () => {
  markWrong(state.verdictItems[state.verdictItems.length - 1]);
});
const KEYS = {p:"pause", c:"resume", r:"repeat", s:"skip", e:"stop", w:"wrong-latest"};
document.addEventListener("keydown", (event) => {
  if (!$("shortcuts").checked || event.ctrlKey || event.metaKey || event.altKey || event.repeat) return;
  const tag = (event.target && event.target.tagName) || "";
  if (tag === "INPUT" || tag === "TEXTAREA") return;
  const action = KEYS[event.key.toLowerCase()];
  if (!action) return;
  event.preventDefault();
  if (action === "wrong-latest") $("wrong-latest").click();
  else document.querySelector('#controls button[data-action="' + action + '"]').click();
});

function connect() {
  const source = new EventSource("/events?token=" + encodeURIComponent(CONFIG.token));
  source.onopen = () => { $("connection").textContent = "Live"; document.body.dataset.connected = "yes"; };
  source.onerror = () => { $("connection").textContent = state.ended ? "Finished" : "Reconnecting…"; document.body.dataset.connected = "no"; };
  source.onmessage = (message) => { try { handle(JSON.parse(message.data)); } catch (error) { console.error(error); } };
}
connect();
</script>
</body></html>
"""
