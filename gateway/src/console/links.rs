//! Query strings and paths as the pages write them: every value percent-encoded, blank
//! ones left out.

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

/// What stays readable in a query value or a path segment.
const ENCODED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// `path?k=v&...` with the pairs whose value is set and not blank.
pub fn with_query(path: &str, pairs: &[(&str, Option<&str>)]) -> String {
    let query: Vec<String> = pairs
        .iter()
        .filter_map(|(k, v)| v.filter(|v| !v.is_empty()).map(|v| (k, v)))
        .map(|(k, v)| format!("{k}={}", utf8_percent_encode(v, ENCODED)))
        .collect();
    if query.is_empty() {
        path.to_owned()
    } else {
        format!("{path}?{}", query.join("&"))
    }
}

/// The console page of one stream.
pub fn stream(stream_id: &str) -> String {
    format!("/admin/streams/{}", segment(stream_id))
}

/// `value` as one path segment.
pub fn segment(value: &str) -> String {
    utf8_percent_encode(value, ENCODED).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_encoded_and_blanks_left_out() {
        assert_eq!(
            with_query(
                "/admin/events",
                &[("type", Some("A&B")), ("category", Some("")), ("x", None)]
            ),
            "/admin/events?type=A%26B"
        );
        assert_eq!(stream("order-1/2"), "/admin/streams/order-1%2F2");
    }
}
