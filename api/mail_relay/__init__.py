"""The tenant's own outbound mail relay: settings (password write-only, sealed at rest) and a test mail."""
