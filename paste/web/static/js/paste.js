// The paste page: decrypts an encrypted paste with the fragment's key,
// highlights, numbers lines, follows #L12 selections, and copies. A paste
// that burns after reading is fetched only when the reader asks (which
// deletes it); a paste made in this browser can be deleted.
import { openEnvelope, showStatus } from "./decrypt.js";
import { parseFragment, formatFragment } from "./fragment.js";
import { highlight } from "./highlighter.js";
import { renderLines, selectLines } from "./lines.js";
import { copyText } from "./copy.js";

const root = document.getElementById("paste");
const code = document.getElementById("code");
let encrypted = root.dataset.envelope !== undefined;
let fragment = parseFragment(location.hash);
let text = null;

async function main() {
  offerDelete();
  if (root.dataset.burn === "true") {
    if (!(await readOnce())) return;
  }
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

// readOnce waits for the reader to ask, then fetches the paste, which
// deletes it, and puts it in the page. It returns false when that failed.
function readOnce() {
  const form = document.getElementById("burn");
  // An encrypted paste's button waits for this script: the form's own
  // post would burn it on a page that cannot decrypt it.
  form.querySelector("button").disabled = false;
  form.dataset.armed = "true";
  return new Promise((resolve) => {
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      form.querySelector("button").disabled = true;
      try {
        const resp = await fetch("/" + encodeURIComponent(root.dataset.id), { headers: { Accept: "application/json" } });
        if (!resp.ok) throw new Error((await resp.text()).trim() || `The server answered ${resp.status}.`);
        const doc = await resp.json();
        form.remove();
        showStatus("This paste was deleted as it was shown: this page is its only copy.", "info");
        encrypted = !!doc.encrypted;
        if (encrypted) root.dataset.envelope = doc.contents;
        else code.textContent = doc.contents;
        resolve(true);
      } catch (err) {
        form.remove();
        showStatus(err.message || String(err));
        resolve(false);
      }
    });
  });
}

// offerDelete shows Delete when this browser made the paste (and kept its
// delete token).
function offerDelete() {
  const key = "pasteur-token:" + root.dataset.id;
  let token = null;
  try {
    token = localStorage.getItem(key);
  } catch {
    return;
  }
  if (!token) return;
  const button = document.getElementById("delete");
  button.hidden = false;
  button.addEventListener("click", async () => {
    if (!confirm("Delete this paste? Nobody will be able to read it again.")) return;
    button.disabled = true;
    // Not Authorization: on a server whose pages need a user, it carries
    // the credentials the browser keeps for the site.
    const resp = await fetch("/" + encodeURIComponent(root.dataset.id), { method: "DELETE", headers: { "Pasteur-Delete-Token": token } });
    if (resp.status === 204 || resp.status === 404 || resp.status === 410) {
      localStorage.removeItem(key);
      root.hidden = true;
      showStatus("This paste is deleted.", "info");
      button.hidden = true;
      return;
    }
    button.disabled = false;
    showStatus((await resp.text()).trim() || `The server answered ${resp.status}.`);
  });
}

main().catch((err) => showStatus("Something went wrong showing this paste: " + err));
