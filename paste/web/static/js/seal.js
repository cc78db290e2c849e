// pasteur's end-to-end encryption format, as docs/FORMAT.md describes it and
// package seal implements it in Go: AES-256-GCM under a random 256-bit key
// kept in the URL fragment, optionally mixed with a password through
// PBKDF2-SHA256. Everything here runs in the browser; the server never sees
// a key, a password or the text.

export const KEY_SIZE = 32;
export const IV_SIZE = 12;
export const SALT_SIZE = 16;
export const TAG_SIZE = 16;
export const DEFAULT_ITERATIONS = 600000;
export const MIN_ITERATIONS = 100000;
export const MAX_ITERATIONS = 10000000;
export const VERSION = "v1";

// Errors carry a kind that the pages turn into messages.
export class SealError extends Error {
  constructor(kind, message) {
    super(message);
    this.kind = kind; // "format", "password", "decrypt", "unsupported"
  }
}

// available reports whether this page can encrypt and decrypt: WebCrypto's
// subtle API exists only in secure contexts (HTTPS, or localhost).
export function available() {
  return !!(globalThis.crypto && globalThis.crypto.subtle && globalThis.isSecureContext !== false);
}

function requireCrypto() {
  if (!available()) {
    throw new SealError("unsupported", "this browser cannot encrypt or decrypt here: WebCrypto needs HTTPS (or localhost)");
  }
}

const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
const B64_INDEX = new Int16Array(128).fill(-1);
for (let i = 0; i < B64.length; i++) B64_INDEX[B64.charCodeAt(i)] = i;

// encode is base64url without padding.
export function encode(bytes) {
  let out = "";
  const chunk = [];
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const n = (bytes[i] << 16) | (bytes[i + 1] << 8) | bytes[i + 2];
    chunk.push(B64[n >> 18], B64[(n >> 12) & 63], B64[(n >> 6) & 63], B64[n & 63]);
    if (chunk.length >= 8192) {
      out += chunk.join("");
      chunk.length = 0;
    }
  }
  if (i < bytes.length) {
    const n = (bytes[i] << 16) | ((i + 1 < bytes.length ? bytes[i + 1] : 0) << 8);
    chunk.push(B64[n >> 18], B64[(n >> 12) & 63]);
    if (i + 1 < bytes.length) chunk.push(B64[(n >> 6) & 63]);
  }
  return out + chunk.join("");
}

// decode reads base64url without padding, strictly: other characters,
// a length of 4n+1 and non-zero trailing bits are errors.
export function decode(s, what) {
  const bad = () => new SealError("format", `the ${what} is not base64url without padding`);
  if (s.length % 4 === 1) throw bad();
  const out = new Uint8Array(Math.floor((s.length * 3) / 4));
  let o = 0, acc = 0, bits = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const v = c < 128 ? B64_INDEX[c] : -1;
    if (v < 0) throw bad();
    acc = (acc << 6) | v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (acc >> bits) & 255;
    }
  }
  if (acc & ((1 << bits) - 1)) throw bad();
  return out;
}

// newKey returns a random 256-bit key as it appears in the URL fragment.
export function newKey() {
  return encode(crypto.getRandomValues(new Uint8Array(KEY_SIZE)));
}

// parseKey decodes a fragment key.
export function parseKey(s) {
  let k;
  try {
    k = decode(s, "key");
  } catch {
    k = null;
  }
  if (!k || k.length !== KEY_SIZE) throw new SealError("decrypt", "the link's key is malformed");
  return k;
}

// parse reads an envelope:
//   v1.IV.CIPHERTEXT  or  v1.IV.CIPHERTEXT.ITERATIONS.SALT
export function parse(s) {
  const f = s.split(".");
  if ((f.length !== 3 && f.length !== 5) || f[0] !== VERSION) {
    throw new SealError("format", "not a pasteur v1 encrypted paste");
  }
  const e = { iv: decode(f[1], "iv"), ciphertext: decode(f[2], "ciphertext"), iterations: 0, salt: null };
  if (e.iv.length !== IV_SIZE) throw new SealError("format", "the iv has the wrong length");
  if (e.ciphertext.length < TAG_SIZE) throw new SealError("format", "the ciphertext is shorter than its tag");
  if (f.length === 5) {
    const n = Number(f[3]);
    if (!/^[1-9][0-9]*$/.test(f[3]) || n < MIN_ITERATIONS || n > MAX_ITERATIONS) {
      throw new SealError("format", "the iteration count is out of range");
    }
    e.iterations = n;
    e.salt = decode(f[4], "salt");
    if (e.salt.length !== SALT_SIZE) throw new SealError("format", "the salt has the wrong length");
  }
  return e;
}

// needsPassword reports whether opening envelope text s takes a password.
export function needsPassword(s) {
  return parse(s).iterations > 0;
}

// contentKey is the AES-GCM key: the fragment key itself, or
// PBKDF2-HMAC-SHA256(key ‖ UTF-8 password, salt, iterations, 256 bits).
async function contentKey(key, password, salt, iterations) {
  const subtle = crypto.subtle;
  if (!password) {
    return subtle.importKey("raw", key, "AES-GCM", false, ["encrypt", "decrypt"]);
  }
  const pw = new TextEncoder().encode(password);
  const material = new Uint8Array(key.length + pw.length);
  material.set(key);
  material.set(pw, key.length);
  const base = await subtle.importKey("raw", material, "PBKDF2", false, ["deriveKey"]);
  return subtle.deriveKey(
    { name: "PBKDF2", hash: "SHA-256", salt, iterations },
    base,
    { name: "AES-GCM", length: 256 },
    false,
    ["encrypt", "decrypt"],
  );
}

// seal encrypts bytes (a Uint8Array) under the fragment key (its text
// form) and password ("" for none) and returns the envelope.
export async function seal(bytes, keyText, password, iterations = DEFAULT_ITERATIONS) {
  requireCrypto();
  const key = parseKey(keyText);
  const iv = crypto.getRandomValues(new Uint8Array(IV_SIZE));
  let tail = "";
  let salt = null;
  if (password) {
    salt = crypto.getRandomValues(new Uint8Array(SALT_SIZE));
    tail = "." + iterations + "." + encode(salt);
  }
  const ck = await contentKey(key, password, salt, iterations);
  const ct = new Uint8Array(await crypto.subtle.encrypt({ name: "AES-GCM", iv }, ck, bytes));
  return VERSION + "." + encode(iv) + "." + encode(ct) + tail;
}

// open decrypts envelope text s with the fragment key and password and
// returns the bytes. It throws a SealError of kind "format", "password"
// (a password is needed and none was given) or "decrypt".
export async function open(s, keyText, password) {
  requireCrypto();
  const e = parse(s);
  if (e.iterations > 0 && !password) throw new SealError("password", "this paste needs a password");
  const key = parseKey(keyText);
  const ck = await contentKey(key, e.iterations > 0 ? password : "", e.salt, e.iterations);
  try {
    return new Uint8Array(await crypto.subtle.decrypt({ name: "AES-GCM", iv: e.iv }, ck, e.ciphertext));
  } catch {
    throw new SealError("decrypt", e.iterations > 0 ? "wrong password or key" : "wrong key");
  }
}

// decodeText turns decrypted bytes into text, refusing bytes that are not
// UTF-8 (the server refuses such pastes, so they mean a foreign format).
export function decodeText(bytes) {
  try {
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    throw new SealError("format", "the decrypted paste is not UTF-8 text");
  }
}
