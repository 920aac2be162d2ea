//! An aggregate's state as JSON, read from its `Debug` text. States are not `Serialize`
//! (they are the command side's own, and change with it), but every one is `Debug`: its
//! text is regular enough to read back as a tree, so every aggregate is shown the same way
//! without a second description of its shape to keep in step.
//!
//! How the text becomes JSON: `Name { f: v }` an object of its fields (the type's name
//! dropped, as serde drops it); `None` null; `Some(v)` and any other one-field tuple
//! (`OrderId(…)`) the value inside; `Name(a, b)` and `(a, b)` an array; `[…]` and a set's
//! `{a, b}` an array; a map's `{k: v}` an object with its keys as text; strings and chars
//! as strings; `true`/`false`; integers and numbers that read back to the same text as
//! numbers; any other bare word (`Paid`, a time, a UUID, `12.50`) as a string.

use serde_json::{Map, Number, Value};

/// Why a text is not `Debug` output this reader knows.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unreadable Debug text at character {at}: {what}")]
pub struct Unreadable {
    pub at: usize,
    pub what: &'static str,
}

/// `text`, a value's `{:?}` or `{:#?}`, as JSON.
pub fn parse(text: &str) -> Result<Value, Unreadable> {
    let mut p = Parser {
        s: text.chars().collect(),
        i: 0,
    };
    let v = p.value()?;
    p.blank();
    if p.i < p.s.len() {
        return Err(p.error("text after the value"));
    }
    Ok(v)
}

struct Parser {
    s: Vec<char>,
    i: usize,
}

impl Parser {
    fn error(&self, what: &'static str) -> Unreadable {
        Unreadable { at: self.i, what }
    }

    fn peek(&self) -> Option<char> {
        self.s.get(self.i).copied()
    }

    fn blank(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.i += 1;
        }
    }

    fn eat(&mut self, c: char) -> bool {
        self.blank();
        if self.peek() == Some(c) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    fn value(&mut self) -> Result<Value, Unreadable> {
        self.blank();
        match self.peek() {
            None => Err(self.error("a value was expected")),
            Some('"') => self.string('"').map(Value::String),
            Some('\'') => self.string('\'').map(Value::String),
            Some('[') => {
                self.i += 1;
                self.items(']').map(Value::Array)
            }
            Some('(') => {
                self.i += 1;
                let items = self.items(')')?;
                Ok(tuple(items))
            }
            Some('{') => {
                self.i += 1;
                self.braces()
            }
            Some(_) => {
                let word = self.word();
                if word.is_empty() {
                    return Err(self.error("a value was expected"));
                }
                let named = word.starts_with(|c: char| c.is_alphabetic() || c == '_');
                self.blank();
                match self.peek() {
                    Some('{') if named => {
                        self.i += 1;
                        self.fields()
                    }
                    Some('(') if named => {
                        self.i += 1;
                        let items = self.items(')')?;
                        Ok(tuple(items))
                    }
                    _ => Ok(bare(&word)),
                }
            }
        }
    }

    /// A bare word: everything up to a delimiter or blank.
    fn word(&mut self) -> String {
        let start = self.i;
        while self
            .peek()
            .is_some_and(|c| !c.is_whitespace() && !",:()[]{}\"".contains(c))
        {
            self.i += 1;
        }
        // A time's `12:30:00` holds colons: a colon followed by a digit stays in the word.
        while self.peek() == Some(':') && self.s.get(self.i + 1).is_some_and(char::is_ascii_digit) {
            self.i += 1;
            while self
                .peek()
                .is_some_and(|c| !c.is_whitespace() && !",:()[]{}\"".contains(c))
            {
                self.i += 1;
            }
        }
        self.s[start..self.i].iter().collect()
    }

    fn string(&mut self, quote: char) -> Result<String, Unreadable> {
        self.i += 1;
        let mut out = String::new();
        loop {
            match self.peek() {
                None => return Err(self.error("an unterminated string")),
                Some(c) if c == quote => {
                    self.i += 1;
                    return Ok(out);
                }
                Some('\\') => {
                    self.i += 1;
                    let c = self.peek().ok_or_else(|| self.error("an escape"))?;
                    self.i += 1;
                    match c {
                        'n' => out.push('\n'),
                        't' => out.push('\t'),
                        'r' => out.push('\r'),
                        '0' => out.push('\0'),
                        'u' => {
                            if !self.eat('{') {
                                return Err(self.error("a \\u{…} escape"));
                            }
                            let start = self.i;
                            while self.peek().is_some_and(|c| c != '}') {
                                self.i += 1;
                            }
                            let hex: String = self.s[start..self.i].iter().collect();
                            self.i += 1;
                            let c = u32::from_str_radix(&hex, 16)
                                .ok()
                                .and_then(char::from_u32)
                                .ok_or_else(|| self.error("a \\u{…} escape"))?;
                            out.push(c);
                        }
                        other => out.push(other),
                    }
                }
                Some(c) => {
                    out.push(c);
                    self.i += 1;
                }
            }
        }
    }

    /// Values separated by commas up to `close` (a trailing comma allowed).
    fn items(&mut self, close: char) -> Result<Vec<Value>, Unreadable> {
        let mut items = Vec::new();
        loop {
            if self.eat(close) {
                return Ok(items);
            }
            items.push(self.value()?);
            if !self.eat(',') {
                if self.eat(close) {
                    return Ok(items);
                }
                return Err(self.error("a comma or a closing bracket"));
            }
        }
    }

    /// A struct's `f: v, …}`; `..` (fields left out) is skipped.
    fn fields(&mut self) -> Result<Value, Unreadable> {
        let mut out = Map::new();
        loop {
            if self.eat('}') {
                return Ok(Value::Object(out));
            }
            self.blank();
            if self.s[self.i..].starts_with(&['.', '.']) {
                self.i += 2;
                continue;
            }
            let name = self.word();
            if name.is_empty() || !self.eat(':') {
                return Err(self.error("a field name and a colon"));
            }
            let v = self.value()?;
            out.insert(name, v);
            if !self.eat(',') {
                if self.eat('}') {
                    return Ok(Value::Object(out));
                }
                return Err(self.error("a comma or a closing brace"));
            }
        }
    }

    /// A map's `k: v, …}` or a set's `a, b}`.
    fn braces(&mut self) -> Result<Value, Unreadable> {
        let mut map = Map::new();
        let mut set = Vec::new();
        loop {
            if self.eat('}') {
                break;
            }
            let item = self.value()?;
            if self.eat(':') {
                let v = self.value()?;
                map.insert(key(item), v);
            } else {
                set.push(item);
            }
            if !self.eat(',') {
                if self.eat('}') {
                    break;
                }
                return Err(self.error("a comma or a closing brace"));
            }
        }
        Ok(if set.is_empty() {
            Value::Object(map)
        } else {
            Value::Array(set)
        })
    }
}

