// The auditor page: what the registry holds, a right's story and its state at a date, its designations (an
// international registration's) and its family, the offices and their keys, and the verification of a
// dropped document. Plain JavaScript over the gateway's own /v1 API; no build
// step, no third-party code. Every view has its own address (hash routes), so any answer can be linked to.
"use strict";

const RIGHT_ID = /^[A-Z]{2}:(PAT|UM|TM|DES|GI):[^\s@]+(@[A-Z]{2})?$|^0x[0-9a-fA-F]{64}$/;
const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;
const REFRESH_MS = 5000; // the chain status, the latest changes and the validators

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
  designation: "Designation of an office",
};
const KINDS = {
  patent: "Patents", utilityModel: "Utility models", trademark: "Trademarks", design: "Designs",
  geographicalIndication: "Geographical indications",
};
// What a family member is to the right it is linked through (gateway/api/models.py FamilyMember.relation).
const RELATIONS = {
  priorityClaim: "its priority",
  priorityOf: "claims its priority",
  pctInternationalApplication: "its PCT international application",
  pctNationalPhase: "a national or regional phase of it",
  parentOfDivisional: "its parent (it is a divisional)",
  divisional: "a divisional of it",
  parentOfContinuation: "the application it continues",
  continuation: "a continuation of it",
  validatedRegionalRight: "the regional right it validates",
  validation: "a validation of it",
  internationalRegistration: "its international registration",
  designatedProtection: "a right protecting it in a designated office",
  designation: "a designation of it",
};
// What each check of a verdict looks at, in words (gateway/verify/judge.py names them).
const CHECKS = {
  "chain-state": "The right's state on the chain",
  "right-on-chain": "The right is on the chain",
  "office-standing": "The competent office is a member in good standing",
  "confidential": "Confidentiality",
  "document-fetch": "The signed document from the office's endpoint",
  "document-format": "The document's format",
  "record-format": "The record's format",
  "record-hash": "The document's hash against the record hash on chain",
  "right-id": "The right the record names",
  "signature-office": "The office the signature is for",
  "signing-key": "The office's signing key",
  "signature": "The office's signature over the document",
  "key-validity": "The key was valid when the record was made",
  "current-version": "Whether it is the current version",
  "per-right-state": "Whether it is the current version",
  "locate": "Looking the file's hash up",
  "evidence-hash": "The file as evidence of an ownership change",
  "st96-parse": "Reading the ST.96 XML",
  "source-xml": "The XML against the office's source document",
  "anchor": "The batch anchor on chain",
  "anchor-office": "The office that anchored the batch",
  "merkle-proof": "The record's place in the anchored batch",
  "designation": "The designation on the chain",
  "designation-record": "The registration's record lists the designation",
  "designated-office": "The designated office recorded the decision",
};
const RESULTS = { pass: "passed", fail: "failed", skipped: "not checked" };

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
    if (child !== null && child !== undefined && child !== false) node.append(child);
  }
  return node;
}

function rightPath(id) {
  return "/v1/rights/" + encodeURIComponent(id);
}

function rightHref(id, at) {
  return "#/rights/" + encodeURIComponent(id) + (at ? "?at=" + encodeURIComponent(at) : "");
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

// ---------------------------------------------------------------- words for values

// "2024-03-02T10:15:00+00:00" -> "2024-03-02 10:15:00 UTC"
function when(iso) {
  if (!iso) return "";
  return String(iso).replace("T", " ").replace(/(\.\d+)?(\+00:00|Z)$/, " UTC");
}

function ownerNames(owners) {
  if (!Array.isArray(owners)) return null;
  const names = owners.map((o) => o.name).filter(Boolean);
  return names.length ? names.join("; ") : null;
}

// A status in words ("Terminated (stage: terminated) — H13 cessation: lapsed (T6H13)"), or the raw code while
// the gateway gives no words for it.
function statusText(words, code) {
  const raw = (words && words.code) || code;
  if (words && words.text) return raw ? `${words.text} (${raw})` : words.text;
  return raw || null;
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
        el("strong", { text: `${CHECKS[check.name] || check.name.replace(/-/g, " ")}: ${RESULTS[result] || result}` }),
        check.detail ? el("span", { class: "detail", text: ` — ${check.detail}` }) : null),
    );
  }
  return list;
}

