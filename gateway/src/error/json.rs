//! [`AppJson`], the gateway's JSON body extractor, and the mapping of serde's errors to
//! problems that name the field.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::api::{ApiError, FieldError};

/// The gateway's JSON body extractor and response: like `axum::Json`, but every way a body
/// can be wrong answers a problem body.
///
/// - not `Content-Type: application/json` (or `+json`) → 400 `invalid_content_type`
/// - not JSON (syntax error, truncated) → 400 `malformed_json`
/// - JSON of the wrong shape (wrong type, missing or unknown field) → 422 `invalid_body`,
///   with the field's path in `errors`
/// - larger than `MAX_BODY_BYTES` → 413 `payload_too_large`
#[derive(Debug, Clone, Copy, Default)]
pub struct AppJson<T>(pub T);

impl<S, T> FromRequest<S> for AppJson<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        if !is_json(req.headers()) {
            return Err(ApiError::bad_request(
                "invalid_content_type",
                "the body must be JSON, sent with Content-Type: application/json",
            ));
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::PayloadTooLarge
            } else {
                ApiError::bad_request("unreadable_body", rejection.body_text())
            }
        })?;
        parse_json(&bytes).map(AppJson)
    }
}

impl<T: Serialize> IntoResponse for AppJson<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}

fn is_json(headers: &HeaderMap) -> bool {
    let Some(value) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let essence = value.split(';').next().unwrap_or("").trim();
    let Some((kind, subtype)) = essence.split_once('/') else {
        return false;
    };
    kind.eq_ignore_ascii_case("application")
        && (subtype.eq_ignore_ascii_case("json") || subtype.to_ascii_lowercase().ends_with("+json"))
}

/// Parses `bytes` as a `T`, telling syntax errors (400) from shape errors (422) and naming
/// the field where serde stopped.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        match inner.classify() {
            serde_json::error::Category::Data => {
                let message = strip_position(&inner.to_string());
                let field = field_of(&path, &message);
                ApiError::UnprocessableEntity {
                    code: "invalid_body",
                    detail: format!("{field}: {message}"),
                    errors: vec![FieldError::new(field, message)],
                }
            }
            _ => malformed(inner),
        }
    })?;
    // Characters after the value are a syntax error, as with `axum::Json`.
    de.end().map_err(malformed)?;
    Ok(value)
}

fn malformed(e: serde_json::Error) -> ApiError {
    ApiError::bad_request("malformed_json", format!("the body is not valid JSON: {e}"))
}

/// serde_json appends ` at line L column C`; the field path says more to a client.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_owned(),
        None => message.to_owned(),
    }
}

/// serde reports a missing field at the path of the object that lacks it, with the
/// field's name in backquotes in the message; join the two so `errors[].field` names the
/// field itself. An unknown field's path already ends with it.
fn field_of(path: &str, message: &str) -> String {
    let missing = message
        .strip_prefix("missing field `")
        .and_then(|rest| rest.split('`').next());
    match (path, missing) {
        (".", Some(name)) => name.to_owned(),
        (parent, Some(name)) => format!("{parent}.{name}"),
        (".", None) => "body".to_owned(),
        (path, None) => path.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Order {
        quantity: u32,
        lines: Vec<Line>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Line {
        sku: String,
    }

    fn field_errors(e: ApiError) -> (StatusCode, &'static str, Vec<FieldError>) {
        let (status, code) = (e.status(), e.code());
        match e {
            ApiError::UnprocessableEntity { errors, .. } => (status, code, errors),
            _ => (status, code, Vec::new()),
        }
    }

    #[test]
    fn shape_errors_name_the_field() {
        let (status, code, errors) =
            field_errors(parse_json::<Order>(br#"{"quantity": "two", "lines": []}"#).unwrap_err());
        assert_eq!(
            (status, code),
            (StatusCode::UNPROCESSABLE_ENTITY, "invalid_body")
        );
        assert_eq!(errors[0].field, "quantity");
        assert!(errors[0].message.contains("invalid type"), "{errors:?}");
        assert!(!errors[0].message.contains("line 1"), "{errors:?}");

        let (_, _, errors) = field_errors(parse_json::<Order>(br#"{"lines": []}"#).unwrap_err());
        assert_eq!(errors[0].field, "quantity");

        let (_, _, errors) = field_errors(
            parse_json::<Order>(br#"{"quantity": 1, "lines": [{"sku": "a"}, {}]}"#).unwrap_err(),
        );
        assert_eq!(errors[0].field, "lines[1].sku");

        let (_, _, errors) = field_errors(
            parse_json::<Order>(br#"{"quantity": 1, "lines": [], "extra": true}"#).unwrap_err(),
        );
        assert_eq!(errors[0].field, "extra");
    }

    #[test]
    fn syntax_errors_are_400() {
        for body in [
            &br#"{"quantity": 1,"#[..],
            b"not json",
            br#"{"quantity": 1, "lines": []} x"#,
        ] {
            let e = parse_json::<Order>(body).unwrap_err();
            assert_eq!(
                (e.status(), e.code()),
                (StatusCode::BAD_REQUEST, "malformed_json"),
                "{body:?}"
            );
        }
    }

    #[test]
    fn json_content_types() {
        let with = |v: &'static str| {
            let mut h = HeaderMap::new();
            h.insert(
                header::CONTENT_TYPE,
                axum::http::HeaderValue::from_static(v),
            );
            is_json(&h)
        };
        assert!(with("application/json"));
        assert!(with("application/json; charset=utf-8"));
        assert!(with("application/merge-patch+json"));
        assert!(!with("text/plain"));
        assert!(!with("application/jsonx"));
        assert!(!is_json(&HeaderMap::new()));
    }
}