fn tuple(mut items: Vec<Value>) -> Value {
    match items.len() {
        0 => Value::Null,
        1 => items.pop().unwrap_or(Value::Null),
        _ => Value::Array(items),
    }
}

fn key(v: Value) -> String {
    match v {
        Value::String(s) => s,
        other => other.to_string(),
    }
}

fn bare(word: &str) -> Value {
    match word {
        "None" | "()" => return Value::Null,
        "true" => return Value::Bool(true),
        "false" => return Value::Bool(false),
        _ => {}
    }
    if let Ok(n) = word.parse::<i64>() {
        return Value::Number(n.into());
    }
    if let Ok(n) = word.parse::<u64>() {
        return Value::Number(n.into());
    }
    // A decimal whose text the number would not keep (`12.50`) stays text.
    if let Some(n) = word
        .parse::<f64>()
        .ok()
        .filter(|n| n.to_string() == word)
        .and_then(Number::from_f64)
    {
        return Value::Number(n);
    }
    Value::String(word.to_owned())
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};

    use serde_json::json;

    use super::parse;

    #[derive(Debug)]
    #[allow(dead_code)] // read through Debug only
    struct Id(u32);

    #[derive(Debug)]
    #[allow(dead_code)] // read through Debug only
    enum Status {
        Paid,
        Cancelled { reason: String },
    }

    #[derive(Debug)]
    #[allow(dead_code)] // read through Debug only
    struct State {
        id: Id,
        name: Option<String>,
        gone: Option<u8>,
        status: Status,
        before: Status,
        lines: Vec<(u8, char)>,
        prices: BTreeMap<String, f64>,
        tags: BTreeSet<&'static str>,
        at: chrono::DateTime<chrono::Utc>,
        empty: Vec<u8>,
        ok: bool,
        neg: i32,
    }

    #[test]
    fn debug_text_reads_back_as_json_compact_or_pretty() {
        let at = "2026-12-06T09:55:51.123Z".parse().unwrap();
        let state = State {
            id: Id(7),
            name: Some("Ann \"A\" \\ O'Neil\n".into()),
            gone: None,
            status: Status::Paid,
            before: Status::Cancelled {
                reason: "late, sorry".into(),
            },
            lines: vec![(2, 'x')],
            prices: BTreeMap::from([("a b".to_owned(), 1.5)]),
            tags: BTreeSet::from(["red", "blue"]),
            at,
            empty: vec![],
            ok: true,
            neg: -3,
        };
        let want = json!({
            "id": 7, "name": "Ann \"A\" \\ O'Neil\n", "gone": null, "status": "Paid",
            "before": { "reason": "late, sorry" }, "lines": [[2, "x"]],
            "prices": { "a b": 1.5 }, "tags": ["blue", "red"],
            "at": "2026-12-06T09:55:51.123Z", "empty": [], "ok": true, "neg": -3,
        });
        assert_eq!(parse(&format!("{state:?}")).unwrap(), want);
        assert_eq!(parse(&format!("{state:#?}")).unwrap(), want);
        assert_eq!(parse("12.50").unwrap(), json!("12.50"));
        assert!(parse("Foo { a: 1").is_err());
        assert!(parse("1 2").is_err());
    }
}
