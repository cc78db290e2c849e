// Opening an encrypted paste on a page: the key from the fragment, a
// password asked for in the page's unlock form when the paste has one, and
// a clear message for each way it can fail.
import * as seal from "./seal.js";
import { isLegacy, openLegacy } from "./legacy.js";

// Messages shown for each failure.
const MESSAGES = {
  nokey:
    "This paste is encrypted, and this link has no key. The key is the part after # in the link that was shared: check that you copied all of it.",
  decrypt:
    "This paste cannot be decrypted with the key in this link: the key is wrong or incomplete (or the paste was altered). Check that you copied the whole link, including the part after #.",
  password: "Wrong password, or the key in the link is wrong.",
  format: "This paste is not in a format this page can decrypt.",
  unsupported:
    "This browser cannot decrypt here: WebCrypto works only over HTTPS (or on localhost). Run pasteur get with the link instead.",
};

// showStatus puts a message in the page's status line (kind "error" or
// "info"), or hides it for an empty message.
export function showStatus(message, kind = "error") {
  const el = document.getElementById("status");
  el.textContent = message;
  el.className = "status " + kind;
  el.hidden = !message;
}

// openEnvelope decrypts envelope with key, asking for the password in the
// #unlock form when the paste needs one, and resolves to the text. It
// resolves to null, having said why on the page, when it cannot. The
// original pasteur's pastes (hex, with its JWK key in the link) open too.
export async function openEnvelope(envelope, key) {
  try {
    if (!key) {
      showStatus(MESSAGES.nokey);
      return null;
    }
    if (isLegacy(envelope)) return await openLegacy(envelope, key);
    seal.parseKey(key);
    if (!seal.needsPassword(envelope)) {
      return seal.decodeText(await seal.open(envelope, key, ""));
    }
  } catch (err) {
    showStatus(MESSAGES[err.kind] || String(err));
    return null;
  }
  return askPassword(envelope, key);
}

// askPassword shows the unlock form until a password opens the paste.
function askPassword(envelope, key) {
  const form = document.getElementById("unlock");
  const input = document.getElementById("unlock-password");
  form.hidden = false;
  input.focus();
  return new Promise((resolve) => {
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const button = form.querySelector("button");
      button.disabled = true;
      showStatus("Decrypting…", "info");
      try {
        const text = seal.decodeText(await seal.open(envelope, key, input.value));
        form.hidden = true;
        showStatus("");
        resolve(text);
      } catch (err) {
        showStatus(err.kind === "decrypt" ? MESSAGES.password : MESSAGES[err.kind] || String(err));
        input.select();
      } finally {
        button.disabled = false;
      }
    });
  });
}