function fact(list, name, value) {
  if (value === undefined || value === null || value === "") return;
  list.append(el("dt", { text: name }), el("dd", {}, value instanceof Node ? value : String(value)));
}

// ---------------------------------------------------------------- chain status

async function showStatus() {
  let s;
  try {
    s = await api("/v1/status");
  } catch (err) {
    $("chain-status").textContent = `Chain status unavailable: ${err.message}`;
    return;
  }
  $("chain-status").textContent =
    `Chain ${s.chainId} · head block ${s.headBlock} · indexed ${s.indexedBlock}` +
    (s.lag > 0 ? ` (${s.lag} behind)` : "");
  const facts = $("chain-facts");
  facts.replaceChildren();
  fact(facts, "Chain id", s.chainId);
  fact(facts, "Head block", s.headBlock === null ? "not read yet" : s.headBlock);
  fact(facts, "Indexed up to block", s.indexedBlock);
  fact(facts, "Index lag", s.lag === null ? "unknown" : `${s.lag} block${s.lag === 1 ? "" : "s"} behind the head`);
  fact(facts, "Head read at", when(s.headSeenAt));
  fact(facts, "Last error", s.lastError);
}

// ---------------------------------------------------------------- home: holdings and latest changes

async function showHoldings() {
  const table = $("holdings");
  let summary;
  try {
    summary = await api("/v1/summary");
  } catch (err) {
    $("holdings-total").textContent = `The summary is unavailable: ${err.message}`;
    return;
  }
  const kinds = Object.keys(summary.kinds || {});
  $("holdings-total").textContent = `${summary.total} rights from ${summary.offices.length} offices.`;
  table.querySelector("thead").replaceChildren(
    el("tr", {}, el("th", { scope: "col", text: "Office" }),
      ...kinds.map((k) => el("th", { scope: "col", text: KINDS[k] || k })),
      el("th", { scope: "col", text: "Total" })));
  const rows = summary.offices.map((o) =>
    el("tr", {}, el("th", { scope: "row", text: o.officeCode }),
      ...kinds.map((k) => el("td", { text: String((o.kinds || {})[k] || 0) })),
      el("td", { text: String(o.total) })));
  rows.push(el("tr", { class: "total" }, el("th", { scope: "row", text: "All offices" }),
    ...kinds.map((k) => el("td", { text: String(summary.kinds[k]) })),
    el("td", { text: String(summary.total) })));
  table.querySelector("tbody").replaceChildren(...rows);
}

let lastChanges = "";

async function showChanges() {
  const list = $("changes");
  let page;
  try {
    page = await api("/v1/changes?limit=10");
  } catch (err) {
    if (!list.children.length) list.replaceChildren(el("li", { text: `Latest changes unavailable: ${err.message}` }));
    return;
  }
  const key = JSON.stringify(page.items.map((i) => [i.chainRightId, i.version]));
  if (key === lastChanges) return; // unchanged: keep the list (and any focus in it) as it is
  lastChanges = key;
  if (!page.items.length) {
    list.replaceChildren(el("li", { text: "Nothing recorded yet." }));
    return;
  }
  list.replaceChildren(...page.items.map((item) => {
    const id = item.rightId || item.chainRightId;
    return el("li", {},
      el("a", { href: rightHref(id), text: item.summary }),
      el("span", { class: "meta", text: ` · ${id} · office ${item.officeCode} · ${when(item.timestamp)}` }));
  }));
}

// ---------------------------------------------------------------- search

function noMatch(query) {
  return [
    el("p", { text: `No right matches “${query}”.` }),
    el("p", { text: "Try:" }),
    el("ul", { class: "tips" },
      el("li", { text: "the right id in full: office, kind and application number, as EP:PAT:EP20190012345;" }),
      el("li", { text: "an application, publication or registration number, with or without spaces;" }),
      el("li", { text: "another office: the right may be recorded by the office that granted it (EP, GB, KR, WO…)." })),
  ];
}

