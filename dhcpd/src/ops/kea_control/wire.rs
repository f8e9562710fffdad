//! Kea's command format on the control socket: one JSON map
//! `{"command": NAME, "arguments": {...}}` per connection, answered with
//! `{"arguments": ..., "result": CODE, "text": ...}`, after which the server
//! closes the connection (as Kea 2.2 does). The request needs no newline:
//! it is complete when its JSON value is.

use serde::Serialize;
use serde_json::Value;

/// The command succeeded.
pub const SUCCESS: i32 = 0;
/// The command failed (bad arguments, refused change, failed write).
pub const ERROR: i32 = 1;
/// The command is not supported (unknown, or its hook is not loaded).
pub const UNSUPPORTED: i32 = 2;
/// The command succeeded and found nothing.
pub const EMPTY: i32 = 3;

/// Longest request accepted (a `config-test` carries a whole file).
pub const MAX_COMMAND: usize = 4 * 1024 * 1024;

/// A request.
#[derive(Debug, Clone, PartialEq)]
pub struct Command {
    /// `command`.
    pub name: String,
    /// `arguments`, if given.
    pub arguments: Option<Value>,
}

/// An answer, in Kea's key order.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Answer {
    /// `arguments`, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub arguments: Option<Value>,
    /// `result`: [`SUCCESS`], [`ERROR`], [`UNSUPPORTED`] or [`EMPTY`].
    pub result: i32,
    /// `text`, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
}

impl Answer {
    /// `result` with `text`.
    pub fn text(result: i32, text: impl Into<String>) -> Self {
        Self {
            arguments: None,
            result,
            text: Some(text.into()),
        }
    }

    /// `result` with `text` and `arguments`.
    pub fn with(result: i32, text: impl Into<String>, arguments: Value) -> Self {
        Self {
            arguments: Some(arguments),
            result,
            text: Some(text.into()),
        }
    }

    /// Success with `arguments` and no text.
    pub fn arguments(arguments: Value) -> Self {
        Self {
            arguments: Some(arguments),
            result: SUCCESS,
            text: None,
        }
    }

    /// An error answer.
    pub fn error(text: impl Into<String>) -> Self {
        Self::text(ERROR, text)
    }

    /// The answer to a command this server does not offer (Kea's words).
    pub fn unsupported(name: &str) -> Self {
        Self::text(UNSUPPORTED, format!("'{name}' command not supported."))
    }

    /// The answer as JSON text.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|e| {
            format!(r#"{{ "result": 1, "text": "cannot encode the answer: {e}" }}"#)
        })
    }
}

/// What reading a request from the bytes so far gives.
#[derive(Debug, Clone, PartialEq)]
pub enum Parsed {
    /// The JSON value is not complete yet.
    Incomplete,
    /// A command.
    Command(Command),
    /// Not a command: answer this and close.
    Invalid(Answer),
}

/// Reads a request from `bytes`, the connection's input so far.
pub fn parse(bytes: &[u8]) -> Parsed {
    if bytes.len() > MAX_COMMAND {
        return Parsed::Invalid(Answer::error(format!(
            "command too long (over {MAX_COMMAND} bytes)"
        )));
    }
    let mut stream = serde_json::Deserializer::from_slice(bytes).into_iter::<Value>();
    let value = match stream.next() {
        None => return Parsed::Incomplete,
        Some(Err(e)) if e.is_eof() => return Parsed::Incomplete,
        Some(Err(e)) => {
            return Parsed::Invalid(Answer::error(format!("invalid command: not JSON ({e})")));
        }
        Some(Ok(v)) => v,
    };
    Parsed::Command(match command(value) {
        Ok(c) => c,
        Err(a) => return Parsed::Invalid(a),
    })
}

fn command(value: Value) -> Result<Command, Answer> {
    let Value::Object(mut map) = value else {
        return Err(Answer::error("invalid command: not a JSON map"));
    };
    let name = match map.remove("command") {
        Some(Value::String(s)) => s,
        Some(_) => return Err(Answer::error("invalid command: 'command' is not a string")),
        None => {
            return Err(Answer::error(
                "Error during command processing: Invalid answer specified, does not contain mandatory 'command'",
            ));
        }
    };
    Ok(Command {
        name,
        arguments: map.remove("arguments"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_command_is_complete_with_its_json_value() {
        assert_eq!(parse(b""), Parsed::Incomplete);
        assert_eq!(parse(br#"{ "command": "vers"#), Parsed::Incomplete);
        let Parsed::Command(c) =
            parse(br#"{ "command": "lease4-get", "arguments": { "ip-address": "10.99.0.5" } }"#)
        else {
            panic!("a command")
        };
        assert_eq!(c.name, "lease4-get");
        assert_eq!(
            c.arguments,
            Some(serde_json::json!({ "ip-address": "10.99.0.5" }))
        );
        // Kea ignores what it does not use (`service`, sent by kea-shell).
        assert!(matches!(
            parse(br#"{"command":"version-get","service":["dhcp4"]}"#),
            Parsed::Command(_)
        ));
    }

    #[test]
    fn what_is_not_a_command_is_an_error_answer() {
        for bad in [
            &b"not json"[..],
            b"[1]",
            br#"{"arguments":{}}"#,
            br#"{"command":7}"#,
        ] {
            let Parsed::Invalid(a) = parse(bad) else {
                panic!("{bad:?} is invalid")
            };
            assert_eq!(a.result, ERROR);
        }
        let long = vec![b' '; MAX_COMMAND + 1];
        assert!(matches!(parse(&long), Parsed::Invalid(_)));
    }

    #[test]
    fn answers_keep_keas_key_order_and_skip_what_is_absent() {
        let a = Answer::with(
            EMPTY,
            "0 IPv4 lease(s) found.",
            serde_json::json!({ "leases": [] }),
        );
        assert_eq!(
            a.to_json(),
            r#"{"arguments":{"leases":[]},"result":3,"text":"0 IPv4 lease(s) found."}"#
        );
        assert_eq!(
            Answer::unsupported("bogus").to_json(),
            r#"{"result":2,"text":"'bogus' command not supported."}"#
        );
    }
}
