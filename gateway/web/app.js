// The auditor page: search a right, show its facts, live verification and history, verify a dropped file.
// Plain JavaScript over the gateway's own /v1 API; no build step, no third-party code.
"use strict";

const RIGHT_ID = /^[A-Z]{2}:(PAT|UM|TM|DES):\S+$|^0x[0-9a-fA-F]{64}$/;
const VERDICTS = {
  "authentic-current": ["ok", "Authentic and current"],
  "authentic-superseded": ["warn", "Authentic, but superseded"],
  "confidential": ["warn", "Confidential: only a commitment is on chain"],
  "office-unreachable": ["warn", "Office unreachable: partly checked"],
  "tampered": ["bad", "Tampered"],
  "bad-signature": ["bad", "Bad signature"],
  "key-revoked": ["bad", "Signed with a revoked key"],
  "unknown": ["bad", "Unknown to the registry"],
};
const ACTIONS = {
  registration: "Registered",
  ownershipChange: "Ownership change",
  legalStatusEvent: "Legal status event",
  publication: "Published",
};

const $ = (id) => document.getElementById(id);

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null) continue;
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else node.setAttribute(key, value);
  }
  for (const child of children) {
    if (child !== null && child !== undefined) node.append(child);
  }
  return node;
}

function rightPath(id) {
  return "/v1/rights/" + encodeURIComponent(id);
}

async function api(path, options = {}) {
  const answer = await fetch(path, { headers: { Accept: "application/json" }, ...options });
  let body = null;
  try {
    body = await answer.json();
  } catch (_) {
    body = null;
  }
  if (!answer.ok) {
    const detail = body && (body.detail || body.title);
    const error = new Error(detail || `HTTP ${answer.status}`);
    error.status = answer.status;
    throw error;
  }
  return body;
}

function verdictView(verdict) {
  const [tone, label] = VERDICTS[verdict] || ["warn", verdict];
  return { tone, label };
}

// Who sealed the block a verdict was read at, in words: "Sealed by KR's validator; 2 of 3 offices have
// built on it." A verdict is final only once a majority has (the gateway never says so before).
function finalityText(f) {
  if (!f) return "";
  const first = f.sealers[0];
  const by = first ? `Sealed by ${first.office ? first.office + "'s validator" : "an unknown key"}` : "No seal read";
  const built = f.engine === "qbft"
    ? `${f.distinctSealers} of ${f.validators} offices' validators committed it`
    : `${f.distinctSealers} of ${f.validators} offices have built on it`;
  const state = f.final ? "final" : `not final yet: ${f.needed} are needed`;
  return `${by}; ${built} (${state}).`;
}

function checksList(checks) {
  const list = el("ul", { class: "checks" });
  for (const check of checks || []) {
    const result = check.result || "skipped";
    list.append(
      el("li", { class: result },
        el("strong", { text: `${result}: ` }),
        `${check.name}${check.detail ? " — " + check.detail : ""}`),
    );
  }
  return list;
}

// ---------------------------------------------------------------- chain status

async function showStatus() {
  try {
    const s = await api("/v1/status");
    $("chain-status").textContent =
      `Chain ${s.chainId} · head block ${s.headBlock} · indexed ${s.indexedBlock}` +
      (s.lag > 0 ? ` (${s.lag} behind)` : "");
  } catch (err) {
    $("chain-status").textContent = `Chain status unavailable: ${err.message}`;
  }
}

// ---------------------------------------------------------------- the validators

const NETWORK_REFRESH_MS = 5000;

function sealedText(v, recent) {
  if (!v.sealedBlocks.length) return `none of the last ${recent}`;
  const shown = v.sealedBlocks.slice(-6).join(", ");
  return `${v.sealedBlocks.length} of the last ${recent}: ${shown}${v.sealedBlocks.length > 6 ? ", …" : ""}`;
}

