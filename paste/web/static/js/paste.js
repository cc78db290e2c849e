// The paste page: decrypts an encrypted paste with the fragment's key,
// highlights, numbers lines, follows #L12 selections, and copies.
import { openEnvelope, showStatus } from "./decrypt.js";
import { parseFragment, formatFragment } from "./fragment.js";
import { highlight } from "./highlighter.js";
import { renderLines, selectLines } from "./lines.js";
import { copyText } from "./copy.js";

const root = document.getElementById("paste");
const code = document.getElementById("code");
const encrypted = root.dataset.envelope !== undefined;
let fragment = parseFragment(location.hash);
let text = null;

async function main() {
  if (encrypted) {
    text = await openEnvelope(root.dataset.envelope, fragment.key);
    if (text === null) return;
  } else {
    text = code.textContent;
  }
  const files = (root.dataset.hlFiles || "").split(" ").filter(Boolean);
  const html = await highlight(text, root.dataset.hl, files);
  renderLines(code, html, root.dataset.ln === "true", (n) => formatFragment({ key: fragment.key, from: n, to: n }));
  code.classList.add("hljs");
  root.hidden = false;
  document.body.classList.add("ready");
  selectLines(code, fragment.from, fragment.to, true);
  keepKeyInLinks();
  const copy = document.getElementById("copy");
  copy.disabled = false;
  copy.addEventListener("click", () => copyText(text, copy));
  code.addEventListener("click", onLineNumber);
  window.addEventListener("hashchange", onHashChange);
}

// onLineNumber selects the clicked line, or with Shift the lines from the
// selected one, and records it in the fragment without losing the key.
function onLineNumber(ev) {
  const a = ev.target.closest("a.ln");
  if (!a) return;
  ev.preventDefault();
  const n = Number(a.dataset.n);
  let from = n, to = n;
  if (ev.shiftKey && fragment.from) {
    from = Math.min(fragment.from, n);
    to = Math.max(fragment.to, n);
  }
  fragment = { key: fragment.key, from, to };
  history.replaceState(null, "", "#" + formatFragment(fragment));
  selectLines(code, from, to, false);
}

function onHashChange() {
  const f = parseFragment(location.hash);
  if (encrypted && f.key !== fragment.key) {
    location.reload(); // another key: decrypt again
    return;
  }
  fragment = f;
  selectLines(code, f.from, f.to, true);
}

// keepKeyInLinks adds the fragment's key to the page's own links, which
// the server wrote without it.
function keepKeyInLinks() {
  if (!fragment.key) return;
  for (const id of ["raw-link", "lines-link"]) {
    const a = document.getElementById(id);
    if (a) a.href = a.getAttribute("href").split("#")[0] + "#" + fragment.key;
  }
}

main().catch((err) => showStatus("Something went wrong showing this paste: " + err));
