// art28 portal: checks each access-log entry's inclusion in the signed tree, in the browser.
// The leaf is the entry's exact bytes; its hash is SHA-256(0x00 || bytes) and each step of the
// proof hashes SHA-256(0x01 || left || right), as RFC 9162 §2.1.3.2 says; the result must be
// the checkpoint's root. Nothing here is needed to use the portal: pages work without script.
"use strict";
document.documentElement.classList.add("js");

function hexToBytes(hex) {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.substr(i * 2, 2), 16);
  return out;
}

function bytesToHex(bytes) {
  return Array.from(new Uint8Array(bytes), (b) => b.toString(16).padStart(2, "0")).join("");
}

async function sha256(prefix, ...parts) {
  const len = 1 + parts.reduce((n, p) => n + p.length, 0);
  const buf = new Uint8Array(len);
  buf[0] = prefix;
  let at = 1;
  for (const p of parts) { buf.set(p, at); at += p.length; }
  return new Uint8Array(await crypto.subtle.digest("SHA-256", buf));
}

// RFC 9162 §2.1.3.2, with BigInt so indices past 2^53 stay exact.
async function rootFromProof(leafBytes, index, size, proof) {
  if (index >= size) return null;
  let fn = index, sn = size - 1n;
  let r = await sha256(0x00, leafBytes);
  for (const p of proof) {
    if (sn === 0n) return null;
    if ((fn & 1n) === 1n || fn === sn) {
      r = await sha256(0x01, p, r);
      while ((fn & 1n) === 0n && fn !== 0n) { fn >>= 1n; sn >>= 1n; }
    } else {
      r = await sha256(0x01, r, p);
    }
    fn >>= 1n; sn >>= 1n;
  }
  return sn === 0n ? bytesToHex(r) : null;
}

async function checkAll(button) {
  if (!(window.crypto && crypto.subtle)) {
    // Browsers offer WebCrypto only to secure pages (https, or this machine itself).
    document.getElementById("check-insecure").hidden = false;
    return;
  }
  const cp = document.getElementById("checkpoint");
  const size = BigInt(cp.dataset.size);
  const root = cp.dataset.root;
  const encoder = new TextEncoder();
  let good = 0, bad = 0;
  for (const row of document.querySelectorAll("tr.entry")) {
    const cell = row.querySelector(".verdict");
    const proof = row.dataset.proof ? row.dataset.proof.split(",").map(hexToBytes) : [];
    const got = await rootFromProof(encoder.encode(row.dataset.leaf), BigInt(row.dataset.index), size, proof);
    const ok = got === root;
    cell.textContent = ok ? button.dataset.ok : button.dataset.bad;
    cell.classList.remove("ok", "bad");
    cell.classList.add(ok ? "ok" : "bad");
    if (ok) good++; else bad++;
  }
  document.body.dataset.checked = `${good}/${good + bad}`;
}

// htmx swaps in what a form's answer shows; when the answer is a refusal, or another page (the
// login page, when the session ended), the browser goes there as it would without script.
document.addEventListener("htmx:beforeSwap", (event) => {
  const xhr = event.detail.xhr;
  const to = new URL(xhr.responseURL || location.href, location.href);
  if (xhr.status >= 400) {
    event.detail.shouldSwap = false;
    // The element that sent the request (the event itself fires on the target it would swap).
    const from = event.detail.requestConfig ? event.detail.requestConfig.elt : null;
    const form = from instanceof Element ? from.closest("form") : null;
    if (form) HTMLFormElement.prototype.submit.call(form);
  } else if (to.pathname !== location.pathname) {
    event.detail.shouldSwap = false;
    location.assign(to.href);
  }
});

document.addEventListener("DOMContentLoaded", () => {
  const button = document.getElementById("check-all");
  if (button) button.addEventListener("click", () => { checkAll(button); });
});
