//! UltraMarket's HTTP gateway and the `ultramarket` binary. It lands with the gateway issue.
