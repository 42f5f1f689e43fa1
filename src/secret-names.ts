/**
 * Option and parameter names that hold a credential, as the drivers ferry uses (or will) spell
 * them: pg `password` / `sslpassword` / `ssl.key`, mysql2 `password` / `passwordSha1`, Node TLS
 * `key` / `cert` / `pfx` / `passphrase`, MongoDB `tlsCertificateKeyFilePassword`, ioredis and
 * node-redis `password` / `auth_pass`, Elasticsearch `auth.apiKey` / `bearer`, Cassandra
 * `credentials`, HTTP `auth` and `Authorization` headers, cloud `secretAccessKey` /
 * `sessionToken`. Compared case-insensitively, without `-`, `_` or `.`.
 */
const exactNames = new Set(['pass', 'pwd', 'key', 'cert', 'pfx', 'auth', 'sslkey', 'sslcert', 'tlskey', 'tlscert', 'clientkey'])

// Suffixes, so `sslpassword`, `clientSecret`, `accessToken`, `x-api-key` count too; never a bare
// `key` suffix, which would hide `primaryKey` and `targetKey`.
const secretSuffix =
  /(password|passwd|passwordsha1|passphrase|authpass|secret|token|apikey|credential|credentials|authorization|privatekey|accesskey|secretkey|sessionkey|bearer|pwd)$/

/** Whether a setting, option or URL parameter of this name holds a credential. */
export function isSecretName(name: string): boolean {
  const plain = name.toLowerCase().replace(/[-_.\s]/g, '')
  return exactNames.has(plain) || secretSuffix.test(plain)
}
