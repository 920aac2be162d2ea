//! UltraMarket's read side: the relay, the projection runtime and the read models. It lands
//! with the projections issue.
