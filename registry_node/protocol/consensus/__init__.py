"""How the chain's validators seal blocks, and what an auditor trusts them by.

- `headers`: a block header's fields, RLP and hash (up to London, and later forks' fields when present);
- `clique`: go-ethereum's Clique proof of authority: the sealing hash and the sealer a header's seal names;
- `qbft`: Hyperledger Besu's QBFT: the extraData codec and the committed seals' signers;
- `anchor`: the consortium's trust anchor (`ipreg/consortium-anchor/1`): chain id, genesis, contract and
  each office's validators with the blocks they sealed for;
- `finality`: a chain of sealed headers judged against an anchor, with named checks (pure).
"""
