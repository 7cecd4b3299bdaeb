# Vault policy custody-intake. Integrator API client material (e.g. request-signing public
# keys registry seeds) — read only, own path only.
path "custody-kv/data/intake/*" {
  capabilities = ["read"]
}
path "custody-kv/metadata/intake/*" {
  capabilities = ["read", "list"]
}
