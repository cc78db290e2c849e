// The new-paste form: reads the text (or a chosen file, byte for byte),
// encrypts it in the browser when Encrypted is ticked, posts it, and goes
// to the paste at /ID?hl=LANG&ln=true#KEY.
import * as seal from "./seal.js";

const form = document.getElementById("new-paste");
const textarea = document.getElementById("text");
const fileInput = document.getElementById("file");
const fileName = document.getElementById("file-name");
const fileClear = document.getElementById("file-clear");
const encrypted = document.getElementById("encrypted");
const passwordRow = document.getElementById("password-row");
const password = document.getElementById("password");
const submit = document.getElementById("submit");
const statusLine = document.getElementById("status");
const maxSize = Number(form.dataset.maxSize);

function say(message, kind = "error") {
  statusLine.textContent = message;
  statusLine.className = "status " + kind;
  statusLine.hidden = !message;
}

function chosenFile() {
  return fileInput.files && fileInput.files.length ? fileInput.files[0] : null;
}

function syncFile() {
  const f = chosenFile();
  fileName.hidden = fileClear.hidden = !f;
  textarea.disabled = !!f;
  if (f) fileName.textContent = `${f.name} (${f.size.toLocaleString()} bytes) will be pasted as it is.`;
}

function syncEncrypted() {
  passwordRow.hidden = !encrypted.checked;
}

// theBytes returns what to paste: the chosen file's bytes exactly, or the
// text box's text (which browsers give with \n line ends).
async function theBytes() {
  const f = chosenFile();
  if (!f) return new TextEncoder().encode(textarea.value);
  const bytes = new Uint8Array(await f.arrayBuffer());
  try {
    new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new Error(`${f.name} is not UTF-8 text: pasteur keeps text only.`);
  }
  return bytes;
}

async function send(ev) {
  ev.preventDefault();
  say("");
  submit.disabled = true;
  try {
    const bytes = await theBytes();
    if (bytes.length === 0) throw new Error("There is nothing to paste.");
    if (bytes.length > maxSize) {
      throw new Error(`The paste is ${bytes.length.toLocaleString()} bytes; this server takes up to ${maxSize.toLocaleString()}.`);
    }
    let body = bytes;
    let key = "";
    if (encrypted.checked) {
      say("Encrypting…", "info");
      key = seal.newKey();
      body = new TextEncoder().encode(await seal.seal(bytes, key, password.value));
    }
    const data = new FormData();
    // A Blob keeps the bytes as they are: a string field would have its
    // line ends rewritten.
    data.append("paste", new Blob([body], { type: "text/plain" }), "paste");
    for (const name of ["hl", "user", "comment", "expire"]) data.append(name, form.elements[name].value);
    for (const name of ["ln", "raw", "encrypted", "burn"]) if (form.elements[name].checked) data.append(name, "on");
    say("Sending…", "info");
    const resp = await fetch("/", { method: "POST", body: data, headers: { Accept: "application/json" } });
    if (!resp.ok) throw new Error((await resp.text()).trim() || `The server answered ${resp.status}.`);
    const answer = await resp.json();
    if (answer.delete_token) rememberToken(answer.code, answer.delete_token);
    const q = new URLSearchParams();
    if (answer.raw) q.set("raw", "true");
    else {
      if (answer.hl) q.set("hl", answer.hl);
      if (answer.ln) q.set("ln", "true");
    }
    const query = q.toString();
    location.assign("/" + encodeURIComponent(answer.code) + (query ? "?" + query : "") + (key ? "#" + key : ""));
  } catch (err) {
    say(err.message || String(err));
    submit.disabled = false;
  }
}

// rememberToken keeps a paste's delete token in this browser, so that its
// page offers Delete.
function rememberToken(id, token) {
  try {
    localStorage.setItem("pasteur-token:" + id, token);
  } catch (err) {
    console.warn("pasteur: cannot keep the delete token:", err);
  }
}

if (!seal.available()) {
  encrypted.checked = false;
  encrypted.disabled = true;
  const note = document.getElementById("crypto-note");
  note.textContent = "Encryption is off: browsers allow WebCrypto only over HTTPS (or on localhost). pasteur put --encrypt works anywhere.";
  note.hidden = false;
}
form.addEventListener("submit", send);
fileInput.addEventListener("change", syncFile);
fileClear.addEventListener("click", () => {
  fileInput.value = "";
  syncFile();
});
encrypted.addEventListener("change", syncEncrypted);
form.addEventListener("keydown", (ev) => {
  if (ev.key === "Enter" && (ev.ctrlKey || ev.metaKey)) form.requestSubmit();
});
syncFile();
syncEncrypted();
document.body.classList.add("ready");
