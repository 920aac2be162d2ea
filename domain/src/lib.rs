//! UltraMarket's pure domain model (value types, and per aggregate its commands, events,
//! `decide` and `evolve`). It lands with the commerce-domain issue.