async function search(query) {
  const results = $("search-results");
  query = query.trim();
  if (!query) return;
  if (RIGHT_ID.test(query)) {
    results.replaceChildren();
    location.hash = rightHref(query);
    return;
  }
  results.replaceChildren(el("p", { text: "Searching…" }));
  try {
    const page = await api("/v1/rights?limit=20&number=" + encodeURIComponent(query));
    if (page.items.length === 1) {
      results.replaceChildren();
      location.hash = rightHref(page.items[0].rightId || page.items[0].chainRightId);
      return;
    }
    if (page.items.length === 0) {
      results.replaceChildren(...noMatch(query));
      return;
    }
    const list = el("ul", { class: "results" });
    for (const item of page.items) {
      const id = item.rightId || item.chainRightId;
      list.append(el("li", {},
        el("a", { href: rightHref(id), text: id }),
        ` — ${item.title || item.kind} (${item.officeCode})`));
    }
    const shown = page.count > page.items.length ? `; the first ${page.items.length} are listed` : "";
    results.replaceChildren(el("p", { text: `${page.count} rights match “${query}”${shown}.` }), list);
  } catch (err) {
    results.replaceChildren(el("p", { class: "error", text: `Search failed: ${err.message}` }));
  }
}

// ---------------------------------------------------------------- one right, now or at a date

function resetRight(id) {
  $("right-title").textContent = id;
  $("right-facts").replaceChildren();
  rightMessage(null);
  $("timeline").replaceChildren();
  $("designations").hidden = true;
  $("family").hidden = true;
  $("finality").textContent = "";
  $("as-of").hidden = true;
  const badge = $("badge");
  badge.className = "badge";
  badge.textContent = "Verifying…";
  delete badge.dataset.verdict;
  $("badge-checks").querySelector("ul").replaceChildren();
}

// Why there are no facts to show (an error, or a right that did not exist yet), in place of them.
function rightMessage(text, isError = false) {
  const message = $("right-message");
  message.hidden = !text;
  message.className = isError ? "error" : "";
  message.textContent = text || "";
}

function showFacts(right, at) {
  const facts = $("right-facts");
  facts.replaceChildren();
  fact(facts, "Right id", right.rightId || "(not published)");
  fact(facts, "Office", right.officeCode);
  fact(facts, "Kind", right.kind);
  const gi = right.geographicalIndication;
  if (gi) {
    fact(facts, "Name", gi.name);
    fact(facts, "Product", gi.product);
    fact(facts, "Area", gi.area);
  } else {
    fact(facts, "Title", right.title);
  }
  const registration = right.internationalRegistration;
  if (registration) {
    const ir = registration.rightId || registration.chainRightId;
    fact(facts, "International registration", el("a", { href: rightHref(ir), text: ir }));
  }
  const owner = registration ? (at ? "Holder then (of the international registration)" : "Holder (of the international registration)")
    : (at ? "Owner then" : "Owner");
  fact(facts, owner, ownerNames(right.owners) ||
    (right.confidential ? "not published: the version is confidential" : null));
  fact(facts, "Status", statusText(right.status, right.statusCode));
  fact(facts, "Version", right.version);
  fact(facts, "Record hash", right.recordHash);
  fact(facts, "Last change", [when(right.updatedAt), right.updatedBlock ? `block ${right.updatedBlock}` : ""]
    .filter(Boolean).join(" · "));
}

function setReceipt(id, block) {
  const link = $("receipt-link");
  link.href = rightPath(id) + "/receipt" + (block ? "?block=" + block : "");
  link.setAttribute("download",
    "receipt-" + id.replace(/[^A-Za-z0-9._-]/g, "_") + (block ? "-block-" + block : "") + ".json");
}

function fillStateForm(at) {
  const date = $("state-date");
  const time = $("state-time");
  if (!at) {
    date.value = "";
    time.value = "";
    return;
  }
  const [day, rest] = at.split("T");
  date.value = day;
  time.value = rest ? rest.slice(0, 8) : "";
}

async function showRight(id, at) {
  resetRight(id);
  fillStateForm(at);
  await Promise.all([
    at ? showStateAt(id, at) : showCurrent(id), showHistory(id),
    at ? null : showDesignations(id), at ? null : showFamily(id),
  ]);
}

async function showCurrent(id) {
  setReceipt(id, null);
  let right;
  try {
    right = await api(rightPath(id));
  } catch (err) {
    if (err.status === 404 && id.includes("@")) {
      // a designation on which its office has decided nothing yet: the designation itself is verified
      rightMessage(`${id}: ${err.message}`);
      await showVerification(id, null);
      return;
    }
    rightMessage(`Cannot show ${id}: ${err.message}`, true);
    $("badge").textContent = "—";
    return;
  }
  showFacts(right, null);
  await showVerification(id, null);
}

