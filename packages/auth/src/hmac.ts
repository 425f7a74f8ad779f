/** HS256 keys: a secret's bytes, encoded once per secret instead of on every sign or verify. */
const keys = new Map<string, Uint8Array>();

/** The HMAC key of `secret` (a process holds one or two secrets, so the map stays tiny). */
export function hmacKey(secret: string): Uint8Array {
  let key = keys.get(secret);
  if (!key) {
    key = new TextEncoder().encode(secret);
    keys.set(secret, key);
  }
  return key;
}
