//! The process's rule book as handlers and start-up reach it: through [`AppState`].

use std::sync::Arc;

use super::book::{BookPrices, RuleSet};
use crate::error::ApiError;
use crate::state::AppState;

impl AppState {
    /// Makes the cart's and checkout's use cases price with this gateway's rule book.
    pub fn serve_prices(&self) {
        self.handlers.prices.set(Arc::new(BookPrices {
            book: self.rules.clone(),
            pool: self.pool.clone(),
            followed: self.followed.clone(),
            checkpoints: self.checkpoints.clone(),
        }));
    }

    /// The live price rules now (see [`super::book`]).
    pub async fn current_rules(&self) -> Result<Arc<RuleSet>, ApiError> {
        self.rules
            .current(&self.pool, &self.followed, &self.checkpoints)
            .await
    }
}
