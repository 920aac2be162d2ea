//! The hash chain that makes an export tamper-evident.
//!
//! An export (format `umctl-export/2`) is NDJSON: a header line, one line per event, then a
//! trailer line. Each event line ends with a `"chain"` field, the hash of the previous
//! link and of the line's own bytes up to that field:
//!
//! ```text
//! h_0  = H(header line)                                   {"header":{"format":..,"keyed":..}}
//! h_i  = H(h_{i-1} || line_i without its chain field)      line i ends ,"chain":"<hex h_i>"}
//! head = H(h_n || "end:" || n)                             {"trailer":{"events":n,"head":..}}
//! ```
//!
//! The bytes are hashed as written, never re-serialized, so a change to any field, or a
//! line removed, moved or added, breaks the chain at that line, and cutting lines off the
//! end breaks the head (it covers the count). `H` is SHA-256, or HMAC-SHA-256 when a key
//! is given: without a key the chain proves a file is intact, not who wrote it (anyone can
//! recompute it after an edit); with a key only its holders can.
//!
//! An export without a header is of the first, unchained format: [`Checker`] refuses it
//! unless told to take it on trust.

use std::borrow::Cow;

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

/// The name and version of the chained format, also the chain's seed.
pub const FORMAT: &str = "umctl-export/2";
/// What precedes the hex hash at the end of a chained line.
const FIELD: &str = ",\"chain\":\"";

/// The key of a keyed chain (HMAC-SHA-256); never printed.
#[derive(Clone)]
pub struct ChainKey(Vec<u8>);

impl ChainKey {
    pub fn new(key: impl Into<Vec<u8>>) -> Self {
        ChainKey(key.into())
    }
}

impl std::fmt::Debug for ChainKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ChainKey(***)")
    }
}

impl std::str::FromStr for ChainKey {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        if s.len() < 16 {
            return Err("an export key needs at least 16 characters".into());
        }
        Ok(ChainKey::new(s.as_bytes()))
    }
}

fn hash(key: Option<&ChainKey>, parts: &[&[u8]]) -> [u8; 32] {
    match key {
        None => {
            let mut h = Sha256::new();
            for p in parts {
                h.update(p);
            }
            h.finalize().into()
        }
        Some(k) => {
            let mut m = Hmac::<Sha256>::new_from_slice(&k.0).expect("HMAC takes any key length");
            for p in parts {
                m.update(p);
            }
            m.finalize().into_bytes().into()
        }
    }
}

fn hex(bytes: &[u8; 32]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The running state of a chain, as written or as checked.
pub struct Chain {
    key: Option<ChainKey>,
    last: [u8; 32],
    count: u64,
}

impl Chain {
    /// Starts a chain; answers it with the header line to write first.
    pub fn start(key: Option<ChainKey>) -> (Self, String) {
        let header = header_line(key.is_some());
        (Self::from_header(key, &header), header)
    }

    fn from_header(key: Option<ChainKey>, header: &str) -> Self {
        let last = hash(key.as_ref(), &[header.as_bytes()]);
        Chain {
            key,
            last,
            count: 0,
        }
    }

    /// Chains a serialized JSON object; answers the line to write (without newline).
    pub fn seal(&mut self, object: &str) -> String {
        debug_assert!(object.starts_with('{') && object.ends_with('}'));
        self.last = hash(self.key.as_ref(), &[&self.last, object.as_bytes()]);
        self.count += 1;
        format!(
            "{}{FIELD}{}\"}}",
            &object[..object.len() - 1],
            hex(&self.last)
        )
    }

    fn head(&self) -> String {
        let count = self.count.to_string();
        hex(&hash(
            self.key.as_ref(),
            &[&self.last, b"end:", count.as_bytes()],
        ))
    }

    /// The trailer line closing the chain.
    pub fn trailer(&self) -> String {
        serde_json::json!({ "trailer": { "events": self.count, "head": self.head() } }).to_string()
    }
}

fn header_line(keyed: bool) -> String {
    serde_json::json!({ "header": { "format": FORMAT, "keyed": keyed } }).to_string()
}

/// Why an export is not the file that was written.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ChainError {
    #[error("line {line}: the hash chain breaks here: this line was edited, or a line before it was removed, moved or added{hint}")]
    Broken { line: usize, hint: &'static str },
    #[error("line {line}: {reason}")]
    Malformed { line: usize, reason: String },
    #[error("the trailer (line {line}) does not match the lines above it: {reason}: lines were removed or added at the end, or the trailer was edited")]
    BadTrailer { line: usize, reason: String },
    #[error("no trailer after line {line}: the export is truncated")]
    Truncated { line: usize },
    #[error("the export is empty, without even its header line")]
    Empty,
    #[error("this export is keyed (HMAC): give its key (--key or UMCTL_EXPORT_KEY)")]
    KeyNeeded,
    #[error(
        "a key was given but this export's chain is not keyed, so anyone could have recomputed it"
    )]
    NotKeyed,
    #[error("this export has no hash chain (the format before {FORMAT}): its integrity cannot be checked")]
    Unchained,
}

