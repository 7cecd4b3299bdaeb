# Vault policy custody-audit. Signs hash-chain checkpoints with transit key audit-log.
path "custody-transit/sign/audit-log" {
  capabilities = ["update"]
}
path "custody-transit/sign/audit-log/*" {
  capabilities = ["update"]
}
path "custody-transit/verify/audit-log" {
  capabilities = ["update"]
}
path "custody-transit/keys/audit-log" {
  capabilities = ["read"]
}
path "custody-kv/data/audit/*" {
  capabilities = ["read"]
}
