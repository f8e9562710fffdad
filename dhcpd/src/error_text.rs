//! An error and its causes as one line for the terminal.
//!
//! The library errors name their cause in their own message
//! (`cannot read FILE: No such file or directory`) and also expose it as
//! their `source`, as `thiserror` makes them; printing the whole chain would
//! then say the cause twice. [`one_line`] joins the chain with `": "` and
//! leaves out a cause whose text the line already ends with.

/// `e` and its causes on one line, each cause said once.
pub fn one_line(e: &anyhow::Error) -> String {
    let mut line = String::new();
    for cause in e.chain() {
        let text = cause.to_string();
        if line.is_empty() {
            line = text;
        } else if !line.ends_with(&text) {
            line.push_str(": ");
            line.push_str(&text);
        }
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("cannot read {path}: {source}")]
    struct Read {
        path: &'static str,
        source: std::io::Error,
    }

    #[test]
    fn a_cause_named_in_the_message_is_said_once() {
        let io = std::io::Error::new(std::io::ErrorKind::NotFound, "no such file");
        let e = anyhow::Error::new(Read {
            path: "/x",
            source: io,
        })
        .context("invalid configuration /x");
        assert_eq!(
            one_line(&e),
            "invalid configuration /x: cannot read /x: no such file"
        );
    }

    #[test]
    fn causes_not_in_the_message_are_all_kept() {
        let e = anyhow::anyhow!("inner").context("middle").context("outer");
        assert_eq!(one_line(&e), "outer: middle: inner");
    }
}
