# Vault policy custody-chain-adapter. Node-provider credentials — read only.
path "custody-kv/data/chain-adapter/*" {
  capabilities = ["read"]
}
path "custody-kv/metadata/chain-adapter/*" {
  capabilities = ["read", "list"]
}
