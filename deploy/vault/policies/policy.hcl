# Vault policy custody-policy. Signs decision tokens with the transit key policy-decision
# (never exportable); reads its own KV path.
path "custody-transit/sign/policy-decision" {
  capabilities = ["update"]
}
path "custody-transit/sign/policy-decision/*" {
  capabilities = ["update"]
}
path "custody-transit/keys/policy-decision" {
  capabilities = ["read"]
}
path "custody-kv/data/policy/*" {
  capabilities = ["read"]
}
