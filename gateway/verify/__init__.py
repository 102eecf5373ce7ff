"""Verdicts and receipts: chain reads at a stated block, state proofs, the verifier, receipts and their
offline check, and the gateway's own signing key."""