/// What an export held, once checked to its end.
#[derive(Debug, PartialEq, Eq)]
pub struct Checked {
    pub events: u64,
    /// `false` for an unchained export taken on trust.
    pub chained: bool,
    pub keyed: bool,
}

enum State {
    /// Before the first line.
    Start,
    Chained {
        chain: Chain,
        keyed: bool,
    },
    /// The old format, taken on trust.
    Unchained {
        events: u64,
    },
    /// After the trailer; only blank lines may follow.
    Closed {
        checked: Checked,
    },
}

/// Checks an export line by line. [`Checker::line`] answers each event's JSON (the line
/// without its chain field) so a caller can parse it in the same pass.
pub struct Checker {
    key: Option<ChainKey>,
    allow_unchained: bool,
    state: State,
    last_line: usize,
}

impl Checker {
    pub fn new(key: Option<ChainKey>, allow_unchained: bool) -> Self {
        Checker {
            key,
            allow_unchained,
            state: State::Start,
            last_line: 0,
        }
    }

    /// Feeds line `n` (1-based; blank lines are the caller's to skip). Answers the event's
    /// JSON object, or `None` for the header and the trailer.
    pub fn line<'a>(
        &mut self,
        n: usize,
        text: &'a str,
    ) -> Result<Option<Cow<'a, str>>, ChainError> {
        self.last_line = n;
        match &mut self.state {
            State::Start => {
                if !text.starts_with("{\"header\":") {
                    if !self.allow_unchained {
                        return Err(ChainError::Unchained);
                    }
                    self.state = State::Unchained { events: 1 };
                    return Ok(Some(Cow::Borrowed(text)));
                }
                let header: serde_json::Value =
                    serde_json::from_str(text).map_err(|e| ChainError::Malformed {
                        line: n,
                        reason: format!("an unreadable header: {e}"),
                    })?;
                if header["header"]["format"] != FORMAT {
                    return Err(ChainError::Malformed {
                        line: n,
                        reason: format!("an unknown format {}", header["header"]["format"]),
                    });
                }
                let keyed = header["header"]["keyed"] == true;
                match (keyed, self.key.is_some()) {
                    (true, false) => return Err(ChainError::KeyNeeded),
                    (false, true) => return Err(ChainError::NotKeyed),
                    _ => {}
                }
                let chain = Chain::from_header(self.key.take(), text);
                self.state = State::Chained { chain, keyed };
                Ok(None)
            }
            State::Unchained { events } => {
                if text.starts_with("{\"header\":") || text.starts_with("{\"trailer\":") {
                    return Err(ChainError::Malformed {
                        line: n,
                        reason: "a header or trailer in an export that began without one".into(),
                    });
                }
                *events += 1;
                Ok(Some(Cow::Borrowed(text)))
            }
            State::Chained { chain, keyed } => {
                if text.starts_with("{\"trailer\":") {
                    let trailer: serde_json::Value =
                        serde_json::from_str(text).map_err(|e| ChainError::Malformed {
                            line: n,
                            reason: format!("an unreadable trailer: {e}"),
                        })?;
                    let bad = |reason: String| ChainError::BadTrailer { line: n, reason };
                    let t = &trailer["trailer"];
                    if t["events"].as_u64() != Some(chain.count) {
                        return Err(bad(format!(
                            "it counts {} events, the file holds {}",
                            t["events"], chain.count
                        )));
                    }
                    if t["head"].as_str() != Some(chain.head().as_str()) {
                        return Err(bad("its head is not the chain's".into()));
                    }
                    let checked = Checked {
                        events: chain.count,
                        chained: true,
                        keyed: *keyed,
                    };
                    self.state = State::Closed { checked };
                    return Ok(None);
                }
                let hint = if *keyed && chain.count == 0 {
                    " (or the key is not the one it was written with)"
                } else {
                    ""
                };
                let broken = ChainError::Broken { line: n, hint };
                // `..."chain":"<64 hex>"}`: the field is the line's last, as written.
                let Some(cut) = text.len().checked_sub(FIELD.len() + 66) else {
                    return Err(broken);
                };
                if !text.is_char_boundary(cut) || !text.ends_with("\"}") {
                    return Err(broken);
                }
                let (body, tail) = text.split_at(cut);
                let Some(stated) = tail.strip_prefix(FIELD) else {
                    return Err(broken);
                };
                let object = format!("{body}}}");
                if chain.seal(&object) != format!("{body}{FIELD}{stated}") {
                    return Err(broken);
                }
                Ok(Some(Cow::Owned(object)))
            }
            State::Closed { .. } => Err(ChainError::Malformed {
                line: n,
                reason: "a line after the trailer".into(),
            }),
        }
    }

    /// After the last line: the export is whole only if its trailer came.
    pub fn finish(self) -> Result<Checked, ChainError> {
        match self.state {
            State::Closed { checked } => Ok(checked),
            State::Unchained { events } => Ok(Checked {
                events,
                chained: false,
                keyed: false,
            }),
            State::Start if self.allow_unchained => Ok(Checked {
                events: 0,
                chained: false,
                keyed: false,
            }),
            State::Start => Err(ChainError::Empty),
            State::Chained { .. } => Err(ChainError::Truncated {
                line: self.last_line,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn export(key: Option<ChainKey>, objects: &[&str]) -> Vec<String> {
        let (mut chain, header) = Chain::start(key);
        let mut lines = vec![header];
        lines.extend(objects.iter().map(|o| chain.seal(o)));
        lines.push(chain.trailer());
        lines
    }

    fn check(
        key: Option<ChainKey>,
        lines: &[String],
    ) -> Result<(Checked, Vec<String>), ChainError> {
        let mut checker = Checker::new(key, false);
        let mut events = Vec::new();
        for (i, l) in lines.iter().enumerate() {
            if let Some(e) = checker.line(i + 1, l)? {
                events.push(e.into_owned());
            }
        }
        Ok((checker.finish()?, events))
    }

    const EVENTS: [&str; 3] = [
        r#"{"id":1,"role":"customer"}"#,
        r#"{"id":2,"text":"grüße 🛒"}"#,
        r#"{"id":3}"#,
    ];

    #[test]
    fn an_intact_export_checks_and_gives_back_its_events() {
        let (checked, events) = check(None, &export(None, &EVENTS)).unwrap();
        assert_eq!(
            checked,
            Checked {
                events: 3,
                chained: true,
                keyed: false
            }
        );
        assert_eq!(events, EVENTS);
    }

    #[test]
    fn an_edit_a_removal_a_swap_or_a_cut_is_found_at_its_line() {
        let lines = export(None, &EVENTS);
        let mut edited = lines.clone();
        edited[1] = edited[1].replace("customer", "admin");
        assert_eq!(
            check(None, &edited).unwrap_err(),
            ChainError::Broken { line: 2, hint: "" }
        );

        let mut removed = lines.clone();
        removed.remove(2);
        assert_eq!(
            check(None, &removed).unwrap_err(),
            ChainError::Broken { line: 3, hint: "" }
        );

        let mut swapped = lines.clone();
        swapped.swap(1, 2);
        assert!(matches!(
            check(None, &swapped).unwrap_err(),
            ChainError::Broken { line: 2, .. }
        ));

        let mut last_gone = lines.clone();
        last_gone.remove(3);
        assert!(matches!(
            check(None, &last_gone).unwrap_err(),
            ChainError::BadTrailer { line: 4, .. }
        ));

        let mut no_trailer = lines.clone();
        no_trailer.pop();
        assert_eq!(
            check(None, &no_trailer).unwrap_err(),
            ChainError::Truncated { line: 4 }
        );

        let mut half_trailer = lines.clone();
        let t = half_trailer.pop().unwrap();
        half_trailer.push(t[..t.len() / 2].to_owned());
        assert!(matches!(
            check(None, &half_trailer).unwrap_err(),
            ChainError::Malformed { line: 5, .. }
        ));

        let mut stripped = lines.clone();
        stripped[2] = EVENTS[1].to_owned();
        assert!(matches!(
            check(None, &stripped).unwrap_err(),
            ChainError::Broken { line: 3, .. }
        ));
    }

    #[test]
    fn a_keyed_chain_needs_its_key() {
        let key = || Some(ChainKey::new("a key of sixteen+ bytes"));
        let lines = export(key(), &EVENTS);
        assert!(check(key(), &lines).unwrap().0.keyed);
        assert_eq!(check(None, &lines).unwrap_err(), ChainError::KeyNeeded);
        let other = Some(ChainKey::new("another key, also long"));
        assert!(matches!(
            check(other, &lines).unwrap_err(),
            ChainError::Broken { line: 2, hint } if !hint.is_empty()
        ));
        // Recomputed without the key after an edit: a key holder refuses it.
        let forged = export(None, &EVENTS);
        assert_eq!(check(key(), &forged).unwrap_err(), ChainError::NotKeyed);
    }

    #[test]
    fn an_unchained_export_is_refused_unless_taken_on_trust() {
        let old: Vec<String> = EVENTS.iter().map(|e| e.to_string()).collect();
        assert_eq!(check(None, &old).unwrap_err(), ChainError::Unchained);
        let mut checker = Checker::new(None, true);
        for (i, l) in old.iter().enumerate() {
            assert_eq!(checker.line(i + 1, l).unwrap().unwrap(), EVENTS[i]);
        }
        assert_eq!(
            checker.finish().unwrap(),
            Checked {
                events: 3,
                chained: false,
                keyed: false
            }
        );
    }
}