async function showStateAt(id, at) {
  const asOf = $("as-of");
  const dateOnly = DATE_ONLY.test(at);
  const then = dateOnly ? `the end of ${at} (UTC)` : when(at);
  const back = el("a", { href: rightHref(id), text: "Back to the current state" });
  asOf.hidden = false;
  asOf.replaceChildren(`As it stood at ${then}. `, back);
  let state;
  try {
    state = await api(rightPath(id) + "/state?" + (dateOnly ? "date=" : "at=") + encodeURIComponent(at));
  } catch (err) {
    const said = err.status === 404
      ? `${id} did not exist yet on ${dateOnly ? at : when(at)}.`
      : `Cannot show ${id} as it stood then: ${err.message}`;
    rightMessage(said, err.status !== 404);
    $("badge").textContent = "—";
    setReceipt(id, null);
    return;
  }
  if (dateOnly && state.asOf) asOf.replaceChildren(`As it stood at ${then} (as of ${when(state.asOf)}). `, back);
  showFacts(state, at);
  setReceipt(id, state.updatedBlock);
  await showVerification(id, state.updatedBlock);
}

async function showVerification(id, block) {
  const badge = $("badge");
  try {
    const answer = await api(rightPath(id) + "/verification" + (block ? "?block=" + block : ""));
    const { tone, label } = verdictView(answer.verdict);
    badge.className = "badge " + tone;
    badge.textContent = block ? `${label} at block ${block}` : label;
    badge.dataset.verdict = answer.verdict;
    $("finality").textContent = finalityText(answer.finality);
    $("badge-checks").querySelector("ul").replaceWith(checksList(answer.checks));
  } catch (err) {
    badge.className = "badge warn";
    badge.textContent = `Verification unavailable: ${err.message}`;
  }
}

// ---------------------------------------------------------------- designations and family

function verdictCell(verdict) {
  if (!verdict) return el("td", { text: "not checked" });
  const { tone, label } = verdictView(verdict.verdict);
  const badge = el("span", { class: "sig " + tone, text: label });
  badge.dataset.verdict = verdict.verdict;
  return el("td", {}, badge);
}

function designatedText(d) {
  const category = d.designationCategory ? `${d.designationCategory} designation` : "designation";
  return `${category}${d.designationDate ? " of " + d.designationDate : ""} (version ${d.designatedInVersion})`;
}

async function showDesignations(id) {
  let answer;
  try {
    answer = await api(rightPath(id) + "/designations");
  } catch (err) {
    return; // a right the index does not hold: its facts say so
  }
  if (!answer.items.length) return;
  const box = $("designations");
  box.hidden = false;
  $("designations-summary").textContent = answer.items.map((d) => d.summary).join(". ") + ".";
  const rows = answer.items.map((d) => {
    const entry = d.designationId || d.chainDesignationId;
    const decision = d.latestDecision;
    const status = decision ? statusText(decision.status, decision.statusCode) : null;
    const receipt = el("a", { href: d.receipt, text: decision ? "Decision receipt" : "Designation receipt",
      download: "receipt-" + entry.replace(/[^A-Za-z0-9._-]/g, "_") + ".json" });
    return el("tr", {},
      el("th", { scope: "row" }, el("a", { href: rightHref(entry), text: d.designatedOfficeCode })),
      el("td", { text: designatedText(d) }),
      el("td", {}, el("span", { class: "decision", text: d.summary }),
        status ? el("span", { class: "meta", text: ` · ${status}` }) : null),
      verdictCell(d.verification),
      el("td", {}, receipt));
  });
  $("designations-table").querySelector("tbody").replaceChildren(...rows);
}

function memberLabel(m) {
  if (m.inRegistry) return el("a", { href: rightHref(m.rightId || m.chainRightId), text: m.rightId || m.chainRightId });
  return el("span", { text: `${m.officeCode} ${m.applicationNumber || ""} (not in the registry)` });
}

