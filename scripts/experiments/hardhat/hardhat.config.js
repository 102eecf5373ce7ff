// A fresh local hardhat node for `ipreg experiment` (chain: hardhat). Nothing is compiled here: the
// harness deploys the registry's shipped bytecode. The harness passes the chain id, the funded accounts
// (private keys) and the block gas limit in the environment.
const accounts = JSON.parse(process.env.IPREG_HARDHAT_ACCOUNTS || "[]");

module.exports = {
  paths: { sources: "./no-sources", cache: "./.cache", artifacts: "./.artifacts" },
  networks: {
    hardhat: {
      chainId: Number(process.env.IPREG_HARDHAT_CHAIN_ID || 31337),
      hardfork: "london",
      blockGasLimit: Number(process.env.IPREG_HARDHAT_BLOCK_GAS_LIMIT || 30000000),
      accounts: accounts.map((privateKey) => ({ privateKey, balance: "1000000000000000000000000" })),
      mining: { auto: true },
    },
  },
};
