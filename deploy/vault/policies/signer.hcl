# Vault policy custody-signer. Wrapping keys (transit encrypt/decrypt of sealed signing-key
# material, keys named signer-*) and the sealed material itself in KV. No export, no key
# configuration, no deletion: keys are created and rotated by the key ceremony under quorum,
# not by the service (C-8.2.2.4-c, C-9.3.7.2).
path "custody-transit/encrypt/signer-*" {
  capabilities = ["update"]
}
path "custody-transit/decrypt/signer-*" {
  capabilities = ["update"]
}
path "custody-transit/keys/signer-*" {
  capabilities = ["read"]
}
path "custody-transit/verify/policy-decision" {
  capabilities = ["update"]
}
path "custody-transit/keys/policy-decision" {
  capabilities = ["read"]
}
path "custody-kv/data/signer/*" {
  capabilities = ["create", "read"]
}
path "custody-kv/metadata/signer/*" {
  capabilities = ["read", "list"]
}
