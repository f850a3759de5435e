// Which metadata keys can identify a person, a place or a device. Every tag
// is stripped from outputs anyway; this names the sensitive ones in the
// technical record (keys only: the values are the personal data).
const IDENTIFYING = [
  /gps/, /location/, /iso6709/, /xyz$/, /latitude/, /longitude/,
  /make/, /model/, /serial/, /device/, /manufacturer/, /camera/, /lens/,
  /owner/, /author/, /artist/, /creator/, /encoded_by/, /copyright/, /user/, /comment/, /email/, /software/,
];

export function identifyingTagKeys(keys: string[]): string[] {
  return keys.filter((k) => IDENTIFYING.some((pattern) => pattern.test(k.toLowerCase())));
}
