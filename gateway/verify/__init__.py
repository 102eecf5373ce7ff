"""Verification: the evidence gathered at a stated block (`evidence`: every chain read through `chain_reads`
and every fetch from an office's deep link), judged without I/O (`judge`) into a verdict (`models`);
receipts written from the same evidence (`receipts`) and judged again offline (`receipt_evidence`); storage
proofs (`state_proofs`) and the gateway's own signing key (`signer`)."""
