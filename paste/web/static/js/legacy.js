// The original pasteur's encryption, read so that its links keep working
// (docs/FORMAT.md, "The original's format"; package seal's legacy.go is the
// same in Go). Its page encrypted with WebCrypto AES-CBC under a 128-bit
// key, stored the ciphertext as hex, and put the key in the link as base64
// of its JSON Web Key. Its git era used a fixed IV; its newest wrote a
// random IV in front of the ciphertext. Nothing stored says which: CBC
// decrypts every block but the first alike under both, so the first block
// is kept when it reads as text, and is otherwise the IV. pasteur never
// writes this format.
import { SealError, available, decode } from "./seal.js";

const FIXED_IV = new Uint8Array([0x48, 0x3b, 0x2e, 0xc4, 0x44, 0x0d, 0x2c, 0xb0, 0x46, 0xf4, 0xd5, 0x76, 0xa1, 0x94, 0x26, 0x0d]);
const BLOCK = 16;
const MAX_KEY = 1024;

// isLegacy reports whether stored contents are the original's: hex of
// whole 16-byte blocks.
export function isLegacy(contents) {
  return contents.length > 0 && contents.length % (2 * BLOCK) === 0 && /^[0-9a-fA-F]+$/.test(contents);
}

// isLegacyKey reports whether a fragment's key is the original's: longer
// than pasteur's 43 characters, of base64's standard alphabet.
export function isLegacyKey(s) {
  return s.length > 43 && s.length <= MAX_KEY && /^[A-Za-z0-9+/]+={0,2}$/.test(s);
}

// anyBase64 decodes base64, standard or URL alphabet, padded or not.
function anyBase64(s) {
  return decode(s.replace(/=+$/, "").replaceAll("+", "-").replaceAll("/", "_"), "key");
}

// parseLegacyKey reads the original's fragment key and returns the raw AES
// key bytes.
export function parseLegacyKey(s) {
  const bad = () => new SealError("decrypt", "the link's key is not a key of the original pasteur");
  let jwk;
  try {
    if (s.length > MAX_KEY) throw bad();
    jwk = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(anyBase64(s)));
  } catch {
    throw bad();
  }
  if (!jwk || typeof jwk !== "object" || jwk.kty !== "oct" || typeof jwk.k !== "string") throw bad();
  let k;
  try {
    k = decode(jwk.k.replace(/=+$/, ""), "key");
  } catch {
    throw bad();
  }
  const alg = { 16: "A128CBC", 24: "A192CBC", 32: "A256CBC" }[k.length];
  if (!alg || (jwk.alg !== undefined && jwk.alg !== alg)) throw bad();
  return k;
}

function unhex(s) {
  const out = new Uint8Array(s.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(s.substr(2 * i, 2), 16);
  return out;
}

// textBlock reports whether b has no control byte but tab, LF, VT, FF, CR
// and ESC.
function textBlock(b) {
  return b.every((c) => !((c < 0x20 && !(c >= 0x09 && c <= 0x0d) && c !== 0x1b) || c === 0x7f));
}

function utf8(b) {
  try {
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(b);
  } catch {
    return null;
  }
}

// openLegacy decrypts the original's paste with its fragment key and
// resolves to the text. It throws a SealError of kind "format",
// "unsupported" or "decrypt".
export async function openLegacy(contents, keyText) {
  if (!available()) {
    throw new SealError("unsupported", "this browser cannot decrypt here: WebCrypto needs HTTPS (or localhost)");
  }
  if (!isLegacy(contents)) throw new SealError("format", "not the original pasteur's ciphertext");
  const raw = parseLegacyKey(keyText);
  const key = await crypto.subtle.importKey("raw", raw, "AES-CBC", false, ["decrypt"]);
  const ct = unhex(contents);
  let out;
  try {
    out = new Uint8Array(await crypto.subtle.decrypt({ name: "AES-CBC", iv: FIXED_IV }, key, ct));
  } catch {
    throw new SealError("decrypt", "wrong key");
  }
  const fixed = utf8(out);
  if (fixed !== null && (out.length <= BLOCK || textBlock(out.subarray(0, BLOCK)))) return fixed;
  const newest = out.length > BLOCK ? utf8(out.subarray(BLOCK)) : null;
  if (newest !== null) return newest;
  if (fixed !== null) return fixed;
  throw new SealError("decrypt", "wrong key");
}
