/**
 * SCEP (RFC 8894) identifiers: the pkiMessage signed attributes, message types, statuses and
 * failure codes, with Apple-compatible capability strings.
 */

/** OIDs of the SCEP signed attributes (RFC 8894 §3.2.1). */
export const ScepOid = {
  messageType: '2.16.840.1.113733.1.9.2',
  pkiStatus: '2.16.840.1.113733.1.9.3',
  failInfo: '2.16.840.1.113733.1.9.4',
  senderNonce: '2.16.840.1.113733.1.9.5',
  recipientNonce: '2.16.840.1.113733.1.9.6',
  transactionId: '2.16.840.1.113733.1.9.7',
  failInfoText: '1.3.6.1.5.5.7.24.1',
} as const;

/** pkiMessage types by name (RFC 8894 §3.2.1.2). */
export const MessageType = {
  CertRep: 3,
  RenewalReq: 17,
  PKCSReq: 19,
  CertPoll: 20,
  GetCert: 21,
  GetCRL: 22,
} as const;

/** A message type name. */
export type MessageTypeName = keyof typeof MessageType;

/** pkiStatus values. */
export const PkiStatus = { SUCCESS: 0, FAILURE: 2, PENDING: 3 } as const;

/** A pkiStatus name. */
export type PkiStatusName = keyof typeof PkiStatus;

/** failInfo values (RFC 8894 §3.2.1.4). */
export const FailInfo = {
  badAlg: 0,
  badMessageCheck: 1,
  badRequest: 2,
  badTime: 3,
  badCertId: 4,
} as const;

/** A failInfo name. */
export type FailInfoName = keyof typeof FailInfo;

/** Content types of SCEP HTTP responses. */
export const ScepContentType = {
  pkiMessage: 'application/x-pki-message',
  caCert: 'application/x-x509-ca-cert',
  caRaCert: 'application/x-x509-ca-ra-cert',
  caps: 'text/plain',
} as const;

const messageTypeNames: ReadonlyMap<number, MessageTypeName> = new Map(
  Object.entries(MessageType).map(([name, v]) => [v, name as MessageTypeName]),
);

/** The message type name of a number, or `undefined`. */
export function messageTypeName(value: number): MessageTypeName | undefined {
  return messageTypeNames.get(value);
}