async function showFamily(id) {
  let answer;
  try {
    answer = await api(rightPath(id) + "/family");
  } catch (err) {
    return;
  }
  if (!answer.items.length) return;
  $("family").hidden = false;
  $("family-summary").textContent =
    `${answer.items.length} member${answer.items.length === 1 ? "" : "s"}, linked by any office's records, ` +
    `up to ${answer.maxDepth} links away.`;
  const rows = answer.items.map((m) => {
    const relation = (RELATIONS[m.relation] || m.relation) + (m.via ? ` (of ${m.via})` : "");
    const status = m.decided ? statusText(m.status, m.statusCode) : "designated, no decision yet";
    return el("tr", {},
      el("th", { scope: "row" }, memberLabel(m)),
      el("td", { text: relation }),
      el("td", { text: m.officeCode || "" }),
      el("td", { text: ownerNames(m.owners) || "—" }),
      el("td", { text: status || "—" }),
      verdictCell(m.verification));
  });
  $("family-table").querySelector("tbody").replaceChildren(...rows);
}

function ownersLine(item) {
  if (item.confidential) return "Owners: not shown — this version is confidential; only its seal is on chain.";
  const names = ownerNames(item.owners);
  if (!names) return null;
  return `Owners after this version: ${names}` +
    (item.ownersChecked ? " (checked against the record hash)" : " (not checked against the record hash)");
}