async function showNetwork() {
  let n;
  try {
    n = await api("/v1/network");
  } catch (err) {
    $("network-summary").textContent = `Validators unavailable: ${err.message}`;
    return;
  }
  if (n.engine === "none") return; // a single-process development chain: no validators to show
  $("network").hidden = false;
  $("network-summary").textContent =
    `${n.signers.length} validators seal the chain (Clique proof of authority). A block counts as final ` +
    `${n.finalDepth} blocks deep: by then a majority of them have sealed it or built on it.`;
  const rows = n.validators.map((v) =>
    el("tr", { class: v.signer ? "" : "out" },
      el("td", { text: `${v.officeCode}${v.officeStatus === "active" ? "" : ` (${v.officeStatus})`}` }),
      el("td", { class: "addr", text: (v.address || "not named yet") + (v.signer ? "" : " · not sealing") }),
      el("td", { text: v.node ? `${v.node.headBlock} · ${v.node.headHash.slice(0, 10)}…` : "—" }),
      el("td", { text: v.node && v.node.peers !== null ? String(v.node.peers) : "—" }),
      el("td", { text: sealedText(v, n.recentBlocks) })));
  $("validators").querySelector("tbody").replaceChildren(...rows);
}

// ---------------------------------------------------------------- search

async function search(query) {
  const results = $("search-results");
  results.replaceChildren(el("p", { text: "Searching…" }));
  query = query.trim();
  if (RIGHT_ID.test(query)) {
    location.hash = "#/rights/" + encodeURIComponent(query);
    results.replaceChildren();
    return;
  }
  try {
    const page = await api("/v1/rights?limit=20&number=" + encodeURIComponent(query));
    if (page.items.length === 1) {
      location.hash = "#/rights/" + encodeURIComponent(page.items[0].rightId || page.items[0].chainRightId);
      results.replaceChildren();
      return;
    }
    if (page.items.length === 0) {
      results.replaceChildren(el("p", { text: `No right matches “${query}”.` }));
      return;
    }
    const list = el("ul", { class: "results" });
    for (const item of page.items) {
      const id = item.rightId || item.chainRightId;
      list.append(el("li", {},
        el("a", { href: "#/rights/" + encodeURIComponent(id), text: id }),
        ` — ${item.title || item.kind} (${item.officeCode})`));
    }
    results.replaceChildren(el("p", { text: `${page.count} rights match.` }), list);
  } catch (err) {
    results.replaceChildren(el("p", { class: "error", text: `Search failed: ${err.message}` }));
  }
}

// ---------------------------------------------------------------- one right

function fact(list, name, value) {
  if (value === undefined || value === null || value === "") return;
  list.append(el("dt", { text: name }), el("dd", { text: String(value) }));
}

async function showRight(id) {
  const section = $("right");
  section.hidden = false;
  $("right-title").textContent = id;
  const facts = $("right-facts");
  facts.replaceChildren();
  $("timeline").replaceChildren();
  const badge = $("badge");
  badge.className = "badge";
  badge.textContent = "Verifying…";
  $("badge-checks").querySelector("ul").replaceChildren();
  $("receipt-link").href = rightPath(id) + "/receipt";
  $("receipt-link").setAttribute("download", "receipt-" + id.replace(/[^A-Za-z0-9._-]/g, "_") + ".json");
  let right;
  try {
    right = await api(rightPath(id));
  } catch (err) {
    facts.replaceChildren(el("p", { class: "error", text: `Cannot show ${id}: ${err.message}` }));
    badge.textContent = "—";
    return;
  }
  fact(facts, "Right id", right.rightId || "(not published)");
  fact(facts, "Office", right.officeCode);
  fact(facts, "Kind", right.kind);
  fact(facts, "Title", right.title);
  fact(facts, "Owner", (right.owners || []).map((o) => o.name || o).join("; ") || null);
  fact(facts, "Status", right.statusCode);
  fact(facts, "Version", right.version);
  fact(facts, "Record hash", right.recordHash);
  fact(facts, "Last change", right.updatedAt);
  section.focus();
  await Promise.all([showVerification(id), showHistory(id)]);
}

async function showVerification(id) {
  const badge = $("badge");
  try {
    const answer = await api(rightPath(id) + "/verification");
    const { tone, label } = verdictView(answer.verdict);
    badge.className = "badge " + tone;
    badge.textContent = label;
    badge.dataset.verdict = answer.verdict;
    $("finality").textContent = finalityText(answer.finality);
    $("badge-checks").querySelector("ul").replaceWith(checksList(answer.checks));
  } catch (err) {
    badge.className = "badge warn";
    badge.textContent = `Verification unavailable: ${err.message}`;
  }
}

