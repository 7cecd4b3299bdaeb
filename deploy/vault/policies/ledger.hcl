# Vault policy custody-ledger. Own KV path only, read only.
path "custody-kv/data/ledger/*" {
  capabilities = ["read"]
}
