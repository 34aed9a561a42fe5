/**
 * Orchard's crypto core: DER, CMS SignedData and EnvelopedData, X.509 issuance, CSRs, PKCS#12,
 * chain verification, one way each. node:crypto underneath, node-forge only to read PKCS#12;
 * see docs/crypto.md.
 */
export * as der from './der.js';
export type { Tlv, DerLimits } from './der.js';
export * as derWrite from './der-write.js';
export { Oid, encodeOid, decodeOid, type DigestName } from './oids.js';
export {
  toCertificate,
  toPrivateKey,
  certificatesFromPem,
  privateKeyToPem,
  generateKeyPairOf,
  type CertificateInput,
  type PrivateKeyInput,
  type KeyType,
} from './keys.js';
export { certInfo, type CertInfo } from './cert-info.js';
export {
  signCms,
  createCertsOnlyCms,
  encodeAttribute,
  type CmsAttribute,
  type SignCmsOptions,
} from './cms-sign.js';
export {
  parseSignedData,
  type ParsedSignedData,
  type ParsedSignerInfo,
  type SignerId,
} from './cms-parse.js';
export {
  verifyCms,
  verifyParsedCms,
  type CmsVerification,
  type VerifyCmsOptions,
} from './cms-verify.js';
export { publicKeyFromSpki } from './spki-key.js';
export { randomPoolBytes } from './random.js';
export {
  encryptCms,
  decryptCms,
  type CmsCipher,
  type EncryptCmsOptions,
  type DecryptCmsOptions,
} from './cms-envelope.js';
export { decryptPkcs1v15 } from './rsa-pkcs1.js';
export { verifyCertificateChain, checkValidity, type ChainOptions } from './chain.js';
export { buildCertificate, type CertificateFields } from './certificate-builder.js';
export {
  createCertificateAuthority,
  issueCertificate,
  findSubjectUid,
  subjectOf,
  type CreateCaOptions,
  type IssueCertificateOptions,
} from './x509.js';
export {
  parseCsr,
  verifyCsr,
  createCsr,
  csrToPem,
  type ParsedCsr,
  type CreateCsrOptions,
  type ParseCsrOptions,
  type KnownKey,
} from './csr.js';
export { importPkcs12, readPkcs12, type Pkcs12Contents, type Pkcs12Bags } from './pkcs12.js';
export { encodeName, decodeName, formatName, parseNameText, type NameAttribute } from './name.js';
export type { KeyUsage, SubjectAltName, RawExtension } from './extensions.js';
export {
  addSecretsKey,
  createSecretsKeyring,
  decodeSecretsKeyFile,
  encodeSecretsKeyFile,
  generateSecretsKey,
  sealerFor,
  type SecretPurpose,
  type SecretSealer,
  type SecretsKey,
  type SecretsKeyring,
  type SecretsKeyringOptions,
} from './secrets-key.js';