function timelineEntry(item) {
  const sig = el("span", { class: "sig", text: "checking signature…" });
  const corrects = item.statusEvent && item.statusEvent.correctsVersion;
  const status = statusText(item.status, item.statusCode);
  const owners = ownersLine(item);
  const entry = el("li", {},
    el("h4", { class: "what", text: item.summary }),
    el("p", { class: "version" },
      `Version ${item.version} · ${item.decision ? "Decision" : ACTIONS[item.action] || item.action} · `, sig),
    corrects ? el("p", { class: "corrects", text: `Corrects version ${corrects}.` }) : null,
    owners ? el("p", { class: "owners", text: owners }) : null,
    status ? el("p", { class: "status", text: `Status: ${status}` }) : null,
    el("p", { class: "meta",
      text: `Block ${item.blockNumber} · transaction ${item.transactionHash} · ${when(item.timestamp)}` }));
  return { entry, sig };
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
  const entries = history.items.map((item) => ({ item, ...timelineEntry(item) }));
  timeline.replaceChildren(...entries.map((e) => e.entry));
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

function submitStateAt(event) {
  event.preventDefault();
  const id = $("right-title").textContent;
  const date = $("state-date").value;
  if (!date) return;
  let time = $("state-time").value;
  if (time && time.length === 5) time += ":00";
  location.hash = rightHref(id, time ? `${date}T${time}Z` : date);
}

// ---------------------------------------------------------------- offices

function keyWindow(block, at) {
  return `block ${block}` + (at ? ` (${when(at)})` : "");
}

function keysTable(office) {
  const rows = (office.keys || []).map((key) => {
    const revoked = key.revokedAtBlock !== null && key.revokedAtBlock !== undefined;
    return el("tr", { class: revoked ? "revoked" : "" },
      el("td", { class: "addr", text: key.keyId }),
      el("td", { text: key.algorithm }),
      el("td", { text: keyWindow(key.addedAtBlock, key.addedAt) }),
      el("td", { text: revoked ? keyWindow(key.revokedAtBlock, key.revokedAt) : "still in force" }),
      el("td", {}, el("span", { class: "key-state " + (revoked ? "bad" : "ok"), text: revoked ? "revoked" : "valid" })));
  });
  // focusable, so that a keyboard can scroll it where the table is wider than a phone
  return el("div", { class: "table-wrap", tabindex: "0", role: "region", "aria-label": `Signing keys of ${office.officeCode}` },
    el("table", { class: "keys" },
      el("caption", { text: `Signing keys of ${office.officeCode}` }),
      el("thead", {}, el("tr", {},
        ...["Key id", "Algorithm", "Valid from", "Revoked at", "State"].map((h) => el("th", { scope: "col", text: h })))),
      el("tbody", {}, ...rows)));
}

function validatorText(office, network) {
  if (!office.validator) return "none named yet";
  if (!network || network.engine === "none") return office.validator;
  const v = (network.validators || []).find((x) => x.officeCode === office.officeCode);
  const sealing = v ? v.signer : (network.signers || []).map((s) => s.toLowerCase()).includes(office.validator.toLowerCase());
  return `${office.validator} · ${sealing ? "sealing blocks" : "not sealing"}`;
}

function healthText(health) {
  if (!health) return "not checked";
  if (health.reachable) {
    return "reachable" + (health.latencyMs !== null && health.latencyMs !== undefined
      ? ` (answered in ${Math.round(health.latencyMs)} ms)` : "");
  }
  return "unreachable" + (health.detail ? `: ${health.detail}` : "");
}

async function officeHealth(code) {
  try {
    return await api("/v1/offices/" + encodeURIComponent(code) + "/health");
  } catch (err) {
    return err.status === 404 ? null : { reachable: false, detail: err.message };
  }
}

function officeCard(office, health, network) {
  const facts = el("dl", { class: "facts" });
  fact(facts, "Status", office.status);
  fact(facts, "Endpoint", office.endpoint);
  fact(facts, "Endpoint health", el("span", { class: "health " + (health && health.reachable ? "ok" : health ? "bad" : ""),
    text: healthText(health) }));
  fact(facts, "Validator", validatorText(office, network));
  fact(facts, "Member since", `block ${office.admittedAtBlock}`);
  return el("article", { class: "office", "aria-labelledby": "office-" + office.officeCode },
    el("h3", { id: "office-" + office.officeCode, text: `${office.officeCode} — ${office.name}` }),
    facts, keysTable(office));
}

async function showOffices() {
  const box = $("offices");
  let offices;
  try {
    offices = await api("/v1/offices");
  } catch (err) {
    box.replaceChildren(el("p", { class: "error", text: `The offices are unavailable: ${err.message}` }));
    return;
  }
  const [network, ...health] = await Promise.all([
    api("/v1/network").catch(() => null),
    ...offices.items.map((o) => officeHealth(o.officeCode)),
  ]);
  box.replaceChildren(...offices.items.map((o, i) => officeCard(o, health[i], network)));
}

// ---------------------------------------------------------------- the validators

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

// ---------------------------------------------------------------- verify a file

function officeOf(verdict) {
  const id = verdict.rightId || "";
  return id.includes(":") ? id.split(":")[0] : "the competent office";
}

// The verdict in one sentence, for a person who reads nothing else.
function verdictSentence(v) {
  const right = v.rightId || "the right";
  const office = officeOf(v);
  const version = v.version ? ` (version ${v.version})` : "";
  switch (v.verdict) {
    case "authentic-current":
      return `This document is the authentic, current record of ${right}${version}: ${office} signed it and ` +
        `its hash is the one on the chain at block ${v.block.number}.`;
    case "authentic-superseded":
      return `This document is an authentic record of ${right}, but it is out of date: it is version ` +
        `${v.version}, and version ${v.currentVersion} has replaced it.`;
    case "tampered":
      return `This document has been altered: its content does not match what ${office} recorded on the chain` +
        (v.rightId ? ` for ${right}.` : ".");
    case "bad-signature":
      return `This document's signature is not valid: it was not signed with ${office}'s registered key, ` +
        "so it cannot be trusted.";
    case "key-revoked":
      return `This document was signed with a key that ${office} had already revoked when the record was made, ` +
        "so it cannot be trusted.";
    case "confidential":
      return `${right} is confidential at this version: the chain holds only a seal of its record, so the ` +
        "registry says nothing more about this document.";
    case "office-unreachable":
      return `${office}'s endpoint could not be reached, so this document was only partly checked: ` +
        "the chain was read, but the office's signed record could not be compared.";
    case "unknown":
      return "The registry does not know this document: it matches no record, source document or evidence " +
        "on the chain.";
    default:
      return `The verdict is “${v.verdict}”.`;
  }
}

function technicalDetail(v) {
  const facts = el("dl", { class: "facts" });
  const subject = v.subject || {};
  fact(facts, "File", subject.filename);
  fact(facts, "Form", subject.form);
  fact(facts, "File SHA-256", subject.sha256);
  fact(facts, "Record hash", subject.recordHash);
  fact(facts, "C14N SHA-256", subject.c14nSha256);
  fact(facts, "Right id", v.rightId);
  fact(facts, "Chain right id", v.chainRightId);
  fact(facts, "Version", v.version);
  fact(facts, "Current version", v.currentVersion);
  fact(facts, "Read at block", v.block ? `${v.block.number} (${v.block.hash})` : null);
  const key = (v.checks || []).find((c) => c.name === "signing-key");
  const keyId = key && (key.detail.match(/key (0x[0-9a-f]+)/) || [])[1];
  fact(facts, "Signing key id", keyId);
  if (v.finality) fact(facts, "Finality", finalityText(v.finality));
  return el("details", { class: "technical" },
    el("summary", { text: "Technical detail" }),
    facts,
    el("p", { text: "The checks as the gateway returned them:" }),
    el("pre", { text: JSON.stringify(v.checks || [], null, 2) }));
}

function verdictBlock(v) {
  const { tone, label } = verdictView(v.verdict);
  const badge = el("div", { class: "badge " + tone, role: "status", text: label });
  badge.dataset.verdict = v.verdict;
  const current = v.verdict === "authentic-superseded" && v.rightId
    ? el("p", {}, el("a", { href: rightHref(v.rightId), text: `See the current version of ${v.rightId}` }))
    : null;
  const still = Array.isArray(v.stillChecked) && v.stillChecked.length
    ? el("p", { text: `Still checked without the office: ${v.stillChecked.join("; ")}.` })
    : null;
  const sealed = v.finality ? el("p", { class: "finality", text: finalityText(v.finality) }) : null;
  return [
    badge,
    el("p", { class: "verdict-sentence", text: verdictSentence(v) }),
    current, still, sealed,
    el("h3", { text: "The checks" }),
    checksList(v.checks),
    technicalDetail(v),
  ].filter(Boolean);
}

async function verifyFile(file) {
  const out = $("verdict");
  out.replaceChildren(el("p", { text: `Verifying ${file.name}…` }));
  const form = new FormData();
  form.append("file", file, file.name);
  try {
    const answer = await api("/v1/verifications", { method: "POST", body: form });
    out.replaceChildren(...verdictBlock(answer));
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

// "#/rights/EP%3APAT%3A1?at=2024-01-01" -> {view: "right", id: "EP:PAT:1", at: "2024-01-01"}
function parseRoute(hash) {
  if (hash === "" || hash === "#" || hash === "#/") return { view: "home" };
  const right = hash.match(/^#\/rights\/([^?]+)(?:\?(.*))?$/);
  if (right) {
    const at = new URLSearchParams(right[2] || "").get("at");
    return { view: "right", id: decodeURIComponent(right[1]), at: at || null };
  }
  if (hash === "#/offices") return { view: "offices" };
  if (hash === "#/verify") return { view: "verify" };
  return { view: "missing" };
}

const HEADINGS = {
  home: "search-title", right: "right-title", offices: "offices-title", verify: "verify-title",
  missing: "missing-title",
};
const NAMES = { home: "Home", right: "Right", offices: "Offices", verify: "Verify a document", missing: "Not found" };
let currentView = null;

function showView(view) {
  for (const node of document.querySelectorAll("main > .view")) node.hidden = node.dataset.view !== view;
  for (const link of document.querySelectorAll("nav a[data-view]")) {
    if (link.dataset.view === view) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  currentView = view;
}

function route(moveFocus) {
  const target = parseRoute(location.hash);
  showView(target.view);
  document.title = (target.view === "right" ? target.id : NAMES[target.view]) + " — Shared IP Registry";
  if (moveFocus) $(HEADINGS[target.view]).focus();
  if (target.view === "home") {
    showHoldings();
    showChanges();
  } else if (target.view === "right") {
    showRight(target.id, target.at);
  } else if (target.view === "offices") {
    showOffices();
    showNetwork();
  }
}

document.addEventListener("DOMContentLoaded", () => {
  $("skip-link").addEventListener("click", (event) => {
    event.preventDefault(); // a hash change would be taken for a route
    $("main").focus();
  });
  $("search-form").addEventListener("submit", (event) => {
    event.preventDefault();
    search($("search-input").value);
  });
  $("state-at-form").addEventListener("submit", submitStateAt);
  setUpDropZone();
  window.addEventListener("hashchange", () => route(true));
  setInterval(() => {
    showStatus();
    if (currentView === "home") showChanges();
    else if (currentView === "offices") showNetwork();
  }, REFRESH_MS);
  showStatus();
  route(false);
});
