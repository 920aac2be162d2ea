//! What an order's input must be before any aggregate is asked: the payment method, the
//! length of the notes, how many lines. Placing an order and checking a cart out share
//! them, so both answer the same refusal for the same input.

/// The most lines one order holds.
pub const MAX_LINES: usize = 100;
/// The longest note a customer may leave on an order, in characters.
pub const MAX_NOTES: usize = 2_000;
/// The one payment method the engine takes.
pub const CARD: &str = "card";

/// Input an order refuses. The message is the one a client reads beside the field's name,
/// which the caller knows (`payment_method` when placing, `method` when paying).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OrderInputError {
    #[error("the only method is \"card\"")]
    UnknownPaymentMethod,
    #[error("must be at most {MAX_NOTES} characters")]
    NotesTooLong,
    #[error("must hold 1 to {MAX_LINES} items")]
    LineCount,
    /// Free text the rule of `crate::value` refuses (control characters).
    #[error("{}", .0.message)]
    Text(crate::value::InvalidValue),
}

/// Only cards are taken.
pub fn check_payment_method(method: &str) -> Result<(), OrderInputError> {
    if method == CARD {
        Ok(())
    } else {
        Err(OrderInputError::UnknownPaymentMethod)
    }
}

/// Notes count characters, not bytes: the limit is what a customer can type. They may
/// span lines; other control characters are refused (`crate::value::paragraphs`).
pub fn check_notes(notes: Option<&str>) -> Result<(), OrderInputError> {
    match notes {
        Some(n) if n.chars().count() > MAX_NOTES => Err(OrderInputError::NotesTooLong),
        Some(n) => crate::value::paragraphs("notes", n, MAX_NOTES)
            .map(drop)
            .map_err(OrderInputError::Text),
        None => Ok(()),
    }
}

/// An order asks for 1 to [`MAX_LINES`] lines.
pub fn check_line_count(lines: usize) -> Result<(), OrderInputError> {
    if (1..=MAX_LINES).contains(&lines) {
        Ok(())
    } else {
        Err(OrderInputError::LineCount)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_card_pays() {
        assert_eq!(check_payment_method("card"), Ok(()));
        assert_eq!(
            check_payment_method("Card"),
            Err(OrderInputError::UnknownPaymentMethod)
        );
        assert_eq!(
            OrderInputError::UnknownPaymentMethod.to_string(),
            "the only method is \"card\""
        );
    }

    #[test]
    fn notes_are_limited_in_characters_not_bytes() {
        assert_eq!(check_notes(None), Ok(()));
        // 2000 two-byte characters are 4000 bytes and still within the limit.
        assert_eq!(check_notes(Some(&"é".repeat(MAX_NOTES))), Ok(()));
        assert_eq!(
            check_notes(Some(&"a".repeat(MAX_NOTES + 1))),
            Err(OrderInputError::NotesTooLong)
        );
        assert_eq!(
            OrderInputError::NotesTooLong.to_string(),
            "must be at most 2000 characters"
        );
    }

    #[test]
    fn an_order_has_one_to_a_hundred_lines() {
        assert_eq!(check_line_count(0), Err(OrderInputError::LineCount));
        assert_eq!(check_line_count(1), Ok(()));
        assert_eq!(check_line_count(MAX_LINES), Ok(()));
        assert_eq!(check_line_count(101), Err(OrderInputError::LineCount));
        assert_eq!(
            OrderInputError::LineCount.to_string(),
            "must hold 1 to 100 items"
        );
    }
}
