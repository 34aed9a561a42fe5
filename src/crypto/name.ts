/**
 * X.501 distinguished names: encode from `CN=...,O=...` text or an RDN list, decode to an RDN
 * list and to text. Text keeps the encoded order (first RDN first), not RFC 4514's reversed order.
 */
import { CryptoError } from '../errors.js';
import {
  printableString,
  sequence,
  setOf,
  tlv,
  utf8String,
  oid as oidElement,
} from './der-write.js';
import { children, contentOf, readDer, stringValue, Tag, type Tlv } from './der.js';
import { decodeOid, nameTypes } from './oids.js';

/** One attribute of a name: a short type (`CN`, `O`, `UID`...) or a dotted OID, and its text value. */
export interface NameAttribute {
  type: string;
  value: string;
}

const oidByShortName = new Map([...nameTypes].map(([k, v]) => [v.toLowerCase(), k]));

function typeOid(type: string): string {
  if (/^\d+(\.\d+)+$/.test(type)) return type;
  const found = oidByShortName.get(type.toLowerCase());
  if (found === undefined) throw new TypeError(`unknown name attribute type ${type}`);
  return found;
}

/**
 * Parses `CN=Orchard CA,O=Example` (backslash escapes `\,` `\+` `\=` `\\` allowed) into attributes.
 * Throws `TypeError` on unknown types or a component without `=`.
 */
export function parseNameText(text: string): NameAttribute[] {
  const out: NameAttribute[] = [];
  const parts: string[] = [];
  let current = '';
  for (let i = 0; i < text.length; i++) {
    const ch = text[i] as string;
    if (ch === '\\' && i + 1 < text.length) {
      current += ch + (text[++i] as string);
    } else if (ch === ',') {
      parts.push(current);
      current = '';
    } else current += ch;
  }
  parts.push(current);
  for (const part of parts) {
    const eq = part.search(/(?<!\\)=/);
    if (eq <= 0) throw new TypeError(`bad name component "${part}"`);
    const type = part.slice(0, eq).trim();
    typeOid(type);
    out.push({
      type,
      value: part
        .slice(eq + 1)
        .trim()
        .replace(/\\(.)/g, '$1'),
    });
  }
  return out;
}

function valueElement(typeId: string, value: string): Buffer {
  // countryName and serialNumber are PrintableString by definition; emails and DCs are IA5String.
  if (typeId === '2.5.4.6' || typeId === '2.5.4.5') return printableString(value);
  if (typeId === '1.2.840.113549.1.9.1' || typeId === '0.9.2342.19200300.100.1.25') {
    return tlv(Tag.IA5_STRING, Buffer.from(value, 'latin1'));
  }
  return utf8String(value);
}

/** Encodes a name (text or attribute list, one attribute per RDN) as DER. Throws `TypeError` on bad input. */
export function encodeName(name: string | readonly NameAttribute[]): Buffer {
  const attrs = typeof name === 'string' ? parseNameText(name) : name;
  return sequence(
    ...attrs.map((a) => {
      const id = typeOid(a.type);
      return setOf(sequence(oidElement(id), valueElement(id, a.value)));
    }),
  );
}

/** Decodes a Name element into attributes in encoded order (multi-valued RDNs flattened). */
export function decodeName(name: Tlv | Uint8Array): NameAttribute[] {
  const tlvName = name instanceof Uint8Array ? readDer(name) : name;
  if (tlvName.tag !== Tag.SEQUENCE) throw new CryptoError('ERR_DER', 'expected a Name');
  const out: NameAttribute[] = [];
  for (const rdn of children(tlvName)) {
    for (const atv of children(rdn)) {
      const [type, value] = children(atv);
      if (type?.tag !== Tag.OID || value === undefined)
        throw new CryptoError('ERR_DER', 'bad name attribute');
      const id = decodeOid(contentOf(type));
      out.push({ type: nameTypes.get(id) ?? id, value: stringValue(value) });
    }
  }
  return out;
}

/** Formats attributes as `CN=...,O=...`, escaping `,`, `+`, `=`, `\`, quotes and angle brackets. */
export function formatName(attrs: readonly NameAttribute[]): string {
  return attrs.map((a) => `${a.type}=${a.value.replace(/[,+=\\"<>;]/g, '\\$&')}`).join(',');
}
