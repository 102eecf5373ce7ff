"""What every party (office nodes, the gateway, an auditor's offline check) must agree on: records and their
canonical bytes, signatures and keys, Merkle trees, the contract's artifact and codecs, deployment records,
ST.96 parsing, RFC 9457 problems, errors. It imports no other part of the project (make lint checks it)."""
