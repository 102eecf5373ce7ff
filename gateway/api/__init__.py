"""The gateway's HTTP API: query routes over the read model, verification and receipts."""
