// The raw view of an encrypted paste: the server cannot decrypt it, so this
// page does, and shows the text alone, as a text/plain answer would.
import { openEnvelope } from "./decrypt.js";
import { parseFragment } from "./fragment.js";

const pre = document.getElementById("raw");

async function main() {
  const text = await openEnvelope(pre.dataset.envelope, parseFragment(location.hash).key);
  if (text !== null) {
    pre.textContent = text;
    document.body.classList.add("ready");
  }
}

main();
