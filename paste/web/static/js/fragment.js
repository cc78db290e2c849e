// The URL fragment of a paste page: the key of an encrypted paste and the
// selected lines, both optional, never sent to the server.
//
//   #KEY            an encrypted paste
//   #KEY-L12        ... with line 12 selected
//   #KEY-L12-L20    ... with lines 12 to 20 selected
//   #L12, #L12-L20  a clear paste's lines
//
// KEY is 43 characters of base64url (a 256-bit key); its fixed length keeps
// the dash before L unambiguous. The original pasteur's KEY, base64 of a
// JSON Web Key, is longer and of base64's standard alphabet, without '-'.

const FRAGMENT = /^(?:([A-Za-z0-9_-]{43}))?(?:-?L([1-9][0-9]*)(?:-L?([1-9][0-9]*))?)?$/;
const LEGACY = /^([A-Za-z0-9+/]{44,}={0,2})(?:-L([1-9][0-9]*)(?:-L?([1-9][0-9]*))?)?$/;

// parseFragment reads location.hash. A fragment that is neither form is
// taken whole as a key, so that a damaged link says its key is wrong.
export function parseFragment(hash) {
  let h = hash.replace(/^#/, "");
  try {
    h = decodeURIComponent(h);
  } catch {
    // a stray % stays as it is
  }
  const m = FRAGMENT.exec(h) || LEGACY.exec(h);
  if (!m) return { key: h, from: 0, to: 0 };
  const from = m[2] ? Number(m[2]) : 0;
  let to = m[3] ? Number(m[3]) : from;
  return { key: m[1] || "", from: Math.min(from, to), to: Math.max(from, to) };
}

// formatFragment writes a fragment, without its "#".
export function formatFragment({ key, from, to }) {
  let lines = "";
  if (from > 0) lines = "L" + from + (to > from ? "-L" + to : "");
  if (key && lines) return key + "-" + lines;
  return key || lines;
}