async function showHistory(id) {
  const timeline = $("timeline");
  let history;
  try {
    history = await api(rightPath(id) + "/history");
  } catch (err) {
    timeline.replaceChildren(el("li", { class: "error", text: `History unavailable: ${err.message}` }));
    return;
  }
  const entries = history.items.map((item) => {
    const sig = el("span", { class: "sig", text: "checking signature…" });
    const when = item.timestamp ? item.timestamp.replace("T", " ").replace("+00:00", " UTC") : "";
    const detail = item.conveyance ? ` (${item.conveyance.kind || item.conveyance.category || ""})`
      : item.statusEvent ? ` (${item.statusEvent.status || ""})` : "";
    const entry = el("li", { tabindex: "0" },
      el("div", {}, el("span", { class: "what", text: `v${item.version} · ${ACTIONS[item.action] || item.action}${detail}` }), sig),
      el("div", { class: "meta", text: `${when} · block ${item.blockNumber} · office ${item.officeCode} · tx ${item.transactionHash}` }));
    timeline.append(entry);
    return { item, sig };
  });
  for (const { item, sig } of entries) {
    try {
      const answer = await api(rightPath(id) + "/verification?block=" + item.blockNumber);
      const { tone, label } = verdictView(answer.verdict);
      sig.className = "sig " + tone;
      sig.textContent = tone === "ok" ? "signature valid" : label;
    } catch (err) {
      sig.className = "sig warn";
      sig.textContent = "signature not checked";
    }
  }
}

// ---------------------------------------------------------------- verify a file

async function verifyFile(file) {
  const out = $("verdict");
  out.replaceChildren(el("p", { text: `Verifying ${file.name}…` }));
  const form = new FormData();
  form.append("file", file, file.name);
  try {
    const answer = await api("/v1/verifications", { method: "POST", body: form });
    const { tone, label } = verdictView(answer.verdict);
    const badge = el("div", { class: "badge " + tone, role: "status", text: label });
    badge.dataset.verdict = answer.verdict;
    const about = answer.rightId
      ? el("p", {}, "Right: ", el("a", { href: "#/rights/" + encodeURIComponent(answer.rightId), text: answer.rightId }),
        answer.version ? ` · version ${answer.version}` : "",
        answer.currentVersion ? ` · current version ${answer.currentVersion}` : "")
      : null;
    const sealed = answer.finality ? el("p", { class: "finality", text: finalityText(answer.finality) }) : null;
    out.replaceChildren(...[badge, about, sealed, checksList(answer.checks)].filter(Boolean));
  } catch (err) {
    out.replaceChildren(el("p", { class: "error", text: `Could not verify ${file.name}: ${err.message}` }));
  }
}

function setUpDropZone() {
  const zone = $("drop-zone");
  const input = $("file-input");
  input.addEventListener("change", () => input.files.length && verifyFile(input.files[0]));
  zone.addEventListener("keydown", (event) => {
    if (event.key === "Enter" || event.key === " ") {
      event.preventDefault();
      input.click();
    }
  });
  for (const name of ["dragenter", "dragover"]) {
    zone.addEventListener(name, (event) => { event.preventDefault(); zone.classList.add("over"); });
  }
  for (const name of ["dragleave", "drop"]) {
    zone.addEventListener(name, () => zone.classList.remove("over"));
  }
  zone.addEventListener("drop", (event) => {
    event.preventDefault();
    if (event.dataTransfer.files.length) verifyFile(event.dataTransfer.files[0]);
  });
}

// ---------------------------------------------------------------- routing

function route() {
  const match = location.hash.match(/^#\/rights\/(.+)$/);
  if (match) showRight(decodeURIComponent(match[1]));
  else $("right").hidden = true;
}

document.addEventListener("DOMContentLoaded", () => {
  $("search-form").addEventListener("submit", (event) => {
    event.preventDefault();
    search($("search-input").value);
  });
  setUpDropZone();
  window.addEventListener("hashchange", route);
  showStatus();
  showNetwork();
  setInterval(showNetwork, NETWORK_REFRESH_MS);
  route();
});
