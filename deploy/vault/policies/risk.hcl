# Vault policy custody-risk. Per-vendor screening credentials (C-9.3.10.3-b) — read only.
path "custody-kv/data/risk/*" {
  capabilities = ["read"]
}
path "custody-kv/metadata/risk/*" {
  capabilities = ["read", "list"]
}
