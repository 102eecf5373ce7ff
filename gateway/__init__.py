"""The auditors' gateway: chain indexer, query API and verification (see the gateway issue)."""
